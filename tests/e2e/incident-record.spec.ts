// Incidents in a real browser against the whole stack: two red alerts of one rule, raised by core
// in another process, become one incident from the alert's details; the operator records impact,
// root cause and follow-ups, previews and sends the "service degraded" message to a business (the
// worker delivers it to the SMTP sandbox), downloads the Markdown summary and resolves it.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { expect, test } from "@playwright/test";
import { raiseAlert } from "@steward/core/alerts";
import { createEventBus, type EventBusHandle } from "@steward/core/adapters/redisEvents";
import { createPrismaClient, type Db } from "@steward/db/client";
import { quietDeps } from "../support/deps.ts";
import { testRuleKey } from "../support/fixtures.ts";
import { OPERATOR, signIn } from "./support.ts";

function env(name: "DATABASE_URL" | "REDIS_URL" | "REDIS_PREFIX" | "SMTP_SANDBOX_URL"): string {
  const value = process.env[name];
  if (!value) throw new Error(`Set ${name} (npm test does).`);
  return value;
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

async function emailsTo(address: string): Promise<{ subject: string }[]> {
  const response = await fetch(`${env("SMTP_SANDBOX_URL")}/messages?to=${encodeURIComponent(address)}`);
  return ((await response.json()) as { data: { subject: string }[] }).data;
}

test("red alerts of one cause become an incident with a record, a message to a business and a summary", async ({
  page,
}, testInfo) => {
  const run = randomBytes(3).toString("hex");
  const ruleKey = testRuleKey(`e2e.checkout_errors.${run}`);
  const alerts = ["Checkout errors in Yarra", "Checkout errors in Darebin"].map((title, index) => ({
    fingerprint: `${ruleKey}:${index}`,
    ruleKey,
    severity: "RED" as const,
    title: `${title} ${run}`,
    detail: "Payments failing at checkout",
  }));
  for (const alert of alerts) await raiseAlert({ ...quietDeps(db), events: bus.bus }, alert);
  // A business of its own, so no other spec's emails to seeded businesses are disturbed.
  const region = await db.region.findFirstOrThrow({ orderBy: { name: "asc" } });
  const business = await db.business.create({
    data: { regionId: region.id, name: `Incident Test Cafe ${run}`, email: `incident-${run}@biz.example` },
  });

  await signIn(page, OPERATOR.email);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Alerts" }).click();
  const row = page.locator("tbody.alert-row", { hasText: alerts[0]!.title });
  await row.getByRole("button", { name: alerts[0]!.title, exact: true }).click();
  const level = page.getByLabel("Incident level");
  await expect(level.locator(".badge")).toHaveText("P2");
  await level.getByRole("button", { name: "Open incident (2 alerts of this rule)" }).click();

  await expect(page).toHaveURL(/\/incidents\?id=/);
  const record = page.locator("section[data-incident-id]");
  await expect(record.getByRole("heading", { level: 2 })).toContainText(`${alerts[0]!.title} (+1 related)`);
  await expect(record).toContainText("respond within 24 hours");
  await expect(record.getByRole("table").first().locator("tbody tr")).toHaveCount(2);

  await record
    .getByLabel("Impact (who and what was hit)")
    .fill("Featured placements could not be bought for 40 minutes");
  await record.getByLabel("Root cause").fill("An expired Stripe API key");
  await record.getByLabel("Follow-ups (one per line)").fill("Alert on Stripe 401s\nKey rotation checklist");
  await record.getByRole("button", { name: "Save record" }).click();
  await expect(page.getByRole("status")).toHaveText("Saved the incident record.");

  await record.getByLabel("Template").selectOption({ label: "Service degraded" });
  await record.getByLabel("Find businesses").fill(business.name);
  await record.getByRole("button", { name: "Search" }).click();
  await record.getByRole("checkbox", { name: business.name }).check();
  await expect(record.getByRole("button", { name: "Send to 1" })).toBeDisabled();
  await record.getByRole("button", { name: "Preview" }).click();
  const preview = record.getByRole("figure", { name: "Message preview" });
  await expect(preview).toContainText(`Hi ${business.name},`);
  await expect(preview).toContainText("We're working on a problem with the marketplace");
  await record.getByRole("button", { name: "Send to 1" }).click();
  await expect(page.getByRole("status")).toHaveText("Queued 1 email(s).");
  await expect(record).toContainText(`Service degraded to ${business.name}`);
  // The worker's outbox delivers it.
  await expect
    .poll(async () => (await emailsTo(business.email)).map((email) => email.subject), { timeout: 30_000 })
    .toContain("We're working on a problem with the marketplace");

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    record.getByRole("button", { name: "Download summary (.md)" }).click(),
  ]);
  const markdown = await readFile((await download.path()) ?? "", "utf8");
  expect(markdown).toContain("# Incident: ");
  expect(markdown).toContain("An expired Stripe API key");
  expect(markdown).toContain("- [ ] Key rotation checklist");
  expect(markdown).toContain(`service_degraded to ${business.name}`);

  await record.getByRole("button", { name: "Resolve incident" }).click();
  await expect(page.getByRole("status")).toContainText("Resolved");
  await expect(page.locator("tr[data-incident-id]", { hasText: alerts[0]!.title })).toContainText("Resolved");
  await expect(record.getByText(/^Resolved · opened/)).toBeVisible();
  await expect(record.getByRole("button", { name: "Resolve incident" })).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath("incident.png"), fullPage: true });
});
