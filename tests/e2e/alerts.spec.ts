// The Alerts page in a real browser against the whole stack (API, worker, the notify and SMTP
// sandboxes started by `npm test`, demo channels seeded to point at them): alerts raised by core
// in another process (through Redis) appear live; the operator acknowledges one, silences one and
// resolves one with a note; the timeline and the deliveries show, and PagerDuty got trigger,
// acknowledge and resolve under the alert's fingerprint.
import { randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import { raiseAlert } from "@steward/core/alerts";
import { createEventBus, type EventBusHandle } from "@steward/core/adapters/redisEvents";
import { createPrismaClient, type Db } from "@steward/db/client";
import { Redis } from "ioredis";
import { quietDeps } from "../support/deps.ts";
import { testRuleKey } from "../support/fixtures.ts";
import { expectSameDocument, markDocument, OPERATOR, signIn } from "./support.ts";

interface Received {
  kind: string;
  body: { event_action?: string; dedup_key?: string };
}

function env(name: "DATABASE_URL" | "REDIS_URL" | "REDIS_PREFIX" | "NOTIFY_SANDBOX_URL"): string {
  const value = process.env[name];
  if (!value) throw new Error(`Set ${name} (npm test does).`);
  return value;
}

async function redisSubscribers(event: string): Promise<number> {
  const redis = new Redis(env("REDIS_URL"));
  try {
    const reply = (await redis.pubsub("NUMSUB", `${env("REDIS_PREFIX")}:events:${event}`)) as [string, number];
    return Number(reply[1]);
  } finally {
    redis.disconnect();
  }
}

let db: Db;
let bus: EventBusHandle;

test.beforeAll(() => {
  db = createPrismaClient(env("DATABASE_URL"), 2);
  bus = createEventBus(env("REDIS_URL"), env("REDIS_PREFIX"));
});
test.afterAll(async () => {
  await bus.close();
  await db.$disconnect();
});

async function pagerDutyEvents(fingerprint: string): Promise<string[]> {
  const response = await fetch(`${env("NOTIFY_SANDBOX_URL")}/_sandbox/received?kind=pagerduty`);
  const received = (await response.json()) as Received[];
  return received.filter((entry) => entry.body.dedup_key === fingerprint).map((entry) => entry.body.event_action ?? "");
}

test("alerts appear live; the operator acknowledges, silences and resolves; timeline and deliveries show", async ({
  page,
}) => {
  const run = randomBytes(3).toString("hex");
  const red = {
    fingerprint: `e2e.stripe.webhook_failures:${run}`,
    ruleKey: testRuleKey("e2e.stripe.webhook_failures"),
    severity: "RED" as const,
    title: `Stripe webhook failures ${run}`,
    detail: "5 failed deliveries in the last hour (threshold 3)",
  };
  const yellow = {
    fingerprint: `e2e.queue.backlog:${run}`,
    ruleKey: testRuleKey("e2e.queue.backlog"),
    severity: "YELLOW" as const,
    title: `Queue backlog in City of Yarra ${run}`,
    detail: "12 businesses waiting (threshold 10)",
  };

  await signIn(page, OPERATOR.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${OPERATOR.name}` })).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Alerts" }).click();
  await expect(page.getByRole("heading", { name: "Alerts", level: 1 })).toBeVisible();
  await expect(page.locator('[data-live-status="live"]')).toHaveText("Live");
  // The API has subscribed to the Redis channel for this page, so no event can be missed.
  await expect.poll(() => redisSubscribers("alertChanged")).toBeGreaterThan(0);
  await markDocument(page);

  // Raised by core in this (another) process: the page learns of them over the subscription.
  await raiseAlert({ ...quietDeps(db), events: bus.bus }, yellow);
  await raiseAlert({ ...quietDeps(db), events: bus.bus }, red);
  const redRow = page.locator("tbody.alert-row", { hasText: red.title });
  const yellowRow = page.locator("tbody.alert-row", { hasText: yellow.title });
  await expect(redRow).toBeVisible();
  await expect(yellowRow).toBeVisible();
  await expectSameDocument(page);
  // Red first.
  const order = await page
    .locator("tbody.alert-row")
    .evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset["severity"]));
  expect(order.indexOf("RED")).toBeLessThan(order.lastIndexOf("YELLOW"));

  // The same condition again: one row, seen twice.
  await raiseAlert({ ...quietDeps(db), events: bus.bus }, red);
  await expect(redRow.locator(".count")).toHaveText("2");

  await redRow.getByRole("button", { name: `Acknowledge ${red.title}` }).click();
  await expect(redRow.locator(".status")).toContainText(`Acknowledged by ${OPERATOR.name}`);

  await yellowRow.getByRole("button", { name: `Silence ${yellow.title}` }).click();
  await yellowRow.getByLabel("Silence for").selectOption({ label: "4 hours" });
  await yellowRow.getByLabel("Why (optional)").fill("Council migration this afternoon");
  await yellowRow.getByRole("button", { name: "Silence alert" }).click();
  await expect(yellowRow.locator(".status")).toContainText("Silenced until");

  await redRow.getByRole("button", { name: `Resolve ${red.title}` }).click();
  await redRow.getByLabel("Resolution note (what was done)").fill("Rotated the webhook signing secret");
  await redRow.getByRole("button", { name: "Resolve alert" }).click();
  await expect(redRow).toHaveCount(0);
  const incident = page.locator("table.incidents tr", { hasText: red.title });
  await expect(incident).toContainText("Rotated the webhook signing secret");

  // The resolved alert's timeline and deliveries (the worker delivers to the sandbox receivers).
  await incident.getByRole("button", { name: red.title }).click();
  const detail = page.locator("article.alert-detail");
  await expect(detail.getByRole("heading", { name: red.title })).toBeVisible();
  const kinds = detail.locator(".timeline li");
  await expect(kinds.filter({ hasText: "Acknowledged by operator@steward.test" })).toHaveCount(1);
  await expect(kinds.filter({ hasText: "Rotated the webhook signing secret" })).toHaveCount(1);
  await expect(kinds.first()).toHaveAttribute("data-kind", "FIRED");
  const deliveries = detail.locator("table.deliveries tbody tr");
  // Red goes to Slack, PagerDuty and the ticket webhook, for the trigger, the acknowledge and the resolve.
  await expect(deliveries).toHaveCount(9);
  await expect(deliveries.filter({ hasText: "PagerDuty on-call" })).toHaveCount(3);
  await expect(detail.locator('table.deliveries tbody tr[data-status="SENT"]')).toHaveCount(9, { timeout: 30_000 });
  await expect
    .poll(() => pagerDutyEvents(red.fingerprint), { timeout: 30_000 })
    .toEqual(["trigger", "acknowledge", "resolve"]);

  // The silenced alert still records, but notifies no one.
  const deliveriesBefore = await db.outboxMessage.count({ where: { alert: { fingerprint: yellow.fingerprint } } });
  await raiseAlert({ ...quietDeps(db), events: bus.bus }, { ...yellow, severity: "RED" });
  await expect(yellowRow).toHaveAttribute("data-severity", "RED");
  expect(await db.outboxMessage.count({ where: { alert: { fingerprint: yellow.fingerprint } } })).toBe(
    deliveriesBefore,
  );
  await expectSameDocument(page);
});
