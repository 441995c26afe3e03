// The AI scoring provider: its /health endpoint, and how long it has been down (or up) since the
// last change, which the ai.provider_down rule and the AI failover read.
import type { Db } from "@steward/db/client";
import type { CheckName } from "../../alertRules.ts";
import { type CheckContext, type HealthCheck, MINUTE, type Probe, timed } from "../check.ts";

async function probeAiProvider(env: CheckContext["env"]): Promise<Probe & { configured: boolean }> {
  const url = env.AI_PROVIDER_URL;
  if (!url) return { configured: false, ok: true, latencyMs: null };
  const probe = await timed(async () => {
    const response = await fetch(`${url.replace(/\/$/, "")}/health`, {
      signal: AbortSignal.timeout(env.AI_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
  }, env.AI_TIMEOUT_MS + 500);
  return { configured: true, ...probe };
}

/** Minutes of the current streak: since the first result of the opposite state after the last change. */
async function streakMinutes(db: Db, check: CheckName, okNow: boolean, now: Date): Promise<number> {
  const lastOpposite = await db.healthCheckResult.findFirst({
    where: { check, ok: !okNow, checkedAt: { lt: now } },
    orderBy: { checkedAt: "desc" },
    select: { checkedAt: true },
  });
  const firstOfStreak = await db.healthCheckResult.findFirst({
    where: { check, ok: okNow, checkedAt: { lt: now, ...(lastOpposite ? { gt: lastOpposite.checkedAt } : {}) } },
    orderBy: { checkedAt: "asc" },
    select: { checkedAt: true },
  });
  return (now.getTime() - (firstOfStreak?.checkedAt ?? now).getTime()) / MINUTE;
}

export const aiProviderCheck: HealthCheck = {
  name: "ai_provider",
  async measure({ db, env, now }) {
    const ai = await probeAiProvider(env);
    const aiStreak = ai.configured ? await streakMinutes(db, "ai_provider", ai.ok, now) : 0;
    return {
      snapshot: {
        aiProvider: {
          configured: ai.configured,
          ok: ai.ok,
          downForMinutes: ai.configured && !ai.ok ? aiStreak : null,
          healthyForMinutes: ai.configured && ai.ok ? aiStreak : null,
        },
      },
      result: {
        ok: ai.ok,
        latencyMs: ai.latencyMs,
        value: ai.latencyMs,
        detail: !ai.configured
          ? "No AI provider configured: the deterministic classifier scores every review"
          : ai.ok
            ? `up, answered in ${ai.latencyMs} ms`
            : `down for ${Math.floor(aiStreak)} min: ${ai.error ?? "no answer"}`,
      },
    };
  },
};
