// Reconciliation, step one: Stripe's charges for a run's period stream into the UNLOGGED staging
// table ReconciliationCharge through one COPY, while the next pages download.
import type { ReconciliationRun } from "@steward/db/client";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import { clock } from "../clock.ts";
import { type GatewayCharge, isTransientPaymentsError } from "../ports/payments.ts";
import { beat, type Claim, pause, publishRun, type ReconciliationDeps, SupersededError } from "./context.ts";

/** How far outside the period Stripe is listed too, to match our rows near the edges. */
export const EDGE_MARGIN_SECONDS = 3_600;

const PAGE_SIZE = 100;
const STAGE_BATCH = 1_000;
const PROGRESS_EVERY_MS = 500;
/** How many times a run resumes its listing after Stripe failed beyond the SDK's own retries. */
const MAX_PAGE_RESUMES = 6;

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
export async function stageStripeCharges(
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
          publishRun(deps.events, { id: run.id, status: "RUNNING", chargesCompared });
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
