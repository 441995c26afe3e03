// The Placements page with a region seeded here in PostgreSQL (one featured slot, one business
// featured for 10 more days, one waiting): an operator sees both, looks up the waiting business
// and reads its position and expected date (the featured one's expiry), as in playbook 4. An admin
// changes the region's slots; going below the active placements is refused with the reason.
import { randomBytes, randomUUID } from "node:crypto";
import { expect, type Page, test } from "@playwright/test";
import { ADMIN, OPERATOR, signIn, withDb } from "./support.ts";

const DAY_MS = 86_400_000;
const suffix = randomBytes(3).toString("hex");
const region = { id: randomUUID(), slug: `e2e-placements-${suffix}`, name: `E2E Placements ${suffix}` };
const featured = { id: randomUUID(), name: `E2E Featured Trainer ${suffix}` };
const waiting = { id: randomUUID(), name: `E2E Waiting Trainer ${suffix}` };
const extra = { id: randomUUID(), name: `E2E Late Trainer ${suffix}` };
const now = Date.now();
const featuredBought = new Date(now - 20 * DAY_MS);
const featuredFrom = new Date(now - 20 * DAY_MS + 60_000);
const featuredUntil = new Date(now + 10 * DAY_MS);
const waitingBought = new Date(now - 2 * DAY_MS);

/** A SUCCEEDED payment and its placement, written as the payments flow would have. */
async function insertPlacement(
  db: Parameters<Parameters<typeof withDb>[0]>[0],
  business: { id: string },
  placement: { status: "ACTIVE" | "QUEUED"; purchasedAt: Date; activatedAt?: Date; featuredUntil?: Date },
): Promise<void> {
  const paymentId = randomUUID();
  // Timestamps go in as UTC ISO strings: the columns are `timestamp` (UTC) without a zone.
  await db.query(
    `INSERT INTO "Payment" (id, "stripeChargeId", "businessId", "amountCents", currency, status, "purchasedAt", "updatedAt")
     VALUES ($1, $2, $3, 2200, 'aud', 'SUCCEEDED', $4, now())`,
    [paymentId, `ch_e2e_${suffix}_${paymentId.slice(0, 8)}`, business.id, placement.purchasedAt.toISOString()],
  );
  await db.query(
    `INSERT INTO "Placement" (id, "businessId", "regionId", "paymentId", status, "purchasedAt", "activatedAt", "featuredUntil")
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      randomUUID(),
      business.id,
      region.id,
      paymentId,
      placement.status,
      placement.purchasedAt.toISOString(),
      placement.activatedAt?.toISOString() ?? null,
      placement.featuredUntil?.toISOString() ?? null,
    ],
  );
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  await withDb(async (db) => {
    await db.query(`INSERT INTO "Region" (id, slug, name, "featuredSlots") VALUES ($1, $2, $3, 1)`, [
      region.id,
      region.slug,
      region.name,
    ]);
    for (const business of [featured, waiting, extra]) {
      await db.query(`INSERT INTO "Business" (id, "regionId", name, email) VALUES ($1, $2, $3, $4)`, [
        business.id,
        region.id,
        business.name,
        `${business.id}@e2e.steward.test`,
      ]);
    }
    await insertPlacement(db, featured, {
      status: "ACTIVE",
      purchasedAt: featuredBought,
      activatedAt: featuredFrom,
      featuredUntil,
    });
    await insertPlacement(db, waiting, { status: "QUEUED", purchasedAt: waitingBought });
  });
});

test.afterAll(async () => {
  await withDb(async (db) => {
    const businesses = [featured.id, waiting.id, extra.id];
    await db.query(`DELETE FROM "Placement" WHERE "regionId" = $1`, [region.id]);
    await db.query(`DELETE FROM "Payment" WHERE "businessId" = ANY($1::uuid[])`, [businesses]);
    await db.query(`DELETE FROM "Business" WHERE id = ANY($1::uuid[])`, [businesses]);
    await db.query(`DELETE FROM "Region" WHERE id = $1`, [region.id]);
  });
});

async function openRegion(page: Page, email: string, name: string): Promise<void> {
  await signIn(page, email);
  await expect(page.getByRole("heading", { name: `Welcome, ${name}` })).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Placements" }).click();
  await expect(page.getByRole("heading", { name: "Placements", level: 1 })).toBeVisible();
  await page
    .getByRole("table", { name: /Regions/ })
    .getByRole("link", { name: region.name })
    .click();
  await expect(page).toHaveURL(new RegExp(`\\?region=${region.slug}$`));
  await expect(page.getByRole("heading", { name: region.name, level: 2 })).toBeVisible();
}

test("an operator sees the region's featured and queued businesses and looks up the waiting one", async ({ page }) => {
  await openRegion(page, OPERATOR.email, OPERATOR.name);
  const detail = page.locator(`section[data-region-id="${region.id}"]`);
  await expect(detail.locator("[data-slots-usage]")).toContainText("1 / 1 active");
  await expect(detail.locator("[data-slots-usage]")).toContainText("1 waiting");
  // Operators do not get the admin's slots editor.
  await expect(detail.getByRole("spinbutton", { name: "Featured slots" })).toHaveCount(0);

  // Featured now: the business, until when, and in how many days.
  const active = page.getByRole("table", { name: `Featured now in ${region.name}` });
  const activeRow = active.getByRole("row", { name: new RegExp(featured.name) });
  await expect(activeRow).toBeVisible();
  await expect(activeRow.locator("td[data-featured-until] time")).toHaveAttribute(
    "datetime",
    featuredUntil.toISOString(),
  );
  await expect(activeRow).toContainText("in 10 days");

  // The queue: the waiting business at position 1.
  const queue = page.getByRole("table", { name: `Queue in ${region.name}` });
  const queuedRow = queue.getByRole("row", { name: new RegExp(waiting.name) });
  await expect(queuedRow).toHaveAttribute("data-position", "1");
  await expect(queuedRow.locator("td.position")).toHaveText("1");
  await expect(queue.locator("tbody tr[data-position]")).toHaveCount(1);

  // Look the waiting business up by name: position 1, nobody ahead, expected when the featured one ends.
  await page.getByRole("searchbox", { name: "Business name" }).fill(`Waiting Trainer ${suffix}`);
  const hits = page.getByRole("list", { name: "Matching businesses" });
  await hits.getByRole("button", { name: waiting.name }).click();
  const answer = page.locator("#lookup-answer");
  await expect(answer.getByRole("heading", { name: new RegExp(waiting.name) })).toBeVisible();
  const status = answer.locator('[data-featured-status="QUEUED"]');
  await expect(status).toContainText(`Position 1 in ${region.name}`);
  await expect(status).toContainText("nobody ahead");
  await expect(status).toContainText("expected to be featured around");
  await expect(status.locator("time[data-eta]")).toHaveAttribute("datetime", featuredUntil.toISOString());
  // The marketplace's day (Australia/Melbourne, en-AU in the test stack), whatever the browser's zone.
  const etaText = new Intl.DateTimeFormat("en-AU", {
    year: "numeric",
    month: "short",
    day: "numeric",
    timeZone: "Australia/Melbourne",
  }).format(featuredUntil);
  await expect(status.locator("time[data-eta]")).toHaveText(etaText);

  // The featured business: featured until its expiry.
  await page.getByRole("searchbox", { name: "Business name" }).fill(featured.name);
  await hits.getByRole("button", { name: featured.name }).click();
  const featuredStatus = answer.locator('[data-featured-status="ACTIVE"]');
  await expect(featuredStatus).toContainText("Featured until");
  await expect(featuredStatus.locator("time")).toHaveAttribute("datetime", featuredUntil.toISOString());

  // A business without a paid placement says so.
  await page.getByRole("searchbox", { name: "Business name" }).fill(extra.name);
  await hits.getByRole("button", { name: extra.name }).click();
  await expect(answer.locator('[data-featured-status="NOT_FEATURED"]')).toContainText(
    "Not featured: no paid placement",
  );

  // The queue row's own button shows the same answer for the waiting business.
  await queuedRow.getByRole("button", { name: /Position and ETA/ }).click();
  await expect(answer.locator('[data-featured-status="QUEUED"]')).toContainText(`Position 1 in ${region.name}`);
  await expect(answer).toBeFocused();
});

test("an admin changes the region's slots; below the active placements is refused", async ({ page }) => {
  await openRegion(page, ADMIN.email, ADMIN.name);
  const detail = page.locator(`section[data-region-id="${region.id}"]`);
  const slots = detail.getByRole("spinbutton", { name: "Featured slots" });
  const save = detail.getByRole("button", { name: "Save slots" });
  await expect(slots).toHaveValue("1");

  // Checked in the browser before asking the server.
  await slots.fill("0");
  await save.click();
  await expect(detail.getByRole("alert")).toHaveText("Enter a whole number of slots from 1 to 100.");

  // Two slots: the business waiting in the queue is featured at once.
  await slots.fill("2");
  await save.click();
  await expect(detail.getByRole("status")).toContainText(`${region.name} now has 2 featured slots`);
  await expect(detail.locator("[data-slots-usage]")).toContainText("2 / 2 active");
  expect(
    await withDb(async (db) => {
      const { rows } = await db.query<{ featuredSlots: number; active: string }>(
        `SELECT r."featuredSlots", (SELECT count(*) FROM "Placement" p WHERE p."regionId" = r.id AND p.status = 'ACTIVE') AS active
           FROM "Region" r WHERE r.id = $1`,
        [region.id],
      );
      return rows[0] ? { featuredSlots: rows[0].featuredSlots, active: Number(rows[0].active) } : null;
    }),
  ).toEqual({ featuredSlots: 2, active: 2 });

  // One slot would be below the two active placements: refused, nothing changes.
  await slots.fill("1");
  await save.click();
  await expect(detail.getByRole("alert")).toHaveText("2 placements are active; slots cannot go below that");
  await expect(detail.locator("[data-slots-usage]")).toContainText("2 / 2 active");

  // The change was audited under the admin's name.
  const audited = await withDb(async (db) => {
    const { rows } = await db.query<{ count: string }>(
      `SELECT count(*) FROM "AuditEvent" WHERE action = 'region.setSlots' AND "targetId" = $1`,
      [region.id],
    );
    return Number(rows[0]?.count ?? 0);
  });
  expect(audited).toBe(1);
});
