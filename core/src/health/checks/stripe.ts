// Stripe's API: one list call, and how many probes in a row have failed (stripe.unreachable).
import type { Db } from "@steward/db/client";
import type { CheckName } from "../../alertRules.ts";
import { type HealthCheck, timed } from "../check.ts";

async function consecutiveFailures(db: Db, check: CheckName, okNow: boolean, now: Date): Promise<number> {
  if (okNow) return 0;
  const recent = await db.healthCheckResult.findMany({
    where: { check, checkedAt: { lt: now } },
    orderBy: { checkedAt: "desc" },
    take: 60,
    select: { ok: true },
  });
  const before = recent.findIndex((result) => result.ok);
  return 1 + (before < 0 ? recent.length : before);
}

export const stripeCheck: HealthCheck = {
  name: "stripe",
  async measure({ db, stripe: client, now }) {
    const stripe = await timed(() => client.charges.list({ limit: 1 }), 15_000);
    const stripeFailures = await consecutiveFailures(db, "stripe", stripe.ok, now);
    return {
      snapshot: { stripe: { ok: stripe.ok, consecutiveFailures: stripeFailures } },
      result: {
        ok: stripe.ok,
        latencyMs: stripe.latencyMs,
        value: stripe.latencyMs,
        detail: stripe.ok
          ? `reachable in ${stripe.latencyMs} ms`
          : `unreachable (${stripeFailures} in a row): ${stripe.error}`,
      },
    };
  },
};
