// Reconciliation, step two: one SQL join compares the staged charges with our payments by charge
// id, records each discrepancy and the totals per currency, and completes the run.
import type { Prisma, ReconciliationRun } from "@steward/db/client";
import { systemActor } from "../actor.ts";
import { recordAudit } from "../audit.ts";
import { clock } from "../clock.ts";
import { beat, type Claim, type ReconciliationDeps } from "./context.ts";

export interface CurrencyTotal {
  count: number;
  amountCents: number;
  refundedCents: number;
}
export type Totals = Record<string, CurrencyTotal>;

const RECORDED = `('SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED')`;

/** The comparison, the totals and the run's completion, in one transaction. */
export async function compareAndFinish(
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
