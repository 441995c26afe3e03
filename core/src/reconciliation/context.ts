// What the steps of a reconciliation run share: their dependencies, the event that
// reports a run's progress, and one execution's claim on its run (the heartbeat every write
// compares-and-sets, so a run taken over by another execution stops at its next beat).
import type { DbTx, Prisma, ReconciliationRun } from "@steward/db/client";
import type { CoreDeps } from "../deps.ts";
import type { EventPublisher } from "../ports/events.ts";
import type { EffectDeps } from "../unitOfWork.ts";

/**
 * The process's CoreDeps a run uses (`copyIn`: the staging COPY, on a connection of its own to the
 * database `db` uses), with a clock and a pause tests can pin.
 */
export type ReconciliationDeps = Pick<CoreDeps, "db" | "stripe" | "copyIn"> &
  EffectDeps & {
    now?: () => Date;
    /** Injectable for tests; the pause between resumed pages. */
    sleep?: (ms: number) => Promise<void>;
  };

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reports the run's state: on a unit of work's publisher (after its commit) or, once a write has
 * committed on its own (a heartbeat, the end of a step), straight on the process's.
 */
export function publishRun(
  to: EventPublisher,
  run: Pick<ReconciliationRun, "id" | "status" | "chargesCompared">,
): void {
  to.publish("reconciliationRunUpdated", {
    runId: run.id,
    status: run.status,
    chargesCompared: run.chargesCompared,
  });
}

/** Thrown inside an execution whose run was taken over; caught by executeReconciliationRun. */
export class SupersededError extends Error {}

/**
 * One execution's hold on its run: every write it makes compares-and-sets the heartbeat it last
 * wrote, so once another execution (or the sweep) has moved it, this one stops at its next beat
 * instead of running the same run twice at once.
 */
export interface Claim {
  runId: string;
  beatAt: Date;
}

export async function beat(
  db: DbTx,
  claim: Claim,
  data: Prisma.ReconciliationRunUpdateManyMutationInput = {},
): Promise<void> {
  const at = new Date(Math.max(Date.now(), claim.beatAt.getTime() + 1));
  const { count } = await db.reconciliationRun.updateMany({
    where: { id: claim.runId, status: "RUNNING", progressAt: claim.beatAt },
    data: { ...data, progressAt: at },
  });
  if (count === 0) throw new SupersededError(`Reconciliation run ${claim.runId} was taken over by another execution`);
  claim.beatAt = at;
}
