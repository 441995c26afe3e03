// Dates and times follow the marketplace (MARKETPLACE_TIME_ZONE, Australia/Melbourne in the test
// stack, and MARKETPLACE_LOCALE, en-AU), never the browser: a browser in Los Angeles with a US
// locale sees a known instant as Melbourne's wall clock, day first, with the zone's abbreviation,
// on the Refunds page, the Alerts page and a business page.
import { randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import { createPrismaClient, type Db } from "@steward/db/client";
import { OPERATOR, signIn } from "./support.ts";

// 22:30 UTC on 15 January is 09:30 the next morning in Melbourne (AEDT, UTC+11) and 14:30 on the
// 15th in Los Angeles: the browser's zone would show another day and hour.
const INSTANT = new Date("2026-01-15T22:30:00Z");
const MELBOURNE_DATE_TIME = /16 Jan 2026,? 9:30\s?am AEDT/i;
const MELBOURNE_DATE = /^16 Jan 2026$/;
// The same instant decided an hour later: 10:30 in Melbourne.
const DECIDED = new Date(INSTANT.getTime() + 3_600_000);

test.use({ timezoneId: "America/Los_Angeles", locale: "en-US" });

function env(name: "DATABASE_URL"): string {
  const value = process.env[name];
  if (!value) throw new Error(`Set ${name} (npm test does).`);
  return value;
}

let db: Db;
test.beforeAll(() => {
  db = createPrismaClient(env("DATABASE_URL"), 2);
});
test.afterAll(async () => {
  await db.$disconnect();
});

test("a browser far from the marketplace sees its times in the marketplace's zone and locale", async ({ page }) => {
  const run = randomBytes(3).toString("hex");
  const region = await db.region.findFirstOrThrow({ orderBy: { createdAt: "asc" } });
  const business = await db.business.create({
    data: { regionId: region.id, name: `Zone Kennels ${run}`, email: `${run}@zone.example`, createdAt: INSTANT },
  });
  const payment = await db.payment.create({
    data: {
      stripeChargeId: `ch_zone_${run}`,
      businessId: business.id,
      amountCents: 2200,
      currency: "aud",
      status: "SUCCEEDED",
      purchasedAt: INSTANT,
    },
  });
  // Denied, so the pending queue other specs work through is untouched.
  await db.refundRequest.create({
    data: {
      paymentId: payment.id,
      businessId: business.id,
      reason: "Changed my mind",
      requestedBy: "e2e",
      status: "DENIED",
      decidedAt: DECIDED,
      denialNote: "Past the window",
      idempotencyKey: `zone-${run}`,
    },
  });
  const alert = await db.alert.create({
    data: {
      fingerprint: `e2e.dates:${run}`,
      ruleKey: "e2e.dates",
      severity: "YELLOW",
      title: `Zone check ${run}`,
      detail: "A known instant",
      firstSeenAt: INSTANT,
      lastSeenAt: INSTANT,
    },
  });

  try {
    await signIn(page, OPERATOR.email);
    await expect(page.getByRole("heading", { name: `Welcome, ${OPERATOR.name}` })).toBeVisible();

    // Refunds: the purchase and the decision, in Melbourne.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Refunds" }).click();
    await page.getByLabel("Show").selectOption({ label: "Denied" });
    const row = page.locator("tbody.refund", { hasText: business.name });
    await expect(row.locator("time").first()).toHaveText(MELBOURNE_DATE_TIME);
    await expect(row).toContainText(/on 16 Jan 2026,? 10:30\s?am AEDT/i);

    // Alerts: when it was last seen, and since when in its detail.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Alerts" }).click();
    const alertRow = page.locator("tbody.alert-row", { hasText: alert.title });
    await expect(alertRow.locator(`time[datetime="${INSTANT.toISOString()}"]`)).toHaveText(MELBOURNE_DATE_TIME);
    await alertRow.getByRole("button", { name: alert.title, exact: true }).click();
    await expect(page.locator("article.alert-detail")).toContainText(MELBOURNE_DATE_TIME);

    // The business page: a calendar day is the marketplace's day (the 15th in Los Angeles).
    await page.goto(`/businesses/${encodeURIComponent(Buffer.from(`Business:${business.id}`).toString("base64"))}`);
    await expect(page.getByRole("heading", { name: business.name })).toBeVisible();
    await expect(page.locator("[data-created]")).toHaveText(MELBOURNE_DATE);
  } finally {
    await db.alert.delete({ where: { id: alert.id } });
  }
});
