// The Webhooks page: the demo's held event is listed with its reason; an operator finds a charge's
// events by the charge id and replays them (re-fetched from the Stripe sandbox). A screenshot of
// the page is kept under test-results/.
import { expect, test } from "@playwright/test";
import { OPERATOR, signIn, withDb } from "./support.ts";

function stripeSandboxUrl(): string {
  const url = process.env.STRIPE_SANDBOX_URL;
  if (!url) throw new Error("Set STRIPE_SANDBOX_URL (npm test starts the sandboxes and sets it).");
  return url;
}

test("an operator sees the held event, filters by charge and replays its events", async ({ page }, testInfo) => {
  await signIn(page, OPERATOR.email);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Webhooks" }).click();
  const held = page.locator('tr[data-event-id="evt_demo_held_for_catalog"]');
  await expect(held).toHaveAttribute("data-status", "HELD");
  await expect(held).toContainText("not in the catalog yet");
  await page.screenshot({ path: testInfo.outputPath("webhooks.png"), fullPage: true });

  // A charge that buys nothing (no business named): its event is stored and processed by the worker.
  const response = await fetch(`${stripeSandboxUrl()}/v1/charges`, {
    method: "POST",
    headers: {
      authorization: "Bearer sk_test_steward_sandbox",
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ amount: "500", currency: "aud", source: "tok_visa" }),
  });
  const charge = (await response.json()) as { id: string };
  await expect
    .poll(() =>
      withDb(async (db) => {
        const { rows } = await db.query<{ status: string }>(
          `SELECT status FROM "StripeWebhookEvent" WHERE "objectId" = $1`,
          [charge.id],
        );
        return rows.map((row) => row.status);
      }),
    )
    .toContain("PROCESSED");

  await page.getByLabel("Charge").fill(charge.id);
  await page.getByRole("button", { name: "Apply filter" }).click();
  await expect(page).toHaveURL(new RegExp(`charge=${charge.id}`));
  const row = page.locator("tr[data-event-id]").first();
  await expect(row).toContainText(charge.id);
  await expect(held).toHaveCount(0);

  await row.getByRole("checkbox").check();
  await page.getByRole("button", { name: "Replay selected (1)" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Replayed 1 event(s)" })).toBeVisible();
  await expect(row).toContainText("Replay reprocessed");
  await expect(row).toHaveAttribute("data-status", "PROCESSED");
});
