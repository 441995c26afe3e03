// Every job run is recorded in PostgreSQL: what ran, why, how it went, what it changed.
// BullMQ may deliver a job again (at-least-once); (queueJobId, attempt) keeps one row per attempt.
import { Prisma, type Db, type JobTrigger } from "@steward/db/client";
import type { EventBus } from "./ports/events.ts";

export interface JobRunStart {
  jobName: string;
  queueJobId: string;
  trigger: JobTrigger;
  triggeredById?: string | null;
  attempt: number;
}

export interface JobOutcome {
  summary: string;
  changes?: Prisma.InputJsonValue;
}

export async function startJobRun(db: Db, events: EventBus, start: JobRunStart): Promise<string> {
  const run = await db.jobRun.upsert({
    where: { queueJobId_attempt: { queueJobId: start.queueJobId, attempt: start.attempt } },
    create: {
      jobName: start.jobName,
      queueJobId: start.queueJobId,
      trigger: start.trigger,
      triggeredById: start.triggeredById ?? null,
      attempt: start.attempt,
      status: "RUNNING",
    },
    update: { status: "RUNNING", startedAt: new Date(), finishedAt: null, error: null },
  });
  events.publish("jobRunRecorded", { jobRunId: run.id, jobName: run.jobName, status: "RUNNING" });
  return run.id;
}

export async function finishJobRun(
  db: Db,
  events: EventBus,
  jobRunId: string,
  result: { ok: true; outcome: JobOutcome } | { ok: false; error: string },
): Promise<void> {
  const run = await db.jobRun.findUniqueOrThrow({ where: { id: jobRunId } });
  const finishedAt = new Date();
  const updated = await db.jobRun.update({
    where: { id: jobRunId },
    data: {
      status: result.ok ? "SUCCEEDED" : "FAILED",
      finishedAt,
      durationMs: finishedAt.getTime() - run.startedAt.getTime(),
      ...(result.ok
        ? { summary: result.outcome.summary, changes: result.outcome.changes ?? Prisma.DbNull }
        : { error: result.error.slice(0, 4000) }),
    },
  });
  events.publish("jobRunRecorded", { jobRunId: updated.id, jobName: updated.jobName, status: updated.status });
}
