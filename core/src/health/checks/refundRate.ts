// Refunds: the share of the window's featured purchases refunded, with the refunds' pattern
// (refunds.rate_high). The metrics page reads the same measure.
import type { DbTx } from "@steward/db/client";
import { type HealthSnapshot, type RefundPattern, refundRateRule } from "../../alertRules.ts";
import { DAY, type HealthCheck } from "../check.ts";

/** Playbook 5: purchases of the window, how many were refunded, and the refunds' pattern. */
export async function refundRateOverWindow(
  db: DbTx,
  windowDays: number,
  now: Date,
): Promise<HealthSnapshot["refunds"]> {
  const since = new Date(now.getTime() - windowDays * DAY);
  const purchases = await db.payment.findMany({
    where: { purchasedAt: { gte: since, lte: now }, status: { in: ["SUCCEEDED", "REFUNDED", "PARTIALLY_REFUNDED"] } },
    select: {
      status: true,
      purchasedAt: true,
      businessId: true,
      business: { select: { name: true, createdAt: true, region: { select: { name: true } } } },
    },
  });
  const refunded = purchases.filter((payment) => payment.status !== "SUCCEEDED");
  const perBusiness = new Map<string, { businessId: string; businessName: string; refunds: number }>();
  const perRegion = new Map<string, number>();
  const byBusinessAge = { new: 0, recent: 0, established: 0 };
  for (const payment of refunded) {
    const entry = perBusiness.get(payment.businessId) ?? {
      businessId: payment.businessId,
      businessName: payment.business.name,
      refunds: 0,
    };
    entry.refunds++;
    perBusiness.set(payment.businessId, entry);
    perRegion.set(payment.business.region.name, (perRegion.get(payment.business.region.name) ?? 0) + 1);
    const ageDays = (payment.purchasedAt.getTime() - payment.business.createdAt.getTime()) / DAY;
    if (ageDays <= 7) byBusinessAge.new++;
    else if (ageDays <= 30) byBusinessAge.recent++;
    else byBusinessAge.established++;
  }
  const pattern: RefundPattern = {
    repeatRefunders: [...perBusiness.values()].filter((b) => b.refunds > 1).sort((a, b) => b.refunds - a.refunds),
    byRegion: [...perRegion.entries()]
      .map(([regionName, refunds]) => ({ regionName, refunds }))
      .sort((a, b) => b.refunds - a.refunds),
    byBusinessAge,
  };
  return { purchases: purchases.length, refunded: refunded.length, pattern };
}

export const refundRateCheck: HealthCheck = {
  name: "refund_rate",
  async measure({ db, now, thresholds }) {
    const refundThresholds = thresholds(refundRateRule);
    const refunds = await refundRateOverWindow(db, refundThresholds.windowDays, now);
    const refundPercent = refunds.purchases > 0 ? (refunds.refunded / refunds.purchases) * 100 : 0;
    return {
      snapshot: { refunds },
      result: {
        ok: true,
        latencyMs: null,
        value: Math.round(refundPercent * 10) / 10,
        detail: `${refunds.refunded} of ${refunds.purchases} purchases refunded in ${refundThresholds.windowDays} days`,
      },
    };
  },
};
