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
}

const JobType = builder.objectRef<JobInfo>("Job").implement({
  description: "A job of the worker's catalog.",
  fields: (t) => ({
    name: t.exposeString("name"),
    description: t.exposeString("description"),
    schedule: t.exposeString("schedule", { nullable: true, description: "Cron pattern, if scheduled." }),
    timeZone: t.exposeString("timeZone", { nullable: true }),
  }),
});

const JobRunStatusEnum = builder.enumType("JobRunStatus", { values: ["RUNNING", "SUCCEEDED", "FAILED"] as const });
const JobTriggerEnum = builder.enumType("JobTrigger", { values: ["SCHEDULE", "MANUAL", "RETRY"] as const });

builder.prismaNode("JobRun", {
  id: { field: "id" },
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
    resolve: (query, event: { jobRunId: string }, _args, { db }) =>
      db.jobRun.findUniqueOrThrow({ ...query, where: { id: event.jobRunId } }),
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
      authorizeRunNow(
        db,
        actor,
        args.jobName,
        jobCatalog.map((job) => job.name),
        async () => {
          const triggeredById = actor.kind === "OPERATOR" ? actor.id : undefined;
          const job = await jobs.add(args.jobName, { trigger: "MANUAL", ...(triggeredById ? { triggeredById } : {}) });
          return job.id ?? "";
        },
      ),
  }),
}));
