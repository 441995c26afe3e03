// Each rule fires just above its threshold and not at or below it (the product's thresholds are strict).
import { describe, expect, it } from "vitest";
import { ALERT_RULES, alertRuleKeys, isAlertRuleKey } from "./alertRuleKeys.ts";
import {
  aiProviderDownRule,
  apiErrorRateRule,
  apiLatencyRule,
  databaseLatencyRule,
  evaluateRule,
  externalRules,
  type HealthSnapshot,
  healthRules,
  postgresLatencyRule,
  queueBacklogRule,
  refundRateRule,
  repeatRefundersOf,
  stripeUnreachableRule,
  webhookFailuresRule,
  webhookSignaturesRule,
} from "./alertRules.ts";

const healthy: HealthSnapshot = {
  postgres: { ok: true, latencyMs: 3 },
  aiProvider: { configured: true, ok: true, downForMinutes: null },
  stripe: { ok: true, consecutiveFailures: 0 },
  webhooks: { failedInWindow: 0, deliveries: null },
  api: { requests: 1000, errors: 0, p95Ms: 40 },
  database: { queries: 5000, p95Ms: 12, processes: 2 },
  queueBacklog: [],
  refunds: {
    purchases: 50,
    refunded: 0,
    pattern: { repeatRefunders: [], byRegion: [], byBusinessAge: { new: 0, recent: 0, established: 0 } },
  },
};
const withSnapshot = (change: Partial<HealthSnapshot>): HealthSnapshot => ({ ...healthy, ...change });
const fires = (rule: Parameters<typeof evaluateRule>[0], snapshot: HealthSnapshot, thresholds: unknown = {}) =>
  evaluateRule(rule, snapshot, thresholds);

describe("alert rules at their thresholds", () => {
  it("a healthy snapshot fires nothing", () => {
    for (const rule of [
      aiProviderDownRule,
      stripeUnreachableRule,
      webhookFailuresRule,
      queueBacklogRule,
      refundRateRule,
      apiErrorRateRule,
      apiLatencyRule,
      postgresLatencyRule,
      databaseLatencyRule,
    ])
      expect(fires(rule, healthy), rule.key).toEqual([]);
  });

  it("AI provider down: red past 30 minutes, not at 29 or 30", () => {
    const down = (minutes: number) =>
      withSnapshot({ aiProvider: { configured: true, ok: false, downForMinutes: minutes } });
    expect(fires(aiProviderDownRule, down(29))).toEqual([]);
    expect(fires(aiProviderDownRule, down(30))).toEqual([]);
    expect(fires(aiProviderDownRule, down(31))).toMatchObject([{ fingerprint: "ai.provider_down", severity: "RED" }]);
    expect(fires(aiProviderDownRule, down(11), { downMinutes: 10 })).toHaveLength(1);
    // No provider configured: nothing can be down.
    expect(
      fires(aiProviderDownRule, withSnapshot({ aiProvider: { configured: false, ok: false, downForMinutes: 99 } })),
    ).toEqual([]);
  });

  it("Stripe unreachable: red at the configured number of failed probes in a row", () => {
    const failing = (n: number) => withSnapshot({ stripe: { ok: n === 0, consecutiveFailures: n } });
    expect(fires(stripeUnreachableRule, failing(1))).toMatchObject([
      { fingerprint: "stripe.unreachable", severity: "RED" },
    ]);
    expect(fires(stripeUnreachableRule, failing(2), { consecutiveFailures: 3 })).toEqual([]);
    expect(fires(stripeUnreachableRule, failing(3), { consecutiveFailures: 3 })).toHaveLength(1);
  });

  it("webhook failures: red above 3 in the window, not at 3", () => {
    const failed = (n: number) => withSnapshot({ webhooks: { failedInWindow: n, deliveries: null } });
    expect(fires(webhookFailuresRule, failed(3))).toEqual([]);
    expect(fires(webhookFailuresRule, failed(4))).toMatchObject([
      { fingerprint: "stripe.webhook_failures", severity: "RED" },
    ]);
  });

  it("webhook signatures: red when signed deliveries are refused and none accepted (a wrong secret)", () => {
    const deliveries = (badSignatures: number, accepted: number) =>
      withSnapshot({
        webhooks: {
          failedInWindow: 0,
          deliveries: { badSignatures, accepted, rejected: badSignatures, windowMinutes: 10 },
        },
      });
    expect(fires(webhookSignaturesRule, deliveries(3, 0))).toMatchObject([
      { fingerprint: "stripe.webhook_signatures", severity: "RED" },
    ]);
    expect(fires(webhookSignaturesRule, deliveries(2, 0))).toEqual([]);
    // Forgeries next to real deliveries: someone probing, not a wrong secret.
    expect(fires(webhookSignaturesRule, deliveries(50, 1))).toEqual([]);
    expect(fires(webhookSignaturesRule, withSnapshot({}))).toEqual([]);
  });

  it("queue backlog: yellow per region above 10, with a fingerprint per region", () => {
    const snapshot = withSnapshot({
      queueBacklog: [
        { regionId: "r-1", regionName: "Melbourne", queued: 11 },
        { regionId: "r-2", regionName: "Monash", queued: 10 },
      ],
    });
    expect(fires(queueBacklogRule, snapshot)).toMatchObject([
      // Every region's backlog is one cause: notified as one group.
      { fingerprint: "queue.backlog:r-1", severity: "YELLOW", labels: { regionId: "r-1" }, groupKey: "queue.backlog" },
    ]);
  });

  it("refund rate: yellow from 10 %, red above 15 % over the window, with the pattern analysis", () => {
    const rate = (refunded: number, purchases: number) =>
      withSnapshot({
        refunds: {
          purchases,
          refunded,
          pattern: {
            repeatRefunders: [{ businessId: "b-1", businessName: "Trainer A", refunds: 3 }],
            byRegion: [{ regionName: "Melbourne", refunds: 4 }],
            byBusinessAge: { new: 5, recent: 0, established: 4 },
          },
        },
      });
    expect(fires(refundRateRule, rate(9, 100))).toEqual([]);
    expect(fires(refundRateRule, rate(10, 100))).toMatchObject([{ severity: "YELLOW" }]);
    expect(fires(refundRateRule, rate(15, 100))).toMatchObject([{ severity: "YELLOW" }]);
    const [alert] = fires(refundRateRule, rate(16, 100));
    expect(alert).toMatchObject({ fingerprint: "refunds.rate_high", severity: "RED" });
    expect(alert?.detail).toContain("Trainer A ×3");
    expect(alert?.detail).toContain("Melbourne 4");
    expect(alert?.detail).toContain("5 new (0–7 days)");
    // The repeat refunders travel with the alert, so its page can offer to flag each one.
    expect(alert?.labels).toEqual({ repeatRefunders: "b-1:3" });
    expect(repeatRefundersOf(alert?.labels)).toEqual([{ businessId: "b-1", refunds: 3 }]);
    expect(repeatRefundersOf({})).toEqual([]);
    expect(repeatRefundersOf({ repeatRefunders: "" })).toEqual([]);
    // Too few purchases to call it a rate: 1 of 2 is not a trend.
    expect(fires(refundRateRule, rate(1, 2))).toEqual([]);
    // Tunable; a yellow bound above the red one is refused (the defaults stay in force).
    expect(fires(refundRateRule, rate(12, 100), { yellowFromPercent: 12 })).toMatchObject([{ severity: "YELLOW" }]);
    expect(fires(refundRateRule, rate(11, 100), { yellowFromPercent: 12 })).toEqual([]);
    expect(refundRateRule.thresholds.safeParse({ ...refundRateRule.defaults, yellowFromPercent: 20 }).success).toBe(
      false,
    );
  });

  it("database p95 from real queries: red above 500 ms over the window, not at 500, nor on a handful of queries", () => {
    const database = (p95Ms: number | null, queries = 1000) =>
      withSnapshot({ database: { queries, p95Ms, processes: 2 } });
    expect(fires(databaseLatencyRule, database(500))).toEqual([]);
    expect(fires(databaseLatencyRule, database(501))).toMatchObject([
      { fingerprint: "database.query_p95", severity: "RED", title: "Database p95 501 ms for 5 min" },
    ]);
    expect(fires(databaseLatencyRule, database(900, 19))).toEqual([]);
    expect(fires(databaseLatencyRule, database(null, 0))).toEqual([]);
    // Redis unread: no reading, no verdict (the check itself shows the read failed).
    expect(fires(databaseLatencyRule, withSnapshot({ database: null }))).toEqual([]);
    expect(fires(databaseLatencyRule, database(150), { maxP95Ms: 100 })).toHaveLength(1);
  });

  it("API error rate: red above 1 % over the window, not at 1 %, and not on a handful of requests", () => {
    const api = (errors: number, requests: number) => withSnapshot({ api: { requests, errors, p95Ms: 50 } });
    expect(fires(apiErrorRateRule, api(10, 1000))).toEqual([]);
    expect(fires(apiErrorRateRule, api(11, 1000))).toMatchObject([{ fingerprint: "api.error_rate", severity: "RED" }]);
    expect(fires(apiErrorRateRule, api(5, 10))).toEqual([]);
  });

  it("API p95: yellow above 1000 ms, not at 1000 ms", () => {
    const p95 = (ms: number) => withSnapshot({ api: { requests: 100, errors: 0, p95Ms: ms } });
    expect(fires(apiLatencyRule, p95(1000))).toEqual([]);
    expect(fires(apiLatencyRule, p95(1001))).toMatchObject([{ fingerprint: "api.latency_p95", severity: "YELLOW" }]);
  });

  it("database latency: yellow above 500 ms or when the probe fails", () => {
    expect(fires(postgresLatencyRule, withSnapshot({ postgres: { ok: true, latencyMs: 500 } }))).toEqual([]);
    expect(fires(postgresLatencyRule, withSnapshot({ postgres: { ok: true, latencyMs: 501 } }))).toHaveLength(1);
    expect(fires(postgresLatencyRule, withSnapshot({ postgres: { ok: false, latencyMs: null } }))).toHaveLength(1);
  });
});

describe("the rule key registry", () => {
  it("gives every registered key one row on the rules page: the tunable rules, then the others", () => {
    const listed = [...healthRules.map((rule) => rule.key), ...externalRules.map((rule) => rule.key)];
    expect([...listed].sort()).toEqual([...alertRuleKeys].sort());
    expect(new Set(listed).size).toBe(listed.length);
    // The job health conditions are raised under the keys the page lists (they used to differ).
    expect(externalRules.map((rule) => rule.key)).toEqual(
      expect.arrayContaining(["jobs.missed_run", "jobs.failed_all_attempts"]),
    );
  });

  it("gives a tunable rule its title, severity and check from the registry", () => {
    expect(queueBacklogRule).toMatchObject({ key: "queue.backlog", ...ALERT_RULES["queue.backlog"] });
    expect(isAlertRuleKey("jobs.missed_run")).toBe(true);
    expect(isAlertRuleKey("job-missed-run")).toBe(false);
  });
});
