// Daily at 03:30 marketplace time (and on demand): compares our payments with Stripe's charges for
// the last 7 days. With a runId it executes the run an operator started (startReconciliation);
// without one (the schedule, or run-now on the Jobs page) it starts a run for the default period.
// It never changes payments; open discrepancies raise the red reconciliation alert.
import { type Actor, systemActor } from "@steward/core/actor";
import { ConflictError } from "@steward/core/errors";
import {
  createReconciliationRun,
  executeReconciliationRun,
  resumableReconciliationRun,
} from "@steward/core/reconciliation/runs";
import { paymentReconciliation } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const reconciliationJob = handle(
  paymentReconciliation,
  async ({ db, events, jobRunId, payments, copyIn }, { runId }) => {
    const deps = { db, copyIn, events, stripe: payments };
    const jobRun = await db.jobRun.findUnique({ where: { id: jobRunId }, include: { triggeredBy: true } });
    // Recorded on the run, so this job's redelivery (its worker killed) knows the run as its own.
    const queueJobId = jobRun?.queueJobId ?? null;
    let id = runId;
    let resumed = false;
    if (!id) {
      // Run-now from the Jobs page is recorded as the operator's run.
      const operator = jobRun?.triggeredBy;
      const actor: Actor = operator
        ? { kind: "OPERATOR", id: operator.id, email: operator.email, name: operator.name, role: operator.role }
        : systemActor("payment-reconciliation");
      try {
        id = (await createReconciliationRun(deps, actor, {}, jobRun?.trigger === "MANUAL" ? "MANUAL" : "SCHEDULE")).id;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        // A run left RUNNING by a killed worker (this very job, redelivered after the kill, or an
        // operator's never picked up) is resumed rather than left blocking starts. One whose
        // heartbeat is fresh is being executed elsewhere (after a Redis flush this job's lock no
        // longer proves otherwise): it is left to finish, not run twice at once.
        const underway = await resumableReconciliationRun(db, queueJobId ?? "");
        if (!underway) return { summary: "skipped: a reconciliation run is underway", changes: { skipped: true } };
        id = underway.id;
        resumed = true;
      }
    }
    const { run, resumedPages, superseded } = await executeReconciliationRun(deps, id, queueJobId);
    if (superseded)
      return {
        summary: `run ${run.id} left to another execution (${run.status.toLowerCase()})`,
        changes: { runId: run.id, superseded: true },
      };
    return {
      summary: `${resumed ? `resumed run ${run.id}: ` : ""}${run.chargesCompared} charges compared, ${run.discrepancyCount} discrepanc${run.discrepancyCount === 1 ? "y" : "ies"}${run.inFlightCount ? `, ${run.inFlightCount} in flight` : ""}${resumedPages ? ` (${resumedPages} page(s) retried)` : ""}`,
      changes: { runId: run.id, discrepancies: run.discrepancyCount, chargesCompared: run.chargesCompared },
    };
  },
);
