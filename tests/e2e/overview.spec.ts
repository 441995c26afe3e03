// The Monday check in a real browser against the whole stack with the demo data: the overview
// shows a red alert first and the pending work with its counts, a quick action opens the right
// page, and revenue changes live (no reload) after a payment arrives through Stripe's webhook.
// A screenshot of the overview is kept under test-results/.
import { expect, test } from "@playwright/test";
import { expectSameDocument, markDocument, OPERATOR, signIn, withDb } from "./support.ts";

const RED_TITLE = "AI provider down for 42 minutes";
const YELLOW_TITLE = "Queue longer than 10 in Melbourne";

function stripeSandboxUrl(): string {
  const url = process.env.STRIPE_SANDBOX_URL;
  if (!url) throw new Error("Set STRIPE_SANDBOX_URL (npm test starts the sandbox and sets it).");
  return url;
}

async function pendingCounts(): Promise<{ reviews: number; refunds: number }> {
  return withDb(async (db) => {
    const { rows } = await db.query<{ reviews: number; refunds: number }>(
      `SELECT (SELECT count(*) FROM "Review" WHERE status = 'PENDING')::int AS reviews,
              (SELECT count(*) FROM "RefundRequest" WHERE status = 'PENDING')::int AS refunds`,
    );
    return rows[0]!;
  });
}

test.beforeEach(async () => {
  await withDb(async (db) => {
    await db.query(
      `INSERT INTO "Alert" (id, fingerprint, "ruleKey", severity, status, title, detail, "lastSeenAt", "firstSeenAt")
       VALUES (gen_random_uuid(), 'e2e-overview:yellow', 'e2e', 'YELLOW', 'FIRING', $1, 'e2e', now(), now() - interval '2 hours'),
              (gen_random_uuid(), 'e2e-overview:red', 'e2e', 'RED', 'FIRING', $2, 'e2e', now() - interval '1 hour', now() - interval '42 minutes')
       ON CONFLICT (fingerprint) DO NOTHING`,
      [YELLOW_TITLE, RED_TITLE],
    );
  });
});

test.afterEach(async () => {
  await withDb((db) => db.query(`DELETE FROM "Alert" WHERE fingerprint LIKE 'e2e-overview:%'`));
});

test("the overview shows the red alert first, the pending work, and revenue changing live", async ({
  page,
}, testInfo) => {
  const counts = await pendingCounts();
  expect(counts.reviews).toBeGreaterThan(0);
  expect(counts.refunds).toBeGreaterThan(0);

  await signIn(page, OPERATOR.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${OPERATOR.name}` })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Overview", level: 1 })).toBeVisible();

  // Red overall, the red alert above the (newer) yellow one.
  const overall = page.getByRole("region", { name: "Overall status" });
  await expect(overall).toHaveAttribute("data-overall", "RED");
  await expect(overall).toContainText("Red");
  // (The stack's own health checks may have raised real alerts from the demo data too.)
  const alerts = page.locator("ul.alerts li");
  await expect(alerts.filter({ hasText: RED_TITLE })).toHaveAttribute("data-severity", "RED");
  await expect(alerts.filter({ hasText: YELLOW_TITLE })).toHaveAttribute("data-severity", "YELLOW");
  const listed = await alerts.evaluateAll((items) =>
    items.map((item) => ({ severity: item.getAttribute("data-severity"), text: item.textContent ?? "" })),
  );
  const position = (title: string) => listed.findIndex((item) => item.text.includes(title));
  expect(position(RED_TITLE)).toBeLessThan(position(YELLOW_TITLE));
  const severities = listed.map((item) => item.severity);
  // Every red alert above every yellow one (the seeded yellow is listed, so there is a first yellow).
  expect(severities.lastIndexOf("RED")).toBeLessThan(severities.indexOf("YELLOW"));

  // Pending work with counts and estimated time, refunds (the 3-day deadline) before reviews.
  const tasks = page.getByRole("table", { name: /Pending tasks/ });
  const refunds = tasks.locator('tr[data-task="REFUNDS"]');
  const reviews = tasks.locator('tr[data-task="REVIEWS"]');
  await expect(refunds.locator("td.count")).toHaveText(String(counts.refunds));
  await expect(reviews.locator("td.count")).toHaveText(String(counts.reviews));
  await expect(refunds.locator("td.work")).toHaveText(/min|h/);
  const order = await tasks.locator("tbody tr").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-task")));
  expect(order.indexOf("REFUNDS")).toBeLessThan(order.indexOf("REVIEWS"));

  // The metrics with their trend charts, on the same screen.
  await expect(page.locator('[data-metric="revenue"] canvas')).toBeVisible();
  await expect(page.locator('[data-metric="search-volume"] canvas')).toBeVisible();
  await expect(page.locator('[data-metric="queue-backlog"]')).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("overview-demo.png"), fullPage: true });

  // A payment arrives: a charge at Stripe, its webhook, the worker records it; the page updates itself.
  await markDocument(page);
  const revenue = page.getByTestId("revenue-mtd");
  const before = (await revenue.textContent()) ?? "";
  const business = await withDb(async (db) => {
    const { rows } = await db.query<{ id: string }>(`SELECT id FROM "Business" ORDER BY name LIMIT 1`);
    return rows[0]!.id;
  });
  const charge = await fetch(`${stripeSandboxUrl()}/v1/charges`, {
    method: "POST",
    headers: {
      authorization: "Bearer sk_test_steward_sandbox",
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({
      amount: "5500",
      currency: "aud",
      source: "tok_visa",
      "metadata[business_id]": business,
    }),
  });
  expect(charge.ok).toBe(true);
  await expect(revenue).not.toHaveText(before, { timeout: 30_000 });
  await expectSameDocument(page);

  // A quick action opens the page where the work is done.
  await page.getByRole("navigation", { name: "Quick actions" }).getByRole("link", { name: "Process refunds" }).click();
  await expect(page).toHaveURL(/\/refunds$/);
  await expect(page.getByRole("heading", { name: "Refunds", level: 1 })).toBeVisible();
});

test("the weekly checkup runs from the Reports page and its report lists each finding", async ({ page }) => {
  await signIn(page, OPERATOR.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${OPERATOR.name}` })).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reports" }).click();
  await expect(page.getByRole("heading", { name: "Reports", level: 1 })).toBeVisible();
  await page.getByRole("button", { name: "Run checkup now" }).click();
  await expect(page).toHaveURL(/\/reports\/[^/]+$/, { timeout: 30_000 });
  await expect(page.getByRole("heading", { name: "Weekly checkup", level: 1 })).toBeVisible();
  // 13 checks and "what changed since last week".
  await expect(page.locator("tr[data-finding]")).toHaveCount(14);
  await expect(page.locator('tr[data-finding="since_last_week"]')).toBeVisible();
  await expect(page.locator('tr[data-finding="refund_path"]')).toHaveAttribute("data-severity", "GREEN");
  await page.getByRole("link", { name: "← All reports" }).click();
  await expect(page.locator("tr[data-report-id]").first()).toBeVisible();
});

test("a business's payments, placements and refund history are on one page, linked from the look-up", async ({
  page,
}) => {
  const business = await withDb(async (db) => {
    const { rows } = await db.query<{ id: string; name: string; chargeId: string }>(
      `SELECT b.id, b.name, p."stripeChargeId" AS "chargeId"
         FROM "RefundRequest" r JOIN "Business" b ON b.id = r."businessId" JOIN "Payment" p ON p.id = r."paymentId"
        ORDER BY r."createdAt" LIMIT 1`,
    );
    return rows[0]!;
  });
  await signIn(page, OPERATOR.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${OPERATOR.name}` })).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Placements" }).click();
  await page.getByLabel("Business name").fill(business.name);
  await page.getByRole("list", { name: "Matching businesses" }).getByRole("button", { name: business.name }).click();
  await page.getByRole("link", { name: "Payments, reviews and refunds" }).click();
  await expect(page.getByRole("heading", { name: business.name, level: 1 })).toBeVisible();
  await expect(page.locator(`tr[data-charge="${business.chargeId}"]`)).toContainText("AUD 22.00");
  await expect(page.getByRole("region", { name: "Refund history" }).locator("tbody tr")).not.toHaveCount(0);
  await expect(page.getByRole("region", { name: "Refund history" })).not.toContainText("No refund requests.");
  await expect(page.locator("[data-featured-status]")).toBeVisible();
});
