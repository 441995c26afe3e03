// Operator control of jobs: run now, pause, resume — each audited. Enqueuing and scheduling are
// done by the caller through callbacks (the API owns its BullMQ queue); this keeps BullMQ out of core.
import type { Db } from "@steward/db/client";
import type { Actor } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import { assertOperatorCan } from "./permissions.ts";

export async function pausedJobs(db: Db): Promise<Set<string>> {
  const rows = await db.jobSetting.findMany({ where: { paused: true }, select: { jobName: true } });
  return new Set(rows.map((row) => row.jobName));
}

export async function authorizeRunNow(
  db: Db,
  actor: Actor,
  jobName: string,
  knownJobs: readonly string[],
  enqueue: () => Promise<string>,
): Promise<string> {
  assertOperatorCan(actor, "operate");
  if (!knownJobs.includes(jobName)) throw new NotFoundError("Job", jobName);
  if ((await pausedJobs(db)).has(jobName)) throw new ConflictError(`Job '${jobName}' is paused; resume it first`);
  const queueJobId = await enqueue();
  await recordAudit(db, actor, { action: "job.runNow", targetType: "Job", targetId: jobName, after: { queueJobId } });
  return queueJobId;
}

/** Records the pause state, then lets the caller remove or restore the schedule. */
export async function setJobPaused(
  db: Db,
  actor: Actor,
  jobName: string,
  paused: boolean,
  knownJobs: readonly string[],
  applySchedule: () => Promise<void>,
): Promise<void> {
  assertOperatorCan(actor, "operate");
  if (!knownJobs.includes(jobName)) throw new NotFoundError("Job", jobName);
  await db.$transaction(async (tx) => {
    await tx.jobSetting.upsert({
      where: { jobName },
      create: { jobName, paused, updatedById: actor.kind === "OPERATOR" ? actor.id : null },
      update: { paused, updatedById: actor.kind === "OPERATOR" ? actor.id : null },
    });
    await recordAudit(tx, actor, { action: paused ? "job.pause" : "job.resume", targetType: "Job", targetId: jobName });
  });
  await applySchedule();
}
