import type { JobRunEvent } from "@steward/core/events";
import { authorizeRunNow } from "@steward/core/jobControl";
import { jobCatalog } from "@steward/worker/registry";
import { z } from "zod";
import { builder } from "../builder.ts";
import { commonMutationErrors } from "./errors.ts";

interface JobInfo {
  name: string;
  description: string;
  schedule: string | null;
  timeZone: string | null;
  canRunNow: boolean;
}

// A job can be run from the dashboard when it needs no input (score-review needs a review id).
const runnableJobs = jobCatalog.filter((job) => job.payload.safeParse({}).success).map((job) => job.name);

const JobType = builder.objectRef<JobInfo>("Job").implement({
  description: "A job of the worker's catalog.",
  fields: (t) => ({
    name: t.exposeString("name"),
    description: t.exposeString("description"),
    schedule: t.exposeString("schedule", { nullable: true, description: "Cron pattern, if scheduled." }),
    timeZone: t.exposeString("timeZone", { nullable: true }),
    canRunNow: t.exposeBoolean("canRunNow", { description: "False for jobs that need input." }),
  }),
});

const JobRunStatusEnum = builder.enumType("JobRunStatus", { values: ["RUNNING", "SUCCEEDED", "FAILED"] as const });
const JobTriggerEnum = builder.enumType("JobTrigger", { values: ["SCHEDULE", "MANUAL", "RETRY"] as const });

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
    resolve: () =>
      jobCatalog.map((job) => ({
        name: job.name,
        description: job.description,
        schedule: job.schedule?.pattern ?? null,
        timeZone: job.schedule?.tz ?? null,
        canRunNow: runnableJobs.includes(job.name),
      })),
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
    errors: { types: commonMutationErrors },
    args: { jobName: t.arg.string({ validate: z.string().min(1).max(100) }) },
    resolve: (_root, args, { db, actor, jobs }) =>
      authorizeRunNow(db, actor, args.jobName, runnableJobs, async () => {
        const triggeredById = actor.kind === "OPERATOR" ? actor.id : undefined;
        const job = await jobs.add(args.jobName, { trigger: "MANUAL", ...(triggeredById ? { triggeredById } : {}) });
        return job.id ?? "";
      }),
  }),
}));
