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
import type {
  Db,
  DbTx,
  Discrepancy,
  DiscrepancyKind,
  DiscrepancyResolution,
  JobTrigger,
  Prisma,
  ReconciliationRun,
} from "@steward/db/client";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import { type Actor, actorId, systemActor } from "./actor.ts";
import { clearAlert, raiseAlert } from "./alerts.ts";
import { recordAudit } from "./audit.ts";
import { ConflictError, DomainError, InvalidInputError, NotFoundError } from "./errors.ts";
import type { CopyIn } from "./ports/copyIn.ts";
import type { EventBus } from "./ports/events.ts";
import { METADATA_BUSINESS, syncCharge } from "./payments.ts";
import { assertOperatorCan } from "./permissions.ts";
import { releaseForRefund } from "./placements.ts";
import {
  type GatewayCharge,
  isTransientPaymentsError,
  type PaymentsGateway,
  paymentsErrorCode,
} from "./ports/payments.ts";

export const DEFAULT_PERIOD_DAYS = 7;
export const MAX_PERIOD_DAYS = 366;
/** Charges newer than this may still have their webhook on the way: a period ends before it. */
export const SETTLE_MS = 10 * 60_000;
/** How far outside the period Stripe is listed too, to match our rows near the edges. */
export const EDGE_MARGIN_SECONDS = 3_600;
/**
 * A RUNNING run whose heartbeat is older than this lost its executor (worker killed, job lost
 * with Redis, or given up by BullMQ after too many stalls): the sweep queues it again, and a new
 * start marks it abandoned. Pages take well under a second and the longest silent step (the
 * comparison of a million charges) some seconds, so a live run always beats well within it.
 */
export const STALE_RUN_MS = 2 * 60_000;
export const ALERT_FINGERPRINT = "reconciliation.mismatch";

const DAY_MS = 86_400_000;
const PAGE_SIZE = 100;
const STAGE_BATCH = 1_000;
const PROGRESS_EVERY_MS = 500;
/** How many times a run resumes its listing after Stripe failed beyond the SDK's own retries. */
const MAX_PAGE_RESUMES = 6;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ReconciliationDeps {
  db: Db;
  events: EventBus;
  stripe: PaymentsGateway;
  now?: () => Date;
  /** The staging COPY, on a connection of its own to the database `db` uses. */
  copyIn: CopyIn;
  /** Injectable for tests; the pause between resumed pages. */
  sleep?: (ms: number) => Promise<void>;
}

const clock = (deps: Pick<ReconciliationDeps, "now">): Date => deps.now?.() ?? new Date();
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ───────────────────────────── Errors ─────────────────────────────

export type FixAction = "IMPORT" | "MARK_FAILED" | "MARK_REFUNDED" | "ACCEPT";

/** Which fix applies to which kind. Accepting (with a note) applies to every kind. */
export const FIXES_BY_KIND: Record<DiscrepancyKind, readonly FixAction[]> = {
  MISSING_IN_DB: ["IMPORT", "ACCEPT"],
  MISSING_IN_STRIPE: ["MARK_FAILED", "ACCEPT"],
  AMOUNT_MISMATCH: ["ACCEPT"],
  CURRENCY_MISMATCH: ["ACCEPT"],
  REFUND_MISMATCH: ["MARK_REFUNDED", "ACCEPT"],
};

const RESOLUTION_OF: Record<FixAction, DiscrepancyResolution> = {
  IMPORT: "IMPORTED",
  MARK_FAILED: "MARKED_FAILED",
  MARK_REFUNDED: "MARKED_REFUNDED",
  ACCEPT: "ACCEPTED",
};

/** The fix does not apply to this kind of discrepancy (or to this charge). Nothing changed. */
export class FixNotApplicableError extends DomainError {
  readonly code = "FIX_NOT_APPLICABLE";
  constructor(
    readonly kind: DiscrepancyKind,
    readonly action: FixAction,
    message?: string,
  ) {
    super(
      message ??
        `${action.replace("_", " ").toLowerCase()} does not fix a ${kind.replaceAll("_", " ").toLowerCase()} discrepancy; possible: ${FIXES_BY_KIND[
          kind
        ]
          .map((fix) => fix.replace("_", " ").toLowerCase())
          .join(", ")}`,
    );
  }
}

/** The re-check at Stripe contradicts the fix (Stripe changed since the run). Nothing changed. */
export class StripeDisagreesError extends DomainError {
  readonly code = "STRIPE_DISAGREES";
  constructor(
    message: string,
    readonly stripeStatus: string | null,
  ) {
    super(message);
  }
}

/** Stripe could not be reached for the re-check. Nothing changed; try again. */
export class StripeUnavailableError extends DomainError {
  readonly code = "STRIPE_UNAVAILABLE";
  constructor(detail: string) {
    super(`Stripe could not be reached to re-check the charge; nothing changed. Try again. (${detail.slice(0, 200)})`);
  }
}

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

function publish(events: EventBus, run: Pick<ReconciliationRun, "id" | "status" | "chargesCompared">): void {
  events.publish("reconciliationRunUpdated", {
    runId: run.id,
    status: run.status,
    chargesCompared: run.chargesCompared,
  });
}

/**
 * Records a RUNNING run for the period; one run at a time (a run abandoned by a dead worker is
 * marked failed first). The caller executes it, or queues it for the worker.
 */
export async function createReconciliationRun(
  deps: Pick<ReconciliationDeps, "db" | "events" | "now">,
  actor: Actor,
  input: { from?: Date | null; to?: Date | null },
  trigger: JobTrigger,
): Promise<ReconciliationRun> {
  assertOperatorCan(actor, "operate");
  const now = clock(deps);
  const period = reconciliationPeriod(input, now);
  const run = await deps.db.$transaction(async (tx) => {
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
    return created;
  });
  publish(deps.events, run);
  return run;
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

/** The job id a run is queued under, by the API and by the sweep alike (so never queued twice). */
export const reconciliationJobId = (runId: string): string => `reconciliation-${runId}`;

/**
 * Hands every RUNNING run whose heartbeat is older than `olderThanMs` to `enqueue` (which queues
 * it under reconciliationJobId, whose job resumes it). Each is claimed first by a compare-and-set
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

/** An operator starts a run; `enqueue` hands it to the worker (a run that cannot be queued fails). */
export async function startReconciliation(
  deps: Pick<ReconciliationDeps, "db" | "events" | "now">,
  actor: Actor,
  input: { from?: Date | null; to?: Date | null },
  enqueue: (runId: string) => Promise<void>,
): Promise<ReconciliationRun> {
  const run = await createReconciliationRun(deps, actor, input, "MANUAL");
  try {
    await enqueue(run.id);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const failed = await deps.db.reconciliationRun.update({
      where: { id: run.id },
      data: { status: "FAILED", finishedAt: new Date(), error: `Could not queue the run: ${message.slice(0, 500)}` },
    });
    publish(deps.events, failed);
    throw error;
  }
  return run;
}

// ───────────────────────────── Executing ─────────────────────────────

export interface CurrencyTotal {
  count: number;
  amountCents: number;
  refundedCents: number;
}
export type Totals = Record<string, CurrencyTotal>;

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

/** Thrown inside an execution whose run was taken over; caught by executeReconciliationRun. */
class SupersededError extends Error {}

/**
 * One execution's hold on its run: every write it makes compares-and-sets the heartbeat it last
 * wrote, so once another execution (or the sweep) has moved it, this one stops at its next beat
 * instead of running the same run twice at once.
 */
interface Claim {
  runId: string;
  beatAt: Date;
}

async function beat(db: DbTx, claim: Claim, data: Prisma.ReconciliationRunUpdateManyMutationInput = {}): Promise<void> {
  const at = new Date(Math.max(Date.now(), claim.beatAt.getTime() + 1));
  const { count } = await db.reconciliationRun.updateMany({
    where: { id: claim.runId, status: "RUNNING", progressAt: claim.beatAt },
    data: { ...data, progressAt: at },
  });
  if (count === 0) throw new SupersededError(`Reconciliation run ${claim.runId} was taken over by another execution`);
  claim.beatAt = at;
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
    publish(deps.events, run);
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
      publish(deps.events, await db.reconciliationRun.findUniqueOrThrow({ where: { id: runId } }));
    }
    throw error;
  }
}

/**
 * Streams Stripe's charges for the period (± the edge margin) into the staging table. When a page
 * fails beyond the SDK's own retries (429, 5xx, network), the listing resumes after the last charge
 * already read, so a fault costs one page, not the run.
 *
 * The rows go through one COPY FROM STDIN on a connection of the run's own: Prisma preparing each
 * staged row cost more CPU on this thread than parsing Stripe's pages. The COPY is one transaction,
 * committed only while this execution still holds the run, so a run that fails, is killed or is
 * taken over stages nothing; it stays open across a resumed page.
 */
async function stageStripeCharges(
  deps: ReconciliationDeps,
  run: ReconciliationRun,
  claim: Claim,
): Promise<{ inPeriod: number; resumes: number }> {
  const { db, stripe } = deps;
  const startSec = run.periodStart.getTime() / 1000;
  const endSec = run.periodEnd.getTime() / 1000;
  const listTo = Math.min(endSec + EDGE_MARGIN_SECONDS, Math.floor(clock(deps).getTime() / 1000) + 1);
  const created = { gte: startSec - EDGE_MARGIN_SECONDS, lt: listTo };

  // Set by a failed COPY, connection or progress update (an object, so the closures' writes are visible).
  const failure: { error: Error | null } = { error: null };
  const failed = (error: unknown): void => {
    failure.error ??= error instanceof Error ? error : new Error(String(error));
  };
  // The queued heartbeats; settled before returning either way, so the claim's heartbeat in memory
  // is the one in the row when the caller marks the run FAILED.
  let pending: Promise<void> = Promise.resolve();
  const client = await deps.copyIn.connect();
  client.onError(failed);
  try {
    // The COPY commits only while this execution still holds the run (checked under the run's row
    // lock just before COMMIT): an orphaned execution's rows never land beside its replacement's.
    await client.query("BEGIN");
    const copy = client.copyIn(STAGE_COPY);
    copy.on("error", failed);
    const runId = copyText(run.id);
    let chunk = "";
    let chunkRows = 0;
    let inPeriod = 0;
    let lastProgress = Date.now();
    // Hands the rows read so far to the COPY; while PostgreSQL is behind, waits for the stream to
    // drain (bounded memory), otherwise returns at once so the next pages download meanwhile.
    const rethrow = (): void => {
      if (failure.error) throw failure.error;
    };
    const flush = async (): Promise<void> => {
      rethrow();
      if (chunkRows === 0) return;
      const more = copy.write(chunk);
      chunk = "";
      chunkRows = 0;
      if (!more) await once(copy, "drain");
      rethrow();
    };
    // Progress (throttled): how many of the period's charges have been read. Queued rather than
    // awaited, so the listing does not stall on it; in order, so the published counts only grow,
    // and all written before the comparison starts.
    const progress = (): void => {
      if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
      lastProgress = Date.now();
      const chargesCompared = inPeriod;
      pending = pending
        .then(async () => {
          if (failure.error) return;
          // The heartbeat: a compare-and-set that fails once another execution took the run over.
          await beat(db, claim, { chargesCompared });
          publish(deps.events, { id: run.id, status: "RUNNING", chargesCompared });
        })
        .catch(failed);
    };

    let cursor: string | undefined;
    let resumes = 0;
    let read = 0;
    for (;;) {
      try {
        const list = stripe.charges.iterate({
          created,
          limit: PAGE_SIZE,
          ...(cursor !== undefined ? { starting_after: cursor } : {}),
        });
        for await (const charge of list) {
          const within = charge.created >= startSec && charge.created < endSec;
          if (within) inPeriod++;
          chunk += stagedLine(runId, charge, within);
          cursor = charge.id;
          if (++chunkRows >= STAGE_BATCH) await flush();
          if (++read % PAGE_SIZE === 0) progress();
        }
        break;
      } catch (error) {
        if (failure.error || !isTransientPaymentsError(error) || resumes >= MAX_PAGE_RESUMES) throw error;
        resumes++;
        await (deps.sleep ?? pause)(Math.min(10_000, 250 * 2 ** resumes));
      }
    }
    await flush();
    copy.end();
    await finished(copy);
    await pending;
    if (failure.error) throw failure.error;
    const held = await client.query(
      `SELECT 1 FROM "ReconciliationRun" WHERE id = $1 AND status = 'RUNNING' AND "progressAt" = ($2::timestamptz AT TIME ZONE 'UTC') FOR UPDATE`,
      // Prisma keeps timestamps as UTC without a zone; compare in UTC whatever the session's zone.
      [run.id, claim.beatAt.toISOString()],
    );
    if (held.rowCount !== 1)
      throw new SupersededError(`Reconciliation run ${run.id} was taken over by another execution`);
    await client.query("COMMIT");
    return { inPeriod, resumes };
  } finally {
    await pending.catch(() => undefined);
    // Ending the connection before COMMIT rolls the COPY back: nothing half-staged.
    await client.end().catch(() => undefined);
  }
}

const STAGE_COPY = `COPY "ReconciliationCharge"
  ("runId", "chargeId", "amountCents", "refundedCents", currency, status, refunded, "chargedAt", "inPeriod")
  FROM STDIN (FORMAT text)`;

/** A value in COPY's text format: backslash, tab, newline and carriage return are escaped. */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"))
    : value;
}

/** An integer column: anything else would be refused by PostgreSQL anyway, with a clearer message here. */
function copyInt(value: number, field: string): string {
  if (!Number.isSafeInteger(value)) throw new Error(`Stripe returned a charge whose ${field} is not an integer`);
  return String(value);
}

/** One staged charge as a line of COPY text (runId already escaped); chargedAt in UTC, as Prisma stores it. */
export function stagedLine(runId: string, charge: GatewayCharge, inPeriod: boolean): string {
  const amount = copyInt(charge.amount, "amount");
  const refunded = copyInt(charge.amount_refunded, "amount_refunded");
  const chargedAt = new Date(Number(copyInt(charge.created, "created")) * 1000).toISOString();
  return `${runId}\t${copyText(charge.id)}\t${amount}\t${refunded}\t${copyText(charge.currency.toLowerCase())}\t${copyText(
    charge.status,
  )}\t${charge.refunded ? "t" : "f"}\t${chargedAt}\t${inPeriod ? "t" : "f"}\n`;
}

const RECORDED = `('SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED')`;

/** The comparison, the totals and the run's completion, in one transaction. */
async function compareAndFinish(
  deps: ReconciliationDeps,
  run: ReconciliationRun,
  stripeCharges: number,
  claim: Claim,
): Promise<ReconciliationRun> {
  const { start, end } = { start: run.periodStart, end: run.periodEnd };
  const inFlightSince = new Date(clock(deps).getTime() - 3_600_000);
  const completed = await deps.db.$transaction(
    async (tx) => {
      // Still ours, and locked until this commits: a takeover (its claim waits on the row) then
      // finds the run COMPLETED, so the discrepancies are recorded by one execution only.
      await beat(tx, claim);
      // The planner's row estimates for this query are far too high (it cannot see that at most a
      // few kinds match per charge), which would make it spend seconds JIT-compiling a plan that
      // runs in milliseconds; fresh statistics and enough memory keep the joins hashed in memory.
      await tx.$executeRawUnsafe(`SET LOCAL jit = off`);
      await tx.$executeRawUnsafe(`SET LOCAL work_mem = '64MB'`);
      // A small sample is enough for row counts and the join keys' distinctness, and much cheaper
      // to take than the default 30,000 rows once the staging table holds a million.
      await tx.$executeRawUnsafe(`SET LOCAL default_statistics_target = 10`);
      await tx.$executeRawUnsafe(`ANALYZE "ReconciliationCharge"`);
      const [counts] = await tx.$queryRawUnsafe<{ discrepancies: number; in_flight: number }[]>(
        `WITH s AS NOT MATERIALIZED (SELECT * FROM "ReconciliationCharge" WHERE "runId" = $1::uuid),
        -- Each charge of the period with our payment for it (if any), and each payment of the period
        -- without a charge of the period (with its charge from the margin, if any): one full join,
        -- so each side is scanned and hashed once.
        pairs AS (
          SELECT coalesce(s."chargeId", p."stripeChargeId") AS charge_id, s."amountCents" AS s_amount,
                 s.currency AS s_currency, s.status AS s_status, s.refunded AS s_refunded,
                 s."refundedCents" AS s_refunded_cents, s."chargedAt" AS s_at,
                 p.id AS p_id, p."amountCents" AS p_amount, lower(p.currency) AS p_currency, p.status::text AS p_status,
                 p."refundedCents" AS p_refunded_cents, p."purchasedAt" AS p_at
            FROM s FULL JOIN "Payment" p ON p."stripeChargeId" = s."chargeId"
           WHERE s."inPeriod" OR (s."inPeriod" IS NOT TRUE AND p."purchasedAt" >= $2 AND p."purchasedAt" < $3)
        ),
        found AS (
          SELECT pairs.*, k.kind FROM pairs CROSS JOIN LATERAL (
            SELECT 'MISSING_IN_DB' AS kind
             WHERE s_status = 'succeeded' AND (p_id IS NULL OR p_status IN ('PENDING', 'FAILED'))
            UNION ALL SELECT 'MISSING_IN_STRIPE'
             WHERE p_status IN ${RECORDED} AND (s_status IS NULL OR s_status = 'failed')
            UNION ALL SELECT 'CURRENCY_MISMATCH'
             WHERE s_status = 'succeeded' AND p_status IN ${RECORDED} AND s_currency <> p_currency
            UNION ALL SELECT 'AMOUNT_MISMATCH'
             WHERE s_status = 'succeeded' AND p_status IN ${RECORDED} AND s_amount <> p_amount
            UNION ALL SELECT 'REFUND_MISMATCH'
             WHERE s_status = 'succeeded' AND p_status IN ${RECORDED}
               AND (s_refunded_cents <> p_refunded_cents
                    OR CASE WHEN s_refunded THEN 'REFUNDED' WHEN s_refunded_cents > 0 THEN 'PARTIALLY_REFUNDED'
                            ELSE 'SUCCEEDED' END <> p_status)
          ) k
        ),
        in_flight AS (
          SELECT DISTINCT f.charge_id FROM found f
            JOIN "StripeWebhookEvent" e
              ON e."receivedAt" > $4 AND e.status <> 'PROCESSED'
             AND (e."objectId" = f.charge_id OR e.payload -> 'data' -> 'object' ->> 'charge' = f.charge_id)
        ),
        inserted AS (
          INSERT INTO "Discrepancy" (id, "runId", kind, "stripeChargeId", "paymentId", "stripeAmountCents",
                                     "dbAmountCents", "stripeCurrency", "dbCurrency", "stripeStatus", "dbStatus", "chargedAt")
          SELECT uuid_generate_v7(), $1::uuid, f.kind::"DiscrepancyKind", f.charge_id, f.p_id, f.s_amount, f.p_amount,
                 f.s_currency, f.p_currency,
                 CASE WHEN f.s_status IS NULL THEN NULL WHEN f.s_status <> 'succeeded' THEN f.s_status
                      WHEN f.s_refunded THEN 'refunded' WHEN f.s_refunded_cents > 0 THEN 'partially_refunded'
                      ELSE 'succeeded' END,
                 f.p_status, coalesce(f.s_at, f.p_at)
            FROM found f
           WHERE NOT EXISTS (SELECT 1 FROM in_flight i WHERE i.charge_id = f.charge_id)
           ORDER BY coalesce(f.s_at, f.p_at), f.charge_id, f.kind
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM inserted)::int AS discrepancies, (SELECT count(*) FROM in_flight)::int AS in_flight`,
        run.id,
        start,
        end,
        inFlightSince,
      );
      const stripeTotals = totalsOf(
        await tx.$queryRaw<TotalRow[]>`
          SELECT currency, count(*)::int AS count, sum("amountCents")::bigint AS amount, sum("refundedCents")::bigint AS refunded
            FROM "ReconciliationCharge" WHERE "runId" = ${run.id}::uuid AND "inPeriod" AND status = 'succeeded'
           GROUP BY currency`,
      );
      const dbTotals = totalsOf(
        await tx.$queryRaw<TotalRow[]>`
          SELECT lower(currency) AS currency, count(*)::int AS count, sum("amountCents")::bigint AS amount,
                 sum("refundedCents")::bigint AS refunded
            FROM "Payment"
           WHERE "purchasedAt" >= ${start} AND "purchasedAt" < ${end}
             AND status IN ('SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED')
           GROUP BY lower(currency)`,
      );
      await tx.reconciliationCharge.deleteMany({ where: { runId: run.id } });
      const finished = await tx.reconciliationRun.update({
        where: { id: run.id },
        data: {
          status: "COMPLETED",
          finishedAt: new Date(),
          chargesCompared: stripeCharges,
          discrepancyCount: counts?.discrepancies ?? 0,
          inFlightCount: counts?.in_flight ?? 0,
          stripeTotals: stripeTotals as unknown as Prisma.InputJsonValue,
          dbTotals: dbTotals as unknown as Prisma.InputJsonValue,
        },
      });
      await recordAudit(tx, systemActor("reconciliation"), {
        action: "reconciliation.completed",
        targetType: "ReconciliationRun",
        targetId: run.id,
        after: {
          chargesCompared: stripeCharges,
          discrepancies: finished.discrepancyCount,
          inFlight: finished.inFlightCount,
          stripeTotals: stripeTotals as unknown as Prisma.InputJsonValue,
          dbTotals: dbTotals as unknown as Prisma.InputJsonValue,
        },
      });
      return finished;
    },
    { timeout: 600_000, maxWait: 30_000 },
  );
  return completed;
}

interface TotalRow {
  currency: string;
  count: number;
  amount: bigint | number | null;
  refunded: bigint | number | null;
}

function totalsOf(rows: readonly TotalRow[]): Totals {
  const totals: Totals = {};
  for (const row of rows)
    totals[row.currency] = {
      count: row.count,
      amountCents: Number(row.amount ?? 0),
      refundedCents: Number(row.refunded ?? 0),
    };
  return totals;
}

/** Red alert while the latest completed run has open discrepancies; cleared once it has none. */
async function settleAlert(
  deps: Pick<ReconciliationDeps, "db" | "events">,
  runId: string,
  actor: Actor,
): Promise<void> {
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
      db,
      {
        fingerprint: ALERT_FINGERPRINT,
        ruleKey: ALERT_FINGERPRINT,
        severity: "RED",
        title: `Payment reconciliation: ${open} open discrepanc${open === 1 ? "y" : "ies"}`,
        detail: `Our payments and Stripe's charges differ for ${latest.periodStart.toISOString()} – ${latest.periodEnd.toISOString()}; fix them on the Reconciliation page.`,
        labels: { runId },
      },
      new Date(),
      { events: deps.events },
    );
  } else {
    await clearAlert(db, ALERT_FINGERPRINT, `Reconciliation run ${runId} is clean`, { events: deps.events, actor });
  }
}

// ───────────────────────────── Resolving ─────────────────────────────

async function retrieveCharge(stripe: PaymentsGateway, chargeId: string): Promise<GatewayCharge | null> {
  try {
    return await stripe.charges.retrieve(chargeId);
  } catch (error) {
    if (paymentsErrorCode(error) === "resource_missing") return null;
    if (isTransientPaymentsError(error)) throw new StripeUnavailableError(error instanceof Error ? error.message : "");
    throw error;
  }
}

function stripeStatusOf(charge: GatewayCharge | null): string {
  if (!charge) return "missing";
  if (charge.status !== "succeeded") return charge.status;
  return charge.refunded ? "refunded" : charge.amount_refunded > 0 ? "partially_refunded" : "succeeded";
}

/**
 * An operator fixes one discrepancy. The charge is re-checked at Stripe first; the fix must
 * apply to the discrepancy's kind and agree with Stripe now. Resolving twice is a conflict.
 * Nothing is ever sent to Stripe.
 */
export async function resolveDiscrepancy(
  deps: Pick<ReconciliationDeps, "db" | "events" | "stripe" | "now">,
  actor: Actor,
  discrepancyId: string,
  action: FixAction,
  noteInput: string | null | undefined,
): Promise<Discrepancy> {
  assertOperatorCan(actor, "operate");
  const note = noteInput?.trim() || null;
  if (action === "ACCEPT" && (note === null || note.length < 3))
    throw new InvalidInputError("Say why the difference is accepted (at least 3 characters)", "note");
  if (note !== null && note.length > 2000) throw new InvalidInputError("The note is at most 2000 characters", "note");
  if (!UUID.test(discrepancyId)) throw new NotFoundError("Discrepancy", discrepancyId);
  const found = await deps.db.discrepancy.findUnique({ where: { id: discrepancyId } });
  if (!found) throw new NotFoundError("Discrepancy", discrepancyId);
  if (found.resolvedAt) throw new ConflictError("This discrepancy is already resolved");
  if (!FIXES_BY_KIND[found.kind].includes(action)) throw new FixNotApplicableError(found.kind, action);

  const charge = await retrieveCharge(deps.stripe, found.stripeChargeId);
  const stripeStatus = stripeStatusOf(charge);
  const payment = found.paymentId ? await deps.db.payment.findUnique({ where: { id: found.paymentId } }) : null;
  checkAgainstStripe(found, action, charge, payment);

  const now = clock(deps);
  const resolved = await deps.db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "Discrepancy" WHERE id = ${discrepancyId}::uuid FOR UPDATE`;
    const current = await tx.discrepancy.findUniqueOrThrow({ where: { id: discrepancyId } });
    if (current.resolvedAt) throw new ConflictError("This discrepancy is already resolved");
    const effect = await applyFix(tx, actor, current, action, charge, now);
    const updated = await tx.discrepancy.update({
      where: { id: discrepancyId },
      data: {
        resolution: RESOLUTION_OF[action],
        resolutionNote: note,
        resolvedById: actorId(actor),
        resolvedAt: now,
        ...(effect.paymentId ? { paymentId: effect.paymentId } : {}),
      },
    });
    await recordAudit(tx, actor, {
      action: "reconciliation.resolve",
      targetType: "Discrepancy",
      targetId: discrepancyId,
      before: { kind: current.kind, resolution: null },
      after: {
        resolution: RESOLUTION_OF[action],
        runId: current.runId,
        stripeChargeId: current.stripeChargeId,
        stripeStatusAtCheck: stripeStatus,
        paymentId: effect.paymentId ?? current.paymentId,
        placementStatus: effect.placementStatus,
      },
      ...(note ? { reason: note } : {}),
    });
    return updated;
  });
  await settleAlert(deps, resolved.runId, actor);
  const run = await deps.db.reconciliationRun.findUniqueOrThrow({ where: { id: resolved.runId } });
  publish(deps.events, run);
  return resolved;
}

function checkAgainstStripe(
  discrepancy: Discrepancy,
  action: FixAction,
  charge: GatewayCharge | null,
  payment: { status: string; refundedCents: number } | null,
): void {
  const status = stripeStatusOf(charge);
  if (action === "IMPORT") {
    if (!charge || charge.status !== "succeeded")
      throw new StripeDisagreesError(`Stripe now has this charge as ${status}: there is nothing to import`, status);
    if (!charge.metadata?.[METADATA_BUSINESS])
      throw new FixNotApplicableError(
        discrepancy.kind,
        action,
        "This charge names no business (no business_id metadata), so it is not a placement purchase: accept it with a note",
      );
    if (payment && payment.status === "FAILED")
      throw new FixNotApplicableError(
        discrepancy.kind,
        action,
        "We recorded this charge as failed; a failed payment is never revived automatically: accept it with a note",
      );
  }
  if (action === "MARK_FAILED" && charge && charge.status !== "failed")
    throw new StripeDisagreesError(
      `Stripe now has this charge as ${status}; run reconciliation again before marking it failed`,
      status,
    );
  if (action === "MARK_REFUNDED") {
    if (!charge || charge.amount_refunded <= (payment?.refundedCents ?? 0))
      throw new StripeDisagreesError(
        `Stripe has not refunded more than we recorded (Stripe: ${status}). Steward never refunds by itself: refund through the Refunds page, or accept with a note`,
        status,
      );
  }
}

async function applyFix(
  tx: DbTx,
  actor: Actor,
  discrepancy: Discrepancy,
  action: FixAction,
  charge: GatewayCharge | null,
  now: Date,
): Promise<{ paymentId: string | null; placementStatus: string | null }> {
  switch (action) {
    case "IMPORT":
    case "MARK_REFUNDED": {
      // The webhook's own path: the payment (and placement, or its release) as Stripe has it now.
      if (!charge) throw new Error("unreachable: checked before");
      const sync = await syncCharge(tx, charge, actor);
      if (sync.hold?.reason === "BUSINESS_UNKNOWN")
        throw new FixNotApplicableError(
          discrepancy.kind,
          action,
          `${sync.hold.detail}: add the business to the catalog first`,
        );
      return { paymentId: sync.payment?.id ?? null, placementStatus: sync.placement?.status ?? null };
    }
    case "MARK_FAILED": {
      const paymentId = discrepancy.paymentId;
      if (!paymentId) throw new FixNotApplicableError(discrepancy.kind, action, "No payment of ours to mark failed");
      await tx.$queryRaw`SELECT id FROM "Payment" WHERE id = ${paymentId}::uuid FOR UPDATE`;
      const before = await tx.payment.findUniqueOrThrow({ where: { id: paymentId } });
      await tx.payment.update({ where: { id: paymentId }, data: { status: "FAILED" } });
      // The purchase never happened at Stripe: its placement ends and frees its slot.
      const release = await releaseForRefund(tx, paymentId, now);
      await recordAudit(tx, actor, {
        action: "payment.marked_failed",
        targetType: "Payment",
        targetId: paymentId,
        before: { status: before.status },
        after: {
          status: "FAILED",
          stripeChargeId: before.stripeChargeId,
          placementStatus: release.placement?.status ?? null,
          promotedPlacementIds: release.promoted.map((placement) => placement.id),
        },
      });
      return { paymentId, placementStatus: release.placement?.status ?? null };
    }
    case "ACCEPT":
      return { paymentId: null, placementStatus: null };
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

// ───────────────────────────── Evidence exports ─────────────────────────────

export const EXPORT_COLUMNS = [
  "record",
  "run_id",
  "period_start",
  "period_end",
  "run_status",
  "currency",
  "stripe_count",
  "stripe_amount_cents",
  "stripe_refunded_cents",
  "db_count",
  "db_amount_cents",
  "db_refunded_cents",
  "discrepancy_id",
  "kind",
  "stripe_charge_id",
  "payment_id",
  "charged_at",
  "stripe_amount",
  "db_amount",
  "stripe_currency",
  "db_currency",
  "stripe_status",
  "db_status",
  "resolution",
  "resolution_note",
  "resolved_by",
  "resolved_at",
] as const;
export type ExportColumn = (typeof EXPORT_COLUMNS)[number];
export type ExportRow = Partial<Record<ExportColumn, string | number | null>>;

export interface RunEvidence {
  run: ReconciliationRun & { startedBy: { email: string } | null };
  stripeTotals: Totals;
  dbTotals: Totals;
}

export async function runEvidence(db: Db, runId: string): Promise<RunEvidence> {
  if (!UUID.test(runId)) throw new NotFoundError("ReconciliationRun", runId);
  const run = await db.reconciliationRun.findUnique({
    where: { id: runId },
    include: { startedBy: { select: { email: true } } },
  });
  if (!run) throw new NotFoundError("ReconciliationRun", runId);
  return { run, stripeTotals: run.stripeTotals as unknown as Totals, dbTotals: run.dbTotals as unknown as Totals };
}

/** One row per currency (totals on both sides), then one per discrepancy, in batches (flat memory). */
export async function* exportRows(db: Db, evidence: RunEvidence, batchSize = 1_000): AsyncGenerator<ExportRow[]> {
  const { run } = evidence;
  const common = {
    run_id: run.id,
    period_start: run.periodStart.toISOString(),
    period_end: run.periodEnd.toISOString(),
    run_status: run.status,
  };
  const currencies = [...new Set([...Object.keys(evidence.stripeTotals), ...Object.keys(evidence.dbTotals)])].sort();
  yield currencies.map((currency) => {
    const stripe = evidence.stripeTotals[currency];
    const ours = evidence.dbTotals[currency];
    return {
      record: "totals",
      ...common,
      currency,
      stripe_count: stripe?.count ?? 0,
      stripe_amount_cents: stripe?.amountCents ?? 0,
      stripe_refunded_cents: stripe?.refundedCents ?? 0,
      db_count: ours?.count ?? 0,
      db_amount_cents: ours?.amountCents ?? 0,
      db_refunded_cents: ours?.refundedCents ?? 0,
    };
  });
  let cursor: string | undefined;
  for (;;) {
    const page = await db.discrepancy.findMany({
      where: { runId: run.id },
      orderBy: { id: "asc" },
      take: batchSize,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
      include: { resolvedBy: { select: { email: true } } },
    });
    if (page.length === 0) return;
    yield page.map((d) => ({
      record: "discrepancy",
      ...common,
      discrepancy_id: d.id,
      kind: d.kind,
      stripe_charge_id: d.stripeChargeId,
      payment_id: d.paymentId,
      charged_at: d.chargedAt?.toISOString() ?? null,
      stripe_amount: d.stripeAmountCents,
      db_amount: d.dbAmountCents,
      stripe_currency: d.stripeCurrency,
      db_currency: d.dbCurrency,
      stripe_status: d.stripeStatus,
      db_status: d.dbStatus,
      resolution: d.resolution,
      resolution_note: d.resolutionNote,
      resolved_by: d.resolvedBy?.email ?? null,
      resolved_at: d.resolvedAt?.toISOString() ?? null,
    }));
    cursor = page[page.length - 1]?.id;
  }
}

/** RFC 4180 quoting; a cell starting with = + - @ is prefixed with ' so spreadsheets never run it. */
export function csvLine(values: readonly (string | number | null | undefined)[]): string {
  return `${values
    .map((value) => {
      if (value === null || value === undefined) return "";
      if (typeof value === "number") return String(value);
      const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
      return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
    })
    .join(",")}\r\n`;
}

export function csvRow(row: ExportRow): string {
  return csvLine(EXPORT_COLUMNS.map((column) => row[column]));
}
