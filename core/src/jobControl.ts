// Operator control of jobs: run now, pause, resume — each audited. The queue work goes through the
// JobControl port in CoreDeps (@steward/jobs/queue), so BullMQ stays out of core.
import type { Db } from "@steward/db/client";
import { contracts } from "@steward/jobs/contracts";
import type { Actor } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import type { CoreDeps } from "./deps.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import { assertOperatorCan } from "./permissions.ts";

type JobControlDeps = Pick<CoreDeps, "db" | "jobControl">;

const catalog = Object.values(contracts);

/** Jobs an operator may run now: the ones that need no input (score-review needs a review id). */
export const runnableJobNames: readonly string[] = catalog
  .filter((job) => job.payload.safeParse({}).success)
  .map((job) => job.name);

/** Jobs with a schedule: the ones that can be paused and resumed. */
export const scheduledJobNames: readonly string[] = catalog.filter((job) => job.schedule).map((job) => job.name);

export async function pausedJobs(db: Db): Promise<Set<string>> {
  const rows = await db.jobSetting.findMany({ where: { paused: true }, select: { jobName: true } });
  return new Set(rows.map((row) => row.jobName));
}

/** Queues a manual run of a listed, unpaused job; returns the queue job id. */
export async function runJobNow(deps: JobControlDeps, actor: Actor, input: { jobName: string }): Promise<string> {
  const { jobName } = input;
  assertOperatorCan(actor, "operate");
  if (!runnableJobNames.includes(jobName)) throw new NotFoundError("Job", jobName);
  if ((await pausedJobs(deps.db)).has(jobName)) throw new ConflictError(`Job '${jobName}' is paused; resume it first`);
  const queueJobId = await deps.jobControl.runNow(jobName, actor.kind === "OPERATOR" ? actor.id : undefined);
  await recordAudit(deps.db, actor, {
    action: "job.runNow",
    targetType: "Job",
    targetId: jobName,
    after: { queueJobId },
  });
  return queueJobId;
}

/** Records the pause state (audited), then takes the schedule off or puts it back. */
export async function setJobPaused(
  deps: JobControlDeps,
  actor: Actor,
  input: { jobName: string; paused: boolean },
): Promise<void> {
  const { jobName, paused } = input;
  assertOperatorCan(actor, "operate");
  if (!scheduledJobNames.includes(jobName)) throw new NotFoundError("Job", jobName);
  await deps.db.$transaction(async (tx) => {
    await tx.jobSetting.upsert({
      where: { jobName },
      create: { jobName, paused, updatedById: actor.kind === "OPERATOR" ? actor.id : null },
      update: { paused, updatedById: actor.kind === "OPERATOR" ? actor.id : null },
    });
    await recordAudit(tx, actor, { action: paused ? "job.pause" : "job.resume", targetType: "Job", targetId: jobName });
  });
  await (paused ? deps.jobControl.removeSchedule(jobName) : deps.jobControl.restoreSchedule(jobName));
}
