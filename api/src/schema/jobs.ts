import type { JobRunEvent } from "@steward/core/ports/events";
import { pausedJobs, runJobNow, runnableJobNames, setJobPaused } from "@steward/core/jobControl";
import { ConflictError } from "@steward/core/errors";
import { isJobName, jobContracts } from "@steward/jobs/contracts";
import { z } from "zod";
import { builder } from "../builder.ts";
import { commonMutationErrors } from "./errors.ts";

interface JobInfo {
  name: string;
  description: string;
  schedule: string | null;
  timeZone: string | null;
  canRunNow: boolean;
  paused: boolean;
}

const JobType = builder.objectRef<JobInfo>("Job").implement({
  description: "A job of the worker's catalog.",
  fields: (t) => ({
    name: t.exposeString("name"),
    description: t.exposeString("description"),
    schedule: t.exposeString("schedule", { nullable: true, description: "Cron pattern, if scheduled." }),
    timeZone: t.exposeString("timeZone", { nullable: true }),
    canRunNow: t.exposeBoolean("canRunNow", { description: "False for jobs that need input." }),
    paused: t.exposeBoolean("paused"),
    lastRun: t.prismaField({
      type: "JobRun",
      nullable: true,
      resolve: (query, job, _args, { db }) =>
        db.jobRun.findFirst({ ...query, where: { jobName: job.name }, orderBy: { startedAt: "desc" } }),
    }),
    nextRunAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When the schedule fires next (null when paused or unscheduled).",
      resolve: async (job, _args, { jobs }) => {
        if (!job.schedule || job.paused) return null;
        const scheduler = isJobName(job.name) ? await jobs.queueOf(job.name).getJobScheduler(job.name) : undefined;
        return scheduler?.next ? new Date(scheduler.next) : null;
      },
    }),
  }),
});

const JobRunStatusEnum = builder.enumType("JobRunStatus", { values: ["RUNNING", "SUCCEEDED", "FAILED"] as const });
export const JobTriggerEnum = builder.enumType("JobTrigger", {
  values: ["SCHEDULE", "MANUAL", "EVENT", "RETRY"] as const,
});

builder.prismaNode("JobRun", {
  id: { field: "id" },
  // Also guards node(id:)/nodes(ids:), which do not pass through jobRuns.
  authScopes: { viewer: true },
  fields: (t) => ({
    jobName: t.exposeString("jobName"),
    trigger: t.expose("trigger", { type: JobTriggerEnum }),
    triggeredBy: t.relation("triggeredBy", { nullable: true }),
    attempt: t.exposeInt("attempt"),
    status: t.expose("status", { type: JobRunStatusEnum }),
    startedAt: t.expose("startedAt", { type: "DateTime" }),
    finishedAt: t.expose("finishedAt", { type: "DateTime", nullable: true }),
    durationMs: t.exposeInt("durationMs", { nullable: true }),
    error: t.exposeString("error", { nullable: true }),
    summary: t.exposeString("summary", { nullable: true }),
  }),
});

builder.queryFields((t) => ({
  jobs: t.field({
    type: [JobType],
    authScopes: { viewer: true },
    resolve: async (_root, _args, { db, env }) => {
      const paused = await pausedJobs(db);
      return jobContracts(env).map((job) => ({
        name: job.name,
        description: job.description,
        schedule: job.schedule?.pattern ?? null,
        timeZone: job.schedule?.tz ?? null,
        canRunNow: runnableJobNames.includes(job.name),
        paused: paused.has(job.name),
      }));
    },
  }),
  jobRuns: t.prismaConnection({
    type: "JobRun",
    cursor: "id",
    maxSize: 200,
    description: "Recorded job runs, newest first.",
    authScopes: { viewer: true },
    args: { jobName: t.arg.string({ required: false }) },
    resolve: (query, _root, args, { db }) =>
      db.jobRun.findMany({
        ...query,
        where: args.jobName ? { jobName: args.jobName } : {},
        orderBy: { id: "desc" },
      }),
  }),
}));

builder.subscriptionFields((t) => ({
  jobRunRecorded: t.prismaField({
    type: "JobRun",
    description: "A job run started or finished (from any worker).",
    authScopes: { viewer: true },
    subscribe: (_root, _args, { events }) => events.subscribe("jobRunRecorded"),
    resolve: async (query, event: JobRunEvent, _args, { db }) => {
      const run = await db.jobRun.findUniqueOrThrow({ ...query, where: { id: event.jobRunId } });
      // A fast job finishes before this reads the row: show the run as it was at the event, so
      // subscribers see RUNNING then SUCCEEDED, not SUCCEEDED twice.
      return event.status === "RUNNING" && run.status !== "RUNNING"
        ? { ...run, status: "RUNNING" as const, finishedAt: null, durationMs: null, error: null, summary: null }
        : run;
    },
  }),
}));

builder.mutationFields((t) => ({
  runJobNow: t.field({
    type: "String",
    description: "Queue a run of the job now; returns the queue job id. Its run appears in jobRuns.",
    authScopes: { operator: true },
    errors: { types: [...commonMutationErrors, ConflictError] },
    args: { jobName: t.arg.string({ validate: z.string().min(1).max(100) }) },
    resolve: (_root, args, { actor, deps }) => runJobNow(deps, actor, { jobName: args.jobName }),
  }),
}));

builder.mutationFields((t) => ({
  pauseJob: t.field({
    type: "Boolean",
    description: "Stop a scheduled job from firing (its schedule is removed until resumed).",
    authScopes: { operator: true },
    errors: { types: commonMutationErrors },
    args: { jobName: t.arg.string({ validate: z.string().min(1).max(100) }) },
    resolve: async (_root, args, { actor, deps }) => {
      await setJobPaused(deps, actor, { jobName: args.jobName, paused: true });
      return true;
    },
  }),
  resumeJob: t.field({
    type: "Boolean",
    authScopes: { operator: true },
    errors: { types: commonMutationErrors },
    args: { jobName: t.arg.string({ validate: z.string().min(1).max(100) }) },
    resolve: async (_root, args, { actor, deps }) => {
      await setJobPaused(deps, actor, { jobName: args.jobName, paused: false });
      return true;
    },
  }),
}));
