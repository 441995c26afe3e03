// Payment reconciliation: our payments against Stripe's charges, charge by charge (not only by sum).
//
//   start   ─▶ a RUNNING run for a period (default the last 7 days), audited; the worker executes it
//   execute ─▶ Stripe's charges for the period (plus a margin) stream through the SDK's
//              auto-pagination into an UNLOGGED staging table (one COPY on a connection of its own,
//              fed while the next pages download); one SQL join then compares them with our payments
//              by charge id and records totals per currency and each discrepancy. Memory stays flat whatever the size.
//   resolve ─▶ an operator fixes one discrepancy (import the missed charge, mark ours failed or
//              refunded, or accept with a note), after re-checking the charge at Stripe; audited.
//
// A run never changes a payment by itself, and never calls Stripe to move money. Edges: the
// period ends at least SETTLE_MS ago (webhooks for newer charges may still be on their way);
// charges within an hour outside the period are listed too, so a payment whose time differs
// slightly from Stripe's still finds its charge; charges with a webhook still being processed
// are counted as in flight, not as discrepancies.
//
// This module holds a run's life (period, start, sweep, execution, alert, summary); the steps are
// beside it: staging.ts (Stripe into the staging table), compare.ts (the join and the totals),
// resolve.ts (an operator's fix), evidence.ts (the CSV export), context.ts (what they share).
import type { Db, DbTx, JobTrigger, ReconciliationRun } from "@steward/db/client";
import { type Actor, systemActor } from "../actor.ts";
import { type AlertDeps, clearAlert, raiseAlert } from "../alerts.ts";
import { recordAudit } from "../audit.ts";
import { clock } from "../clock.ts";
import type { CoreDeps } from "../deps.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";
import type { JobOutcome } from "../jobRuns.ts";
import { queueReconciliationRun, resumeReconciliationRuns } from "../followUps.ts";
import { assertOperatorCan } from "../permissions.ts";
import { compareAndFinish } from "./compare.ts";
import { type Claim, publishRun, type ReconciliationDeps, SupersededError } from "./context.ts";
import { stageStripeCharges } from "./staging.ts";
import { inTransaction } from "../unitOfWork.ts";

export const DEFAULT_PERIOD_DAYS = 7;
export const MAX_PERIOD_DAYS = 366;
/** Charges newer than this may still have their webhook on the way: a period ends before it. */
export const SETTLE_MS = 10 * 60_000;

/**
 * A RUNNING run whose heartbeat is older than this lost its executor (worker killed, job lost
 * with Redis, or given up by BullMQ after too many stalls): the sweep queues it again, and a new
 * start marks it abandoned. Pages take well under a second and the longest silent step (the
 * comparison of a million charges) some seconds, so a live run always beats well within it.
 */
export const STALE_RUN_MS = 2 * 60_000;
export const ALERT_FINGERPRINT = "reconciliation.mismatch";

const DAY_MS = 86_400_000;

// ───────────────────────────── The period ─────────────────────────────

export interface Period {
  start: Date;
  end: Date;
}

/**
 * The period a run compares: [from, to) in whole seconds (Stripe's `created` is in seconds), by
 * default the last 7 days, never closer to now than SETTLE_MS. Refuses an end before the start
 * and a period over a year.
 */
export function reconciliationPeriod(input: { from?: Date | null; to?: Date | null }, now: Date): Period {
  for (const [field, value] of [
    ["from", input.from],
    ["to", input.to],
  ] as const) {
    if (value != null && Number.isNaN(value.getTime())) throw new InvalidInputError(`${field} is not a date`, field);
  }
  const settled = new Date(now.getTime() - SETTLE_MS);
  const tooRecent = (): InvalidInputError =>
    new InvalidInputError(
      `The period is too recent: charges from the last ${SETTLE_MS / 60_000} minutes are still settling`,
      "from",
    );
  if (input.from && input.to && input.to.getTime() <= input.from.getTime())
    throw new InvalidInputError("The period must end after it starts", "to");
  if (input.from && input.from.getTime() >= settled.getTime()) throw tooRecent();
  const to = input.to ?? settled;
  const from = input.from ?? new Date(to.getTime() - DEFAULT_PERIOD_DAYS * DAY_MS);
  if (to.getTime() <= from.getTime()) throw new InvalidInputError("The period must end after it starts", "to");
  if (to.getTime() - from.getTime() > MAX_PERIOD_DAYS * DAY_MS)
    throw new InvalidInputError(`A period can cover at most a year (${MAX_PERIOD_DAYS} days)`, "from");
  const start = new Date(Math.floor(from.getTime() / 1000) * 1000);
  const end = new Date(Math.floor(Math.min(to.getTime(), settled.getTime()) / 1000) * 1000);
  if (end.getTime() <= start.getTime()) throw tooRecent();
  return { start, end };
}

// ───────────────────────────── Starting ─────────────────────────────

/**
 * Records a RUNNING run for the period; one run at a time (a run abandoned by a dead worker is
 * marked failed first). The caller executes it, or queues it for the worker.
 */
export async function createReconciliationRun(
  deps: Pick<ReconciliationDeps, "db" | "events" | "jobs" | "logger" | "now">,
  actor: Actor,
  input: { from?: Date | null; to?: Date | null },
  trigger: JobTrigger,
): Promise<ReconciliationRun> {
  assertOperatorCan(actor, "operate");
  const now = clock(deps);
  const period = reconciliationPeriod(input, now);
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
    // Serialises concurrent starts: of two at once, the second sees the first and is refused.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('reconciliation.start'))`;
    const running = await tx.reconciliationRun.findFirst({
      where: { status: "RUNNING" },
      orderBy: { startedAt: "desc" },
    });
    if (running && !isStale(running, now))
      throw new ConflictError("A reconciliation run is already underway; wait for it to finish");
    if (running) {
      // Compare-and-set on the heartbeat read: a run the sweep (or a worker) just claimed is live.
      const abandoned = await tx.reconciliationRun.updateMany({
        where: { id: running.id, status: "RUNNING", progressAt: running.progressAt },
        data: { status: "FAILED", finishedAt: now, error: "Abandoned: its worker stopped before it finished" },
      });
      if (abandoned.count === 0)
        throw new ConflictError("A reconciliation run is already underway; wait for it to finish");
    }
    const created = await tx.reconciliationRun.create({
      data: {
        periodStart: period.start,
        periodEnd: period.end,
        trigger,
        startedById: actor.kind === "OPERATOR" ? actor.id : null,
      },
    });
    await recordAudit(tx, actor, {
      action: "reconciliation.start",
      targetType: "ReconciliationRun",
      targetId: created.id,
      after: { periodStart: period.start.toISOString(), periodEnd: period.end.toISOString(), trigger },
    });
    publishRun(unit, created);
    return created;
  });
}

const isStale = (run: Pick<ReconciliationRun, "progressAt">, now: Date): boolean =>
  now.getTime() - run.progressAt.getTime() >= STALE_RUN_MS;

/**
 * The RUNNING run a job without a run id may resume instead of starting another, if nobody else
 * can be executing it: never picked up (its own job still queued resumes it harmlessly after),
 * picked up by an earlier attempt of this same job (BullMQ redelivers only once that attempt's
 * lock expired: its worker died), or with a stale heartbeat. A live run elsewhere (a handler still
 * executing after Redis was flushed, which took the one-at-a-time lock with it) is left alone.
 */
export async function resumableReconciliationRun(
  db: Db,
  jobId: string,
  now: Date = new Date(),
): Promise<ReconciliationRun | null> {
  const running = await db.reconciliationRun.findFirst({
    where: { status: "RUNNING" },
    orderBy: { startedAt: "desc" },
  });
  if (!running) return null;
  return running.jobId === null || running.jobId === jobId || isStale(running, now) ? running : null;
}

/**
 * Hands every RUNNING run whose heartbeat is older than `olderThanMs` to `enqueue` (which queues
 * it under reconciliationJobId in @steward/jobs/contracts, whose job resumes it). Each is claimed first by a compare-and-set
 * on the heartbeat read, so of two sweeps at once only one queues it, and a run that beat in the
 * meantime (live after all) is left alone. Returns the ids handed over.
 */
export async function sweepStalledReconciliationRuns(
  db: Db,
  enqueue: (runIds: string[]) => Promise<void>,
  options: {
    olderThanMs?: number;
    now?: Date;
    /** True while the run's recorded job is still being worked on (silent, not lost): left alone. */
    jobIsActive?: (jobId: string) => Promise<boolean>;
  } = {},
): Promise<string[]> {
  const now = options.now ?? new Date();
  const stalled = await db.reconciliationRun.findMany({
    where: { status: "RUNNING", progressAt: { lt: new Date(now.getTime() - (options.olderThanMs ?? STALE_RUN_MS)) } },
    select: { id: true, progressAt: true, jobId: true },
    orderBy: { progressAt: "asc" },
  });
  const claimed: string[] = [];
  for (const run of stalled) {
    // Taking over a run whose job is still active would stop that execution at its next beat while
    // the re-queue is ignored (same job id): nobody would run it until the next sweep.
    if (run.jobId && (await options.jobIsActive?.(run.jobId))) continue;
    const { count } = await db.reconciliationRun.updateMany({
      where: { id: run.id, status: "RUNNING", progressAt: run.progressAt },
      data: { progressAt: now },
    });
    if (count === 1) claimed.push(run.id);
  }
  if (claimed.length > 0) await enqueue(claimed);
  return claimed;
}

/**
 * The reconciliation-sweep job: stalled runs go back to payment-reconciliation, except a run whose
 * job a worker still holds (silent, not lost).
 */
export function resumeStalledReconciliationRuns(deps: Pick<CoreDeps, "db" | "jobs" | "clock">): Promise<string[]> {
  return sweepStalledReconciliationRuns(deps.db, (runIds) => resumeReconciliationRuns(deps, runIds), {
    now: deps.clock(),
    jobIsActive: (jobId) => deps.jobs.isActive("payment-reconciliation", jobId),
  });
}

/**
 * An operator starts a run, and it is queued for the worker at once (the operator's MANUAL run).
 * Not left to after-commit best effort: a run that cannot be queued is marked FAILED and the
 * operator is told.
 */
export async function startReconciliation(
  deps: Pick<ReconciliationDeps, "db" | "events" | "jobs" | "logger" | "now">,
  actor: Actor,
  input: { from?: Date | null; to?: Date | null },
): Promise<ReconciliationRun> {
  const run = await createReconciliationRun(deps, actor, input, "MANUAL");
  try {
    await queueReconciliationRun(deps, actor, run.id);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const failed = await deps.db.reconciliationRun.update({
      where: { id: run.id },
      data: { status: "FAILED", finishedAt: new Date(), error: `Could not queue the run: ${message.slice(0, 500)}` },
    });
    publishRun(deps.events, failed);
    throw error;
  }
  return run;
}

// ───────────────────────────── Executing ─────────────────────────────

/**
 * The payment-reconciliation job. With a runId it executes the run an operator started
 * (startReconciliation); without one (the schedule, or run-now on the Jobs page, recorded as that
 * operator's run) it starts a run for the default period, or resumes one a killed worker left
 * RUNNING. `jobRunId` is this attempt's JobRun (its BullMQ job id and who triggered it).
 */
export async function runReconciliationJob(
  deps: ReconciliationDeps,
  input: { runId?: string | undefined; jobRunId: string },
): Promise<JobOutcome> {
  const { db } = deps;
  const jobRun = await db.jobRun.findUnique({ where: { id: input.jobRunId }, include: { triggeredBy: true } });
  // Recorded on the run, so this job's redelivery (its worker killed) knows the run as its own.
  const queueJobId = jobRun?.queueJobId ?? null;
  let id = input.runId;
  let resumed = false;
  if (!id) {
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
}

export interface RunOutcome {
  run: ReconciliationRun;
  /** Stripe list requests that failed and were retried from the last charge read (not from the start). */
  resumedPages: number;
  /**
   * Another execution took the run over (its heartbeat moved under this one), or another run is
   * underway: this one stopped without changing the run. Never set on a run this one completed.
   */
  superseded?: boolean;
}

/**
 * Executes a RUNNING (or previously FAILED, when the job retries) run to completion, taking it over
 * from any earlier execution (which stops at its next heartbeat). A COMPLETED run is returned as
 * it is, so a redelivered job changes nothing; a FAILED run is not revived while another run is
 * RUNNING (one run at a time). `jobId` is the BullMQ job executing it, recorded for its redelivery.
 */
export async function executeReconciliationRun(
  deps: ReconciliationDeps,
  runId: string,
  jobId: string | null = null,
): Promise<RunOutcome> {
  const { db } = deps;
  const claimed = await db.$transaction(async (tx) => {
    // Serialised with starts, so a revived FAILED run and a new start cannot both be RUNNING.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('reconciliation.start'))`;
    const existing = await tx.reconciliationRun.findUnique({ where: { id: runId } });
    if (!existing) throw new NotFoundError("ReconciliationRun", runId);
    if (existing.status === "COMPLETED") return { run: existing, claim: null };
    if (existing.status === "FAILED") {
      const other = await tx.reconciliationRun.count({ where: { status: "RUNNING", id: { not: runId } } });
      if (other > 0) return { run: existing, claim: null };
    }
    const beatAt = new Date(Math.max(Date.now(), existing.progressAt.getTime() + 1));
    // Compare-and-set on what was read: an execution finishing right now holds the row until it
    // commits, and its COMPLETED run must not be reopened.
    const { count } = await tx.reconciliationRun.updateMany({
      where: { id: runId, status: existing.status, progressAt: existing.progressAt },
      data: { status: "RUNNING", error: null, finishedAt: null, chargesCompared: 0, progressAt: beatAt, jobId },
    });
    const run = await tx.reconciliationRun.findUniqueOrThrow({ where: { id: runId } });
    if (count === 0) return { run, claim: null };
    return { run, claim: { runId, beatAt } satisfies Claim };
  });
  if (!claimed.claim) return { run: claimed.run, resumedPages: 0, superseded: claimed.run.status !== "COMPLETED" };
  const claim = claimed.claim;
  let run = claimed.run;
  await db.reconciliationCharge.deleteMany({ where: { runId } });
  try {
    const staged = await stageStripeCharges(deps, run, claim);
    run = await compareAndFinish(deps, run, staged.inPeriod, claim);
    await settleAlert(deps, run.id, systemActor("reconciliation"));
    publishRun(deps.events, run);
    return { run, resumedPages: staged.resumes };
  } catch (error) {
    // Taken over: the run and its staged charges now belong to the other execution.
    if (error instanceof SupersededError)
      return {
        run: await db.reconciliationRun.findUniqueOrThrow({ where: { id: runId } }),
        resumedPages: 0,
        superseded: true,
      };
    const message = error instanceof Error ? error.message : String(error);
    const { count } = await db.reconciliationRun.updateMany({
      where: { id: runId, status: "RUNNING", progressAt: claim.beatAt },
      data: { status: "FAILED", finishedAt: new Date(), error: message.slice(0, 2000) },
    });
    if (count === 1) {
      await db.reconciliationCharge.deleteMany({ where: { runId } }).catch(() => undefined);
      publishRun(deps.events, await db.reconciliationRun.findUniqueOrThrow({ where: { id: runId } }));
    }
    throw error;
  }
}

/** Red alert while the latest completed run has open discrepancies; cleared once it has none. */
export async function settleAlert(deps: AlertDeps, runId: string, actor: Actor): Promise<void> {
  const { db } = deps;
  const latest = await db.reconciliationRun.findFirst({
    where: { status: "COMPLETED" },
    orderBy: [{ finishedAt: "desc" }, { id: "desc" }],
    select: { id: true, periodStart: true, periodEnd: true },
  });
  if (!latest || latest.id !== runId) return;
  const open = await openDiscrepancyCount(db, runId);
  if (open > 0) {
    await raiseAlert(
      deps,
      {
        fingerprint: ALERT_FINGERPRINT,
        ruleKey: ALERT_FINGERPRINT,
        severity: "RED",
        title: `Payment reconciliation: ${open} open discrepanc${open === 1 ? "y" : "ies"}`,
        detail: `Our payments and Stripe's charges differ for ${latest.periodStart.toISOString()} – ${latest.periodEnd.toISOString()}; fix them on the Reconciliation page.`,
        labels: { runId },
      },
      new Date(),
    );
  } else {
    await clearAlert(deps, ALERT_FINGERPRINT, `Reconciliation run ${runId} is clean`, actor);
  }
}

// ───────────────────────────── Reading ─────────────────────────────

export async function openDiscrepancyCount(db: DbTx, runId: string): Promise<number> {
  return db.discrepancy.count({ where: { runId, resolvedAt: null } });
}

export interface ReconciliationSummary {
  runId: string;
  status: ReconciliationRun["status"];
  periodStart: Date;
  periodEnd: Date;
  finishedAt: Date | null;
  discrepancies: number;
  openDiscrepancies: number;
  /** Completed with every discrepancy resolved. */
  clean: boolean;
}

/** The latest run's status and open discrepancies (the overview page reads this). */
export async function latestReconciliationSummary(db: Db): Promise<ReconciliationSummary | null> {
  const run = await db.reconciliationRun.findFirst({ orderBy: [{ startedAt: "desc" }, { id: "desc" }] });
  if (!run) return null;
  const open = await openDiscrepancyCount(db, run.id);
  return {
    runId: run.id,
    status: run.status,
    periodStart: run.periodStart,
    periodEnd: run.periodEnd,
    finishedAt: run.finishedAt,
    discrepancies: run.discrepancyCount,
    openDiscrepancies: open,
    clean: run.status === "COMPLETED" && open === 0,
  };
}
