// Operator control of jobs: who may run one now, and the audit record of it. Enqueuing itself
// is done by the caller (the API owns its BullMQ queue); this keeps BullMQ out of core.
import type { Db } from "@steward/db/client";
import type { Actor } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { NotFoundError } from "./errors.ts";
import { assertOperatorCan } from "./permissions.ts";

export async function authorizeRunNow(
  db: Db,
  actor: Actor,
  jobName: string,
  knownJobs: readonly string[],
  enqueue: () => Promise<string>,
): Promise<string> {
  assertOperatorCan(actor, "operate");
  if (!knownJobs.includes(jobName)) throw new NotFoundError("Job", jobName);
  const queueJobId = await enqueue();
  await recordAudit(db, actor, { action: "job.runNow", targetType: "Job", targetId: jobName, after: { queueJobId } });
  return queueJobId;
}
