// Every job run is recorded in PostgreSQL: what ran, why, how it went, what it changed.
// BullMQ may deliver a job again (at-least-once); (queueJobId, attempt) keeps one row per attempt.
import { Prisma, type JobTrigger } from "@steward/db/client";
import type { CoreDeps } from "./deps.ts";
import type { EventPublisher } from "./ports/events.ts";

/** Where a run is recorded, and who hears of it (the Jobs page, live). */
export type JobRunDeps = Pick<CoreDeps, "db"> & { events: EventPublisher };

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

export async function startJobRun(deps: JobRunDeps, start: JobRunStart): Promise<string> {
  const run = await deps.db.jobRun.upsert({
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
  deps.events.publish("jobRunRecorded", { jobRunId: run.id, jobName: run.jobName, status: "RUNNING" });
  return run.id;
}

export async function finishJobRun(
  deps: JobRunDeps,
  input: { jobRunId: string; result: { ok: true; outcome: JobOutcome } | { ok: false; error: string } },
): Promise<void> {
  const { db } = deps;
  const { jobRunId, result } = input;
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
  deps.events.publish("jobRunRecorded", { jobRunId: updated.id, jobName: updated.jobName, status: updated.status });
}
