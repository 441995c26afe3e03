// Disputes in a real browser against the whole stack: the demo's flagged business is listed under
// Disputes; a queue-position complaint is worked from the business page as the playbook says
// (position, who is ahead and when they paid, the FIFO check, the email to the trainer, delivered
// by the worker to the SMTP sandbox), then settled and flagged again.
import { randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import { createPrismaClient, type Db } from "@steward/db/client";
import { DEMO_DISPUTE_NOTE } from "../../scripts/seed/demo.ts";
import { OPERATOR, signIn } from "./support.ts";

function env(name: "DATABASE_URL" | "SMTP_SANDBOX_URL"): string {
  const value = process.env[name];
  if (!value) throw new Error(`Set ${name} (npm test does).`);
  return value;
}

const DAY = 86_400_000;
let db: Db;

test.beforeAll(() => {
  db = createPrismaClient(env("DATABASE_URL"), 2);
});
test.afterAll(async () => {
  await db.$disconnect();
});

async function emailsTo(address: string): Promise<{ subject: string }[]> {
  const response = await fetch(`${env("SMTP_SANDBOX_URL")}/messages?to=${encodeURIComponent(address)}`);
  return ((await response.json()) as { data: { subject: string }[] }).data;
}

test("a queue-position complaint is checked, answered by email, settled and flagged again", async ({
  page,
}, testInfo) => {
  // A region and queue of its own, so no other spec's data is disturbed.
  const run = randomBytes(3).toString("hex");
  const now = Date.now();
  const region = await db.region.create({
    data: { slug: `dispute-${run}`, name: `Dispute Town ${run}`, featuredSlots: 1 },
  });
  const make = (name: string) =>
    db.business.create({
      data: {
        regionId: region.id,
        name: `${name} ${run}`,
        email: `${run}-${name.toLowerCase().replaceAll(" ", "-")}@biz.example`,
      },
    });
  const [featured, ahead, complainer] = [
    await make("Featured Paws"),
    await make("Ahead Hounds"),
    await make("Waiting Woofs"),
  ];
  await db.placement.create({
    data: {
      regionId: region.id,
      businessId: featured.id,
      status: "ACTIVE",
      purchasedAt: new Date(now - 10 * DAY),
      activatedAt: new Date(now - 10 * DAY),
      featuredUntil: new Date(now + 20 * DAY),
    },
  });
  for (const [business, daysAgo] of [
    [ahead, 6],
    [complainer, 5],
  ] as const)
    await db.placement.create({
      data: {
        regionId: region.id,
        businessId: business.id,
        status: "QUEUED",
        purchasedAt: new Date(now - daysAgo * DAY),
      },
    });
  await db.business.update({
    where: { id: complainer.id },
    data: { status: "FLAGGED_FOR_REVIEW", flagNote: `Says they paid first ${run}`, flaggedAt: new Date() },
  });

  await signIn(page, OPERATOR.email);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Disputes" }).click();
  await expect(page.getByRole("heading", { name: /Businesses flagged for review/ })).toBeVisible();
  // The demo's own dispute is there too.
  await expect(page.getByRole("cell", { name: DEMO_DISPUTE_NOTE })).toBeVisible();
  await page.getByRole("link", { name: complainer.name }).click();

  const check = page.locator("[data-queue-check]");
  await expect(check.getByText(`#2 in ${region.name}`)).toBeVisible();
  await expect(check.locator("[data-fifo]")).toHaveAttribute("data-fifo", "holds");
  await expect(check.getByRole("row", { name: new RegExp(ahead.name) })).toBeVisible();
  await check.getByText(/Email to/).click();
  await expect(check.locator(".email-preview")).toContainText(`position #2 in the queue for ${region.name}`);
  await page.screenshot({ path: testInfo.outputPath("disputes-business.png"), fullPage: true });
  await check.getByRole("button", { name: "Email the trainer" }).click();
  await expect(check.getByRole("status")).toContainText(`Emailed ${complainer.email}`);
  await expect.poll(() => emailsTo(complainer.email), { timeout: 30_000 }).toHaveLength(1);

  const dispute = page.getByRole("region", { name: "Dispute" });
  await dispute.getByLabel("How it was settled").fill("Queue order matches payment times; explained by email.");
  await dispute.getByRole("button", { name: "Settle and unflag" }).click();
  await expect(dispute.getByRole("status")).toContainText("Dispute settled");
  await expect(dispute.locator("[data-dispute]")).toHaveAttribute("data-dispute", "none");
  await dispute.getByLabel("Why flag it").fill("Complained again the next week.");
  await dispute.getByRole("button", { name: "Flag for review" }).click();
  await expect(dispute.locator("[data-dispute]")).toHaveAttribute("data-dispute", "flagged");
  expect(
    (await db.auditEvent.findMany({ where: { targetId: complainer.id }, orderBy: { createdAt: "asc" } })).map(
      (entry) => entry.action,
    ),
  ).toEqual(["business.queue_position_emailed", "business.unflag", "business.flag"]);
});

test("a refund-rate alert's repeat refunders are flagged and unflagged from the alert's page", async ({ page }) => {
  const run = randomBytes(3).toString("hex");
  const region = await db.region.findFirstOrThrow({ orderBy: { createdAt: "asc" } });
  const make = (name: string) =>
    db.business.create({
      data: { regionId: region.id, name: `${name} ${run}`, email: `${run}-${name.length}@biz.example` },
    });
  const [serial, settled] = [await make("Serial Refunder"), await make("Already Flagged")];
  await db.business.update({
    where: { id: settled.id },
    data: { status: "FLAGGED_FOR_REVIEW", flagNote: `Refunds again ${run}`, flaggedAt: new Date() },
  });
  // As the refund-rate rule raises it: the detail names them, the labels carry their ids.
  const alert = await db.alert.create({
    data: {
      fingerprint: `e2e.refunds.rate_high:${run}`,
      ruleKey: "e2e.refunds.rate_high",
      severity: "RED",
      title: `Refund rate 22.2 % over 7 days ${run}`,
      detail: `Repeat refunders: ${serial.name} ×3, ${settled.name} ×2 (possible abuse: review).`,
      labels: { repeatRefunders: `${serial.id}:3,${settled.id}:2` },
    },
  });

  try {
    await signIn(page, OPERATOR.email);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Alerts" }).click();
    await page
      .locator("tbody.alert-row", { hasText: alert.title })
      .getByRole("button", { name: alert.title, exact: true })
      .click();
    const refunders = page.getByRole("table", { name: "Repeat refunders" });
    const serialRow = refunders.locator(`tr[data-business-id]`, { hasText: serial.name });
    const settledRow = refunders.locator(`tr[data-business-id]`, { hasText: settled.name });
    await expect(serialRow).toHaveAttribute("data-dispute", "none");
    await expect(serialRow.getByRole("cell").nth(0)).toHaveText("3");
    await expect(settledRow).toHaveAttribute("data-dispute", "flagged");

    await serialRow.getByRole("button", { name: `Flag ${serial.name}` }).click();
    await refunders.getByLabel(`Why flag ${serial.name}`).fill("Three refunds in a week: check before the next sale.");
    await refunders.getByRole("button", { name: "Flag for review" }).click();
    await expect(page.getByRole("status").filter({ hasText: `Flagged ${serial.name} for review` })).toBeVisible();
    await expect(serialRow).toHaveAttribute("data-dispute", "flagged");

    await settledRow.getByRole("button", { name: `Unflag ${settled.name}` }).click();
    await refunders
      .getByLabel(`How the dispute with ${settled.name} was settled`)
      .fill("Refunds were a card problem; resolved.");
    await refunders.getByRole("button", { name: "Settle and unflag" }).click();
    await expect(settledRow).toHaveAttribute("data-dispute", "none");

    expect((await db.business.findUniqueOrThrow({ where: { id: serial.id } })).status).toBe("FLAGGED_FOR_REVIEW");
    expect((await db.business.findUniqueOrThrow({ where: { id: settled.id } })).status).toBe("ACTIVE");
    // Audited as any flag: the same mutations as the business page.
    expect(
      (await db.auditEvent.findMany({ where: { targetId: { in: [serial.id, settled.id] } } }))
        .map((entry) => entry.action)
        .sort(),
    ).toEqual(["business.flag", "business.unflag"]);
    // One click away: the business page says so too.
    await serialRow.getByRole("link", { name: serial.name }).click();
    await expect(page.getByRole("region", { name: "Dispute" }).locator("[data-dispute]")).toHaveAttribute(
      "data-dispute",
      "flagged",
    );
  } finally {
    await db.alert.delete({ where: { id: alert.id } });
  }
});
