import { builder } from "../builder.ts";

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
  jobRuns: t.prismaConnection(
    {
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
    },
  ),
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
