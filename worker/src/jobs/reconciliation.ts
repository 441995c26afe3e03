// Daily at 03:30 marketplace time (and on demand): compares our payments with Stripe's charges for
// the last 7 days. With a runId it executes the run an operator started (startReconciliation);
// without one (the schedule, or run-now on the Jobs page) it starts a run for the default period.
// It never changes payments; open discrepancies raise the red reconciliation alert.
import { type Actor, systemActor } from "@steward/core/actor";
import { ConflictError } from "@steward/core/errors";
import {
  createReconciliationRun,
  executeReconciliationRun,
  runningReconciliationRun,
} from "@steward/core/reconciliation";
import { stripeClientFor } from "@steward/core/stripe";
import { z } from "zod";
import { defineJob } from "./definition.ts";

export const reconciliationJob = defineJob({
  name: "payment-reconciliation",
  description: "Compares our payments with Stripe's charges charge by charge (last 7 days) and records discrepancies.",
  schedule: {
    pattern: "30 3 * * *",
    tz: process.env.MARKETPLACE_TIME_ZONE ?? "Australia/Melbourne",
    everyMinutes: 24 * 60,
  },
  payload: z.object({ runId: z.string().uuid().optional() }).passthrough(),
  async handler({ db, env, events, jobRunId }, { runId }) {
    const deps = { db, databaseUrl: env.DATABASE_URL, events, stripe: stripeClientFor(env) };
    let id = runId;
    let resumed = false;
    if (!id) {
      // Run-now from the Jobs page is recorded as the operator's run.
      const jobRun = await db.jobRun.findUnique({ where: { id: jobRunId }, include: { triggeredBy: true } });
      const operator = jobRun?.triggeredBy;
      const actor: Actor = operator
        ? { kind: "OPERATOR", id: operator.id, email: operator.email, name: operator.name, role: operator.role }
        : systemActor("payment-reconciliation");
      try {
        id = (await createReconciliationRun(deps, actor, {}, jobRun?.trigger === "MANUAL" ? "MANUAL" : "SCHEDULE")).id;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        // A run left RUNNING by a killed worker (this very job, redelivered after the kill, or an
        // operator's): skipping would leave it RUNNING and block every start for half an hour.
        // This job holds the one-at-a-time lock, so nobody else is executing it: resume it.
        const underway = await runningReconciliationRun(db);
        if (!underway) throw error;
        id = underway.id;
        resumed = true;
      }
    }
    const { run, resumedPages } = await executeReconciliationRun(deps, id);
    return {
      summary: `${resumed ? `resumed run ${run.id}: ` : ""}${run.chargesCompared} charges compared, ${run.discrepancyCount} discrepanc${run.discrepancyCount === 1 ? "y" : "ies"}${run.inFlightCount ? `, ${run.inFlightCount} in flight` : ""}${resumedPages ? ` (${resumedPages} page(s) retried)` : ""}`,
      changes: { runId: run.id, discrepancies: run.discrepancyCount, chargesCompared: run.chargesCompared },
    };
  },
});
