// A charge that did not pay its region's price, end to end: it is made at the Stripe sandbox
// (whose webhook reaches the real API, and the real worker processes it), bought no placement and
// waits on the Placements page; an operator accepts it there and the placement is bought.
import { randomBytes, randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { OPERATOR, signIn, withDb } from "./support.ts";

const suffix = randomBytes(3).toString("hex");
const region = { id: randomUUID(), slug: `e2e-prices-${suffix}`, name: `E2E Prices ${suffix}` };
const business = { id: randomUUID(), name: `E2E Underpaid Trainer ${suffix}` };

function stripeSandboxUrl(): string {
  const url = process.env.STRIPE_SANDBOX_URL;
  if (!url) throw new Error("Set STRIPE_SANDBOX_URL (npm test starts the sandboxes and sets it).");
  return url;
}

test.beforeAll(async () => {
  await withDb(async (db) => {
    await db.query(
      `INSERT INTO "Region" (id, slug, name, "featuredSlots", "placementPriceCents", "placementCurrency") VALUES ($1, $2, $3, 3, 4900, 'aud')`,
      [region.id, region.slug, region.name],
    );
    await db.query(`INSERT INTO "Business" (id, "regionId", name, email) VALUES ($1, $2, $3, $4)`, [
      business.id,
      region.id,
      business.name,
      `${business.id}@e2e.steward.test`,
    ]);
  });
});

test("an operator accepts a held mispriced charge on the Placements page and its placement is bought", async ({
  page,
}) => {
  // AUD 22.00 where a placement in this region costs AUD 49.00.
  const response = await fetch(`${stripeSandboxUrl()}/v1/charges`, {
    method: "POST",
    headers: {
      authorization: "Bearer sk_test_steward_sandbox",
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({
      amount: "2200",
      currency: "aud",
      source: "tok_visa",
      "metadata[business_id]": business.id,
    }),
  });
  expect(response.status).toBe(200);
  const charge = (await response.json()) as { id: string };
  await expect
    .poll(
      () =>
        withDb(async (db) => {
          const { rows } = await db.query<{ holdReason: string | null }>(
            `SELECT "holdReason" FROM "Payment" WHERE "stripeChargeId" = $1`,
            [charge.id],
          );
          return rows[0]?.holdReason ?? null;
        }),
      { timeout: 30_000 },
    )
    .toBe("PRICE_MISMATCH");

  await signIn(page, OPERATOR.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${OPERATOR.name}` })).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Placements" }).click();
  await expect(page.getByRole("heading", { name: "Held for review" })).toBeVisible();
  const held = page.getByRole("listitem", { name: `Held charge ${charge.id}` });
  await expect(held).toContainText(business.name);
  await expect(held).toContainText("Price mismatch");
  await expect(held).toContainText(`a placement in ${region.name} costs`);
  await expect(
    page
      .locator("section", { has: page.getByRole("heading", { name: "Placement prices" }) })
      .getByRole("row", { name: new RegExp(region.name) }),
  ).toContainText("49.00");

  await held.getByRole("button", { name: "Accept and place" }).click();
  await expect(
    page.getByRole("status").filter({ hasText: `Accepted ${business.name}'s charge: placement active` }),
  ).toBeVisible();
  await expect(held).toHaveCount(0);

  const placement = await withDb(async (db) => {
    const { rows } = await db.query<{ status: string; holdResolution: string }>(
      `SELECT pl.status, p."holdResolution" FROM "Payment" p JOIN "Placement" pl ON pl."paymentId" = p.id WHERE p."stripeChargeId" = $1`,
      [charge.id],
    );
    return rows[0];
  });
  expect(placement).toEqual({ status: "ACTIVE", holdResolution: "ACCEPTED" });

  // Gone after a reload too: the decision is the server's, not the page's.
  await page.reload();
  await expect(page.getByRole("heading", { name: "Held for review" })).toBeVisible();
  await expect(page.getByRole("listitem", { name: `Held charge ${charge.id}` })).toHaveCount(0);
});
