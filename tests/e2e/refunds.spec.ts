// The Thursday refund batch in a real browser against the whole stack (API, worker, the Stripe
// sandbox and the SMTP sandbox started by `npm test`): the seeded pending requests are listed
// oldest purchase first, a request past 3 days cannot be approved (the server says why), the
// operator denies it and approves a fresh one (processing, then refunded by the refund job), and
// both emails arrive, once each.
import { expect, type Page, test } from "@playwright/test";
import { OPERATOR, signIn, withDb } from "./support.ts";

interface PendingRequest {
  id: string;
  name: string;
  email: string;
  chargeId: string;
  daysElapsed: number;
}

interface ReceivedEmail {
  subject: string;
  text: string;
  to: string[];
}

function sandboxUrl(name: "STRIPE_SANDBOX_URL" | "SMTP_SANDBOX_URL"): string {
  const url = process.env[name];
  if (!url) throw new Error(`Set ${name} (npm test starts the sandboxes and sets it).`);
  return url;
}

async function pendingRequests(): Promise<PendingRequest[]> {
  return withDb(async (db) => {
    const { rows } = await db.query<PendingRequest>(
      `SELECT r.id, b.name, b.email, p."stripeChargeId" AS "chargeId",
              floor(extract(epoch FROM (now() AT TIME ZONE 'UTC') - p."purchasedAt") / 86400)::int AS "daysElapsed"
         FROM "RefundRequest" r JOIN "Payment" p ON p.id = r."paymentId" JOIN "Business" b ON b.id = r."businessId"
        WHERE r.status = 'PENDING' ORDER BY p."purchasedAt", r.id`,
    );
    return rows;
  });
}

async function emailsTo(address: string): Promise<ReceivedEmail[]> {
  const response = await fetch(`${sandboxUrl("SMTP_SANDBOX_URL")}/messages?to=${encodeURIComponent(address)}`);
  return ((await response.json()) as { data: ReceivedEmail[] }).data;
}

test("an operator denies a late refund request and approves a fresh one; both emails arrive", async ({ page }) => {
  const pending = await pendingRequests();
  expect(pending.length).toBeGreaterThanOrEqual(3);
  const tooLate = pending[0]!;
  const fresh = pending[pending.length - 1]!;
  const daysLate = tooLate.daysElapsed;
  expect(daysLate).toBeGreaterThanOrEqual(3);

  await signIn(page, OPERATOR.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${OPERATOR.name}` })).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Refunds" }).click();
  await expect(page.getByRole("heading", { name: "Refunds", level: 1 })).toBeVisible();

  // Oldest purchase first, each with amount and days elapsed; the late one and the urgent one marked.
  const rows = page.locator("tbody.refund");
  await expect(rows).toHaveCount(pending.length);
  await expect(rows.locator("th.business")).toHaveText(pending.map((request) => request.name));
  const lateRow = page.locator(`tbody.refund[data-refund-id="${globalId(tooLate.id)}"]`);
  await expect(lateRow.locator("td.amount")).toHaveText("AUD 22.00");
  await expect(lateRow.locator("td.days")).toHaveText(`${daysLate} days`);
  await expect(lateRow.getByText("Too late")).toBeVisible();
  await expect(page.locator("tbody.refund .expires-soon")).toHaveCount(1);
  await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible();

  // Past 3 days there is nothing to approve: the row offers Deny only (the server refuses it too).
  await expect(lateRow.getByRole("button", { name: `Approve refund for ${tooLate.name}` })).toHaveCount(0);

  // Deny it with the prefilled reason.
  await lateRow.getByRole("button", { name: `Deny refund for ${tooLate.name}` }).click();
  await lateRow.getByLabel(/Reason for denying/).fill("Refunds are only available within 3 days of purchase.");
  await lateRow.getByRole("button", { name: "Deny refund", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: `Denied the refund for ${tooLate.name}` })).toBeVisible();
  await expect(lateRow).toHaveCount(0);

  // Approve the fresh one.
  const freshRow = page.locator(`tbody.refund[data-refund-id="${globalId(fresh.id)}"]`);
  await freshRow.getByRole("button", { name: `Approve refund for ${fresh.name}` }).click();
  // A single approval asks first, as the bulk approval of reviews does; nothing moved yet.
  const confirmRefund = freshRow.getByRole("group", { name: `Confirm refund for ${fresh.name}` });
  await expect(confirmRefund).toContainText(`Refund AUD 22.00 to ${fresh.name}?`);
  // The approval's answer and the live event update the row in place: the list is not read again
  // (the row leaves the pending list without a refetch; nothing is left on a next page to pull in).
  const listReads = countOperations(page, "RefundRequests");
  await confirmRefund.getByRole("button", { name: "Confirm refund" }).click();
  // The approval claims the request at once; the refund job refunds it at Stripe a moment later.
  await expect(page.getByRole("status").filter({ hasText: `Refunding AUD 22.00 to ${fresh.name}` })).toBeVisible();
  await expect(freshRow).toHaveCount(0);
  await expect(rows).toHaveCount(pending.length - 2);
  // Long enough for the worker's events and the page's debounce to have come and gone.
  await page.waitForTimeout(2_000);
  expect(listReads.count, "list refetches for one refund approval").toBe(0);

  // The decided requests are listed under their status; the live feed brings the refund in when done.
  await page.getByLabel("Show").selectOption("APPROVED");
  await expect(page.locator(`tbody.refund[data-refund-id="${globalId(fresh.id)}"]`)).toContainText(
    "Stripe refund re_",
    { timeout: 20_000 },
  );

  // Exactly one refund at Stripe, for the full amount.
  const stripe = await fetch(`${sandboxUrl("STRIPE_SANDBOX_URL")}/v1/refunds?charge=${fresh.chargeId}`, {
    headers: { authorization: "Bearer sk_test_steward_sandbox" },
  });
  const refunds = ((await stripe.json()) as { data: { amount: number }[] }).data;
  expect(refunds.map((refund) => refund.amount)).toEqual([2200]);

  // Both emails arrive, once each, with what the business needs to know.
  await expect.poll(async () => (await emailsTo(fresh.email)).length, { timeout: 20_000 }).toBe(1);
  const [approved] = await emailsTo(fresh.email);
  expect(approved?.subject).toBe("Your refund of AUD 22.00 has been processed");
  expect(approved?.text).toContain("Look for it on your statement in 3–5 business days.");
  await expect.poll(async () => (await emailsTo(tooLate.email)).length, { timeout: 20_000 }).toBe(1);
  const [denied] = await emailsTo(tooLate.email);
  expect(denied?.subject).toBe("About your refund request");
  expect(denied?.text).toMatch(
    new RegExp(
      `Unfortunately, refunds are only available within 3 days of purchase\\. Your purchase was on \\d{1,2} [A-Z][a-z]{2} \\d{4}, which is ${daysLate} days ago\\. We cannot process this refund\\.`,
    ),
  );
});

/** Counts the GraphQL operations named `name` the page sends from now on. */
function countOperations(page: Page, name: string): { count: number } {
  const counter = { count: 0 };
  page.on("request", (request) => {
    if (!request.url().endsWith("/graphql") || request.method() !== "POST") return;
    const body = request.postDataJSON() as { operationName?: string } | null;
    if (body?.operationName === name) counter.count += 1;
  });
  return counter;
}

function globalId(id: string): string {
  return Buffer.from(`RefundRequest:${id}`).toString("base64");
}
