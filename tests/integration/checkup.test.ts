// The weekly checkup against real PostgreSQL, the Stripe sandbox (the real SDK) and the AI
// sandbox: a healthy marketplace is green and posts to Slack only; each problem the checkup looks
// for is seeded and found with its severity; the report's overall routes it (yellow → email,
// red → PagerDuty + ticket webhook + Slack) as outbox rows; the refund probe moves no money.
import { systemActor } from "@steward/core/actor";
import { type CheckupDeps, type CheckupFinding, runWeeklyCheckup } from "@steward/core/checkup";
import { metricsSettings } from "@steward/core/metrics";
import { createStripeGateway, stripeGateway } from "@steward/core/adapters/stripe";
import type { ChannelKind, Severity } from "@steward/db/client";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AiSandbox, startAiSandbox } from "../../sandbox/src/ai/server.ts";
import {
  createBusiness,
  createPaidPlacement,
  createRegion,
  HOUR,
  localId,
  type PaymentsStack,
  startPaymentsStack,
} from "./payments-stack.ts";

let stack: PaymentsStack;
let ai: AiSandbox;
const channels: Record<ChannelKind, string> = { SLACK: "", EMAIL: "", PAGERDUTY: "", WEBHOOK: "" };

function deps(overrides: Partial<CheckupDeps> = {}): CheckupDeps {
  return {
    db: stack.db,
    settings: metricsSettings(stack.api.env),
    stripe: createStripeGateway(stack.api.env),
    ai: { mode: "deterministic", timeoutMs: 1000 },
    ...overrides,
  };
}

const run = async (overrides: Partial<CheckupDeps> = {}) =>
  runWeeklyCheckup(deps(overrides), systemActor("weekly-checkup"), "SCHEDULE");

const bySeverity = (findings: CheckupFinding[], severity: Severity) =>
  findings
    .filter((finding) => finding.severity === severity)
    .map((finding) => finding.key)
    .sort();

async function outboxKinds(reportId: string): Promise<string[]> {
  const rows = await stack.db.outboxMessage.findMany({
    where: { dedupKey: { startsWith: `weekly-checkup:${reportId}:` } },
  });
  return rows.map((row) => row.kind).sort();
}

beforeAll(async () => {
  stack = await startPaymentsStack();
  ai = await startAiSandbox({ port: 0 });
  // Routing as PRODUCT.md §5 configures it on the channels.
  const channel = (kind: ChannelKind, severities: Severity[]) =>
    stack.db.notificationChannel.create({ data: { kind, name: `ops ${kind}`, severities } });
  channels.SLACK = (await channel("SLACK", ["GREEN", "RED"])).id;
  channels.EMAIL = (await channel("EMAIL", ["YELLOW"])).id;
  channels.PAGERDUTY = (await channel("PAGERDUTY", ["RED"])).id;
  channels.WEBHOOK = (await channel("WEBHOOK", ["RED"])).id;
  await stack.db.notificationChannel.create({
    data: { kind: "SLACK", name: "disabled slack", severities: ["GREEN", "YELLOW", "RED"], enabled: false },
  });

  // A healthy marketplace: one region, one featured business, reconciled yesterday with no gap.
  const region = await createRegion(stack.db, 5);
  const business = await createBusiness(stack.db, region.id);
  await createPaidPlacement(stack, business, new Date(Date.now() - 2 * HOUR));
  await stack.db.reconciliationRun.create({
    data: {
      periodStart: new Date(Date.now() - 8 * 86_400_000),
      periodEnd: new Date(Date.now() - 86_400_000),
      status: "COMPLETED",
      trigger: "SCHEDULE",
      chargesCompared: 1,
      finishedAt: new Date(Date.now() - 86_400_000),
      startedAt: new Date(Date.now() - 86_400_000),
    },
  });
});

afterAll(async () => {
  await ai?.stop();
  await stack?.stop();
});

describe("the weekly checkup", () => {
  it("finds a healthy marketplace green, stores the report, audits it and posts to Slack only", async () => {
    const refundsBefore = stack.stripeSandbox.state.refunds.size;
    const { report, findings } = await run();
    expect(bySeverity(findings, "RED")).toEqual([]);
    expect(bySeverity(findings, "YELLOW")).toEqual([]);
    expect(findings.map((finding) => finding.key).sort()).toEqual(
      [
        "ai_provider",
        "failed_logins",
        "featured_adoption",
        "orphaned_records",
        "payments_without_placements",
        "placements_without_payments",
        "queue_consistency",
        "reconciliation",
        "refund_path",
        "refund_rate",
        "since_last_week",
        "stripe_api",
        "table_growth",
        "token_rate",
      ].sort(),
    );
    expect(report.overall).toBe("GREEN");
    expect(report.summary).toBe("All systems green (14 checks)");
    expect(findings.find((finding) => finding.key === "refund_path")?.detail).toMatch(
      /resource_missing; no money moved/,
    );
    // The refund probe reached Stripe's refund endpoint and refunded nothing.
    expect(stack.stripeSandbox.state.refunds.size).toBe(refundsBefore);
    expect(
      stack.stripeSandbox.requests().filter((request) => request.method === "POST" && request.path === "/v1/refunds"),
    ).not.toHaveLength(0);
    expect(await outboxKinds(report.id)).toEqual(["notify.slack"]);
    const message = await stack.db.outboxMessage.findFirstOrThrow({ where: { channelId: channels.SLACK } });
    expect(message.payload).toMatchObject({ severity: "GREEN", event: "trigger", source: "steward.weekly-checkup" });
    const audit = await stack.db.auditEvent.findFirstOrThrow({ where: { action: "weekly_checkup.run" } });
    expect(audit).toMatchObject({ targetId: report.id, actorLabel: "system:weekly-checkup" });
  });

  it("finds each yellow problem and emails the engineering list", async () => {
    const now = Date.now();
    // KPI drift: 10 more businesses that are not featured (1 of 11 < 25 %); a refunded sale among
    // 8 purchases (12.5 %: yellow from 10 %, where a "> 15 %" check alone says nothing), 5 of them
    // placements that have already run.
    const region = await createRegion(stack.db, 5);
    for (let index = 0; index < 10; index++) await createBusiness(stack.db, region.id);
    for (let index = 0; index < 5; index++) {
      const past = await createPaidPlacement(
        stack,
        await createBusiness(stack.db, region.id),
        new Date(now - 20 * HOUR),
      );
      await stack.db.placement.update({ where: { paymentId: past.id }, data: { status: "EXPIRED" } });
    }
    const refunder = await createBusiness(stack.db, region.id);
    const refunded = await createPaidPlacement(stack, refunder, new Date(now - 5 * HOUR));
    await stack.db.payment.update({ where: { id: refunded.id }, data: { status: "REFUNDED", refundedCents: 2200 } });
    await stack.db.placement.update({ where: { paymentId: refunded.id }, data: { status: "REFUNDED" } });
    // Queue stalled: a region with free slots while someone waits.
    const stalled = await createRegion(stack.db, 5);
    const waiting = await createBusiness(stack.db, stalled.id);
    const queuedPayment = await createPaidPlacement(stack, waiting, new Date(now - HOUR));
    await stack.db.placement.update({ where: { paymentId: queuedPayment.id }, data: { status: "QUEUED" } });
    // Orphan: an old (resolved) discrepancy naming a payment that does not exist.
    const oldRun = await stack.db.reconciliationRun.create({
      data: {
        periodStart: new Date(now - 30 * 86_400_000),
        periodEnd: new Date(now - 23 * 86_400_000),
        status: "COMPLETED",
        trigger: "SCHEDULE",
        startedAt: new Date(now - 23 * 86_400_000),
      },
    });
    await stack.db.discrepancy.create({
      data: {
        runId: oldRun.id,
        kind: "MISSING_IN_STRIPE",
        stripeChargeId: "ch_gone",
        paymentId: "0190e5a4-0000-7000-8000-000000000000",
        resolution: "ACCEPTED",
      },
    });
    // Table growth: 1,500 search events since last week's baseline.
    await stack.db.searchEvent.createMany({
      data: Array.from({ length: 1500 }, () => ({ query: "puppy", resultCount: 1, source: "t" })),
    });
    // Security: 30 failed logins today against ~1 a day before; a token suddenly calling 300 times.
    await stack.db.loginAttempt.createMany({
      data: [
        ...Array.from({ length: 30 }, () => ({ email: "admin@test.example", ip: "203.0.113.9", succeeded: false })),
        ...Array.from({ length: 7 }, (_, day) => ({
          email: "olive@test.example",
          ip: "198.51.100.1",
          succeeded: false,
          createdAt: new Date(now - (day + 2) * 86_400_000),
        })),
      ],
    });
    const token = await stack.db.apiToken.findFirstOrThrow({ where: { name: "marketplace" } });
    await stack.db.auditEvent.createMany({
      data: Array.from({ length: 300 }, () => ({
        actorKind: "API_TOKEN" as const,
        actorId: token.id,
        actorLabel: "token:marketplace",
        action: "refund.request",
      })),
    });

    const { report, findings } = await run();
    expect(bySeverity(findings, "RED")).toEqual([]);
    expect(bySeverity(findings, "YELLOW")).toEqual(
      [
        "failed_logins",
        "featured_adoption",
        "orphaned_records",
        "queue_consistency",
        "refund_rate",
        "table_growth",
        "token_rate",
      ].sort(),
    );
    const finding = (key: string) => findings.find((candidate) => candidate.key === key)!;
    expect(finding("token_rate").title).toBe("Unusual API token use: marketplace");
    expect(finding("table_growth").detail).toMatch(/SearchEvent 0 → 1500/);
    expect(finding("queue_consistency").detail).toMatch(/5 free slot\(s\) while 1 wait/);
    expect(finding("failed_logins").title).toBe("Failed-login spike: 30 in 24 h");
    expect(report.overall).toBe("YELLOW");
    expect(await outboxKinds(report.id)).toEqual(["notify.email"]);
    // What changed since last week's report, in the report and in the message sent.
    expect(finding("since_last_week")).toMatchObject({ severity: "GREEN" });
    expect(finding("since_last_week").detail).toContain("Refund rate 0 % → 12.5 %");
    expect(finding("since_last_week").detail).toContain("Businesses queued 0 → 1");
    const emailed = await stack.db.outboxMessage.findFirstOrThrow({
      where: { dedupKey: { startsWith: `weekly-checkup:${report.id}` } },
    });
    expect((emailed.payload as { text: string }).text).toContain("Refund rate 0 % → 12.5 %");
  });

  it("finds each red problem and pages: PagerDuty, the ticket webhook and Slack", async () => {
    const now = Date.now();
    const region = await createRegion(stack.db, 1);
    // Paid, but no placement (a crashed import).
    const unplaced = await createBusiness(stack.db, region.id);
    await stack.db.payment.create({
      data: {
        stripeChargeId: "ch_unplaced",
        businessId: unplaced.id,
        amountCents: 2200,
        currency: "aud",
        status: "SUCCEEDED",
        purchasedAt: new Date(now - HOUR),
      },
    });
    // Featured without paying: the payment failed. It also makes the region double-booked.
    const first = await createBusiness(stack.db, region.id);
    await createPaidPlacement(stack, first, new Date(now - 3 * HOUR));
    const second = await createBusiness(stack.db, region.id);
    const failed = await createPaidPlacement(stack, second, new Date(now - 2 * HOUR));
    await stack.db.payment.update({ where: { id: failed.id }, data: { status: "FAILED" } });
    await stack.db.placement.update({ where: { paymentId: failed.id }, data: { status: "ACTIVE" } });
    // The last reconciliation found a charge missing from our database, still unresolved.
    const latest = await stack.db.reconciliationRun.create({
      data: {
        periodStart: new Date(now - 7 * 86_400_000),
        periodEnd: new Date(now),
        status: "COMPLETED",
        trigger: "SCHEDULE",
        discrepancyCount: 1,
        startedAt: new Date(now - 60_000),
      },
    });
    await stack.db.discrepancy.create({ data: { runId: latest.id, kind: "MISSING_IN_DB", stripeChargeId: "ch_lost" } });
    // A second refunded sale: 2 of 11 purchases (18.2 %), above the 15 % red line.
    const refunder = await createBusiness(stack.db, region.id);
    const refunded = await createPaidPlacement(stack, refunder, new Date(now - 4 * HOUR));
    await stack.db.payment.update({ where: { id: refunded.id }, data: { status: "REFUNDED", refundedCents: 2200 } });
    await stack.db.placement.update({ where: { paymentId: refunded.id }, data: { status: "REFUNDED" } });
    // Scoring depends on the AI provider, and it is down.
    ai.setMode("down");

    const { report, findings } = await run({ ai: { mode: "provider", providerUrl: ai.url, timeoutMs: 500 } });
    expect(bySeverity(findings, "RED")).toEqual(
      [
        "ai_provider",
        "payments_without_placements",
        "placements_without_payments",
        "queue_consistency",
        "reconciliation",
        "refund_rate",
      ].sort(),
    );
    const finding = (key: string) => findings.find((candidate) => candidate.key === key)!;
    expect(finding("refund_rate").detail).toMatch(
      /^2 of 11 payments refunded; yellow from 10\.0 %, red above 15\.0 %$/,
    );
    expect(finding("payments_without_placements").detail).toMatch(/ch_unplaced/);
    expect(finding("queue_consistency").detail).toMatch(/2 active for 1 slots/);
    expect(finding("reconciliation").title).toBe("1 unresolved DB vs Stripe mismatch(es)");
    expect(report.overall).toBe("RED");
    expect(report.summary).toMatch(/^6 red: .* · \d+ yellow: /);
    expect(await outboxKinds(report.id)).toEqual(["notify.pagerduty", "notify.slack", "notify.webhook"]);
    const page = await stack.db.outboxMessage.findFirstOrThrow({
      where: { channelId: channels.PAGERDUTY, dedupKey: { startsWith: `weekly-checkup:${report.id}` } },
    });
    expect(page.payload).toMatchObject({ severity: "RED", dedupKey: `weekly-checkup:${report.id}` });
    ai.setMode("ok");
  });

  it("reports Stripe unreachable as a red revenue-path failure", async () => {
    const unreachable = stripeGateway(
      new Stripe("sk_test_unreachable", {
        host: "127.0.0.1",
        port: 1,
        protocol: "http",
        maxNetworkRetries: 0,
        timeout: 1000,
      }),
    );
    const { findings } = await run({
      stripe: unreachable,
      ai: { mode: "provider", providerUrl: ai.url, timeoutMs: 500 },
    });
    const finding = (key: string) => findings.find((candidate) => candidate.key === key)!;
    expect(finding("stripe_api")).toMatchObject({ severity: "RED", title: "Stripe unreachable" });
    expect(finding("refund_path")).toMatchObject({ severity: "RED", title: "Refund path failing" });
    expect(finding("ai_provider")).toMatchObject({ severity: "GREEN", title: "AI provider reachable" });
  });
});

const RUN = `mutation { runWeeklyCheckup { __typename ... on MutationRunWeeklyCheckupSuccess { data { id overall } } ... on Error { message } } }`;
const LIST = `query { weeklyCheckups(first: 10) { edges { node { id overall summary trigger findings { key severity } } } } }`;

describe("the weekly checkup through the API", () => {
  it("lets an operator run it now and lists the reports newest first; a viewer may read, not run", async () => {
    const denied = await stack.api.graphql(RUN, {}, { cookie: stack.viewerCookie });
    expect(denied.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const ran = await stack.api.graphql<{
      runWeeklyCheckup: { __typename: string; data: { id: string; overall: string } };
    }>(RUN, {}, { cookie: stack.operatorCookie });
    expect(ran.data?.runWeeklyCheckup.__typename).toBe("MutationRunWeeklyCheckupSuccess");
    const list = await stack.api.graphql<{
      weeklyCheckups: { edges: { node: { id: string; trigger: string; findings: { severity: string }[] } }[] };
    }>(LIST, {}, { cookie: stack.viewerCookie });
    const nodes = list.data!.weeklyCheckups.edges.map((edge) => edge.node);
    expect(nodes[0]).toMatchObject({ id: ran.data!.runWeeklyCheckup.data.id, trigger: "MANUAL" });
    expect(nodes).toHaveLength(5);
    // Worst finding first.
    expect(nodes[0]!.findings[0]!.severity).toBe("RED");
    const stored = await stack.db.checkupReport.findUniqueOrThrow({
      where: { id: localId(ran.data!.runWeeklyCheckup.data.id) },
    });
    const operator = await stack.db.operator.findUniqueOrThrow({ where: { email: "olive@test.example" } });
    expect(stored.triggeredById).toBe(operator.id);
  });
});
