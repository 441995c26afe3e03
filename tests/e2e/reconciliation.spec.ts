// Thursday's reconciliation in a real browser against the whole stack (API, worker, the Stripe
// sandbox started by `npm test`): Stripe holds a charge whose webhook never arrived; the operator
// runs reconciliation, sees the run finish live with that charge missing in our records, imports
// it (the business becomes featured or queued), accepts a second one with a note, and downloads
// the run's CSV evidence.
import { readFile } from "node:fs/promises";
import { expect, test } from "@playwright/test";
import { expectSameDocument, markDocument, OPERATOR, signIn, withDb } from "./support.ts";

function stripeSandboxUrl(): string {
  const url = process.env["STRIPE_SANDBOX_URL"];
  if (!url) throw new Error("Set STRIPE_SANDBOX_URL (npm test starts the sandbox and sets it).");
  return url;
}

/** A charge at the Stripe sandbox only: as if its webhook had been lost. */
async function missedCharge(business: { id: string; regionId: string }): Promise<string> {
  const response = await fetch(`${stripeSandboxUrl()}/_sandbox/charges`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      emitEvents: false,
      charges: [
        {
          amount: 2200,
          currency: "aud",
          created: Math.floor(Date.now() / 1000) - 3 * 3600,
          metadata: { business_id: business.id, region_id: business.regionId },
        },
      ],
    }),
  });
  expect(response.ok).toBe(true);
  const { ids } = (await response.json()) as { ids: string[] };
  return ids[0]!;
}

test("an operator runs reconciliation, imports a missed charge, accepts another and downloads the CSV", async ({
  page,
}) => {
  const business = await withDb(async (db) => {
    const { rows } = await db.query<{ id: string; name: string; regionId: string }>(
      `SELECT b.id, b.name, b."regionId" FROM "Business" b
        WHERE NOT EXISTS (SELECT 1 FROM "Placement" p WHERE p."businessId" = b.id)
        ORDER BY b.name LIMIT 1`,
    );
    return rows[0]!;
  });
  const chargeId = await missedCharge(business);
  const acceptedId = await missedCharge(business);

  await signIn(page, OPERATOR.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${OPERATOR.name}` })).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reconciliation" }).click();
  await expect(page.getByRole("heading", { name: "Reconciliation", level: 1 })).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible();
  await markDocument(page);

  await page.getByRole("button", { name: "Run reconciliation (last 7 days)" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Reconciliation started" })).toBeVisible();
  // The worker runs it; the page learns it finished over the subscription, without a reload.
  const latest = page.locator("table.runs tbody tr[data-run-id]").first();
  await expect(latest).toHaveAttribute("data-status", "COMPLETED", { timeout: 30_000 });
  await expectSameDocument(page);

  const row = page.locator(`tbody.discrepancy[data-charge-id="${chargeId}"]`);
  await expect(row).toHaveAttribute("data-kind", "MISSING_IN_DB");
  await expect(row.locator("th.kind")).toHaveText("Missing in our records");
  await expect(row.locator("td.stripe-side")).toContainText("AUD 22.00");
  await expect(row.locator("td.our-side")).toContainText("not recorded");

  await row.getByRole("button", { name: `Import charge ${chargeId}` }).click();
  await expect(page.getByRole("status").filter({ hasText: `${chargeId} resolved; placement` })).toBeVisible();
  await expect(row.getByText("Imported", { exact: true })).toBeVisible();
  await expect(row).toHaveAttribute("data-resolved", "true");

  const placement = await withDb(async (db) => {
    const { rows } = await db.query<{ status: string; businessId: string; amountCents: number }>(
      `SELECT pl.status, p."businessId", p."amountCents" FROM "Payment" p JOIN "Placement" pl ON pl."paymentId" = p.id
        WHERE p."stripeChargeId" = $1`,
      [chargeId],
    );
    return rows;
  });
  expect(placement).toHaveLength(1);
  expect(placement[0]).toMatchObject({ businessId: business.id, amountCents: 2200 });
  expect(["ACTIVE", "QUEUED"]).toContain(placement[0]!.status);

  // The other one is accepted as it is: the note is required and kept with the evidence.
  const note = `Test charge made by hand at Stripe (${Date.now()})`;
  const other = page.locator(`tbody.discrepancy[data-charge-id="${acceptedId}"]`);
  await other.getByRole("button", { name: `Accept… ${acceptedId}` }).click();
  const acceptButton = other.getByRole("button", { name: "Accept difference" });
  await expect(acceptButton).toBeDisabled();
  await other.getByLabel(/Why the difference is accepted/).fill(note);
  await acceptButton.click();
  await expect(page.getByRole("status").filter({ hasText: `${acceptedId} resolved` })).toBeVisible();
  await expect(other).toHaveAttribute("data-resolved", "true");
  await expect(other.getByText(`Note: ${note}`)).toBeVisible();
  await expect(acceptButton).toHaveCount(0);
  const accepted = await withDb(async (db) => {
    const { rows } = await db.query<{ resolution: string; resolutionNote: string }>(
      `SELECT resolution, "resolutionNote" FROM "Discrepancy" WHERE "stripeChargeId" = $1`,
      [acceptedId],
    );
    return rows;
  });
  expect(accepted).toEqual([{ resolution: "ACCEPTED", resolutionNote: note }]);

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    latest.getByRole("link", { name: "CSV" }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^payment-reconciliation-\d{4}-\d{2}-\d{2}-[0-9a-f-]{36}\.csv$/);
  const csv = await readFile(await download.path(), "utf8");
  const line = csv.split("\r\n").find((candidate) => candidate.includes(chargeId));
  expect(line).toBeDefined();
  expect(line).toContain("MISSING_IN_DB");
  expect(line).toContain("IMPORTED");
  expect(line).toContain(OPERATOR.email);
});
