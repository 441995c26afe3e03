// The Reviews page: bulk approval at the threshold, reject with a reason, reopen, the live counts
// while an integration submits a review, a viewer's refusal, and per-row conflicts.
// The tests share the seeded database with each other and with the other specs: each one reads the
// figures it compares from the database right before acting, and adds the reviews it needs itself.
import { expect, type Locator, type Page, test } from "@playwright/test";
import {
  createApiToken,
  expectSameDocument,
  globalId,
  markDocument,
  OPERATOR,
  rawId,
  signIn,
  VIEWER,
  withDb,
} from "./support.ts";

test.describe.configure({ mode: "serial" });

interface QueueFigures {
  pending: number;
  eligible: number;
}

async function queueFigures(threshold = 0.9): Promise<QueueFigures> {
  return withDb(async (db) => {
    const { rows } = await db.query<{ pending: string; eligible: string }>(
      `SELECT count(*) AS pending, count(*) FILTER (WHERE "aiConfidence" >= $1) AS eligible
         FROM "Review" WHERE status = 'PENDING'`,
      [threshold],
    );
    return { pending: Number(rows[0]?.pending ?? 0), eligible: Number(rows[0]?.eligible ?? 0) };
  });
}

interface ReviewRow {
  status: string;
  rejectionReason: string | null;
  moderatorNote: string | null;
  moderator: string | null;
}

async function reviewInDb(id: string): Promise<ReviewRow> {
  return withDb(async (db) => {
    const { rows } = await db.query<ReviewRow>(
      `SELECT r.status, r."rejectionReason", r."moderatorNote", o.email AS moderator
         FROM "Review" r LEFT JOIN "Operator" o ON o.id = r."moderatorId" WHERE r.id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) throw new Error(`no review ${id}`);
    return row;
  });
}

/** Adds pending reviews scored at `confidence` for one business; returns their ids and the business. */
async function addPendingReviews(confidences: readonly number[], body: string) {
  return withDb(async (db) => {
    const { rows: businesses } = await db.query<{ id: string; name: string }>(
      `SELECT id, name FROM "Business" ORDER BY name LIMIT 1`,
    );
    const business = businesses[0];
    if (!business) throw new Error("no business in the seed");
    const ids: string[] = [];
    for (const confidence of confidences) {
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO "Review" (id, "businessId", rating, body, source, "aiConfidence", "aiProvider", "aiScoredAt", "createdAt")
         VALUES (gen_random_uuid(), $1, 5, $2, 'e2e', $3, 'deterministic', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
         RETURNING id`,
        [business.id, body, confidence],
      );
      ids.push(rows[0]?.id ?? "");
    }
    return { ids, business };
  });
}

function reviewRow(page: Page, id: string): Locator {
  return page.locator(`tbody.review[data-review-id="${globalId("Review", id)}"]`);
}

async function openReviews(page: Page, email: string, name: string): Promise<void> {
  await signIn(page, email);
  await expect(page.getByRole("heading", { name: `Welcome, ${name}` })).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reviews" }).click();
  await expect(page.getByRole("heading", { name: "Reviews", level: 1 })).toBeVisible();
  await expect(page.locator('[data-live-status="live"]')).toBeVisible();
}

test("an operator bulk-approves, rejects, reopens, and sees a submitted review arrive live", async ({
  page,
  request,
}) => {
  // Whatever ran before on this database, some pending reviews are eligible at 0.90.
  await addPendingReviews([0.93, 0.97, 0.995], "Our puppy learned to sit and stay in two sessions. Great trainer.");
  const before = await queueFigures();
  expect(before.eligible).toBeGreaterThanOrEqual(3);

  await openReviews(page, OPERATOR.email, OPERATOR.name);
  const pendingCount = page.locator('[data-stat="pending"]');
  await expect(pendingCount).toHaveText(String(before.pending));
  await expect(page.locator('[data-stat="auto-eligible"]')).toHaveText(String(before.eligible));
  await expect(page.locator("tbody.review").first()).toBeVisible();
  await markDocument(page);

  // Bulk approval: the confirmation states the count first, equal to what the database says.
  await expect(page.getByLabel("Threshold")).toHaveValue("0.9");
  await page.getByRole("button", { name: "Bulk approve ≥ 0.90" }).click();
  const confirmation = page.getByRole("group", { name: "Confirm bulk approval" });
  await expect(confirmation).toContainText(`Approve ${before.eligible} reviews?`);
  await confirmation.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Approved" })).toHaveText(
    `Approved ${before.eligible} reviews with confidence ≥ 0.90`,
  );
  const afterBulk = await queueFigures();
  expect(afterBulk).toEqual({ pending: before.pending - before.eligible, eligible: 0 });
  await expect(pendingCount).toHaveText(String(afterBulk.pending));
  await expect(page.locator('[data-stat="auto-eligible"]')).toHaveText("0");
  await expect(confirmation).toHaveCount(0);

  // Reject the oldest pending review as off topic, narrowing the list to its business first. Wait
  // for the list to show the queue as it is after the bulk approval (it refreshes live), then find
  // the row by its id, so a re-render can't swap it for another.
  const oldestPendingId = await withDb(async (db) => {
    const { rows } = await db.query<{ id: string }>(
      `SELECT id FROM "Review" WHERE status = 'PENDING' ORDER BY "createdAt", id LIMIT 1`,
    );
    return rows[0]?.id ?? "";
  });
  await expect(page.locator("tbody.review").first()).toHaveAttribute(
    "data-review-id",
    globalId("Review", oldestPendingId),
  );
  const reviewId = oldestPendingId;
  const row = reviewRow(page, reviewId);
  const shownName = (text: string) => text.replace(/^Show only reviews of\s*/, "").trim();
  const businessName = shownName(await row.locator("td.business button").innerText());
  await row.getByRole("button", { name: /^Show only reviews of / }).click();
  const filters = page.getByRole("form", { name: "Filter reviews" });
  await expect(filters).toContainText(`Business: ${businessName}`);
  await expect(row).toHaveAttribute("data-status", "PENDING");
  for (const name of await page.locator("tbody.review td.business button").allInnerTexts())
    expect(shownName(name)).toBe(businessName);

  const note = `Asks about plumbers, not dog training (${Date.now()})`;
  await row.getByRole("button", { name: "Reject…" }).click();
  const rejectForm = row.getByRole("form", { name: "Reject review" });
  await rejectForm.getByLabel("Reason").selectOption("OFF_TOPIC");
  await rejectForm.getByLabel("Note (optional)").fill(note);
  await rejectForm.getByRole("button", { name: "Confirm rejection" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Rejected (Off topic)" })).toBeVisible();
  await expect(row).toHaveCount(0);
  await expect(pendingCount).toHaveText(String(afterBulk.pending - 1));
  expect(await reviewInDb(reviewId)).toEqual({
    status: "REJECTED",
    rejectionReason: "OFF_TOPIC",
    moderatorNote: note,
    moderator: OPERATOR.email,
  });

  // Among the rejected reviews of that business, with its history; then reopen it.
  await filters.getByLabel("Status").selectOption("REJECTED");
  await expect(row).toHaveAttribute("data-status", "REJECTED");
  await expect(row.locator("td.status")).toContainText("Off topic");
  await row.getByRole("button", { name: "Details" }).click();
  // (The oldest pending review may have been decided before, by an earlier run: find this decision.)
  const rejection = row
    .getByRole("region", { name: "Review details" })
    .locator('tr[data-decision="REJECT"]')
    .filter({ hasText: note });
  await expect(rejection).toContainText(OPERATOR.name);
  await expect(rejection).toContainText("Off topic");

  const why = `The reviewer mentions the trainer too; a second look is needed (${Date.now()})`;
  await row.getByRole("button", { name: "Reopen…" }).click();
  const reopenForm = row.getByRole("form", { name: "Reopen review" });
  await reopenForm.getByLabel("Why reopen?").fill(why);
  await reopenForm.getByRole("button", { name: "Confirm reopen" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Reopened" })).toBeVisible();
  await expect(row).toHaveCount(0);
  expect((await reviewInDb(reviewId)).status).toBe("PENDING");

  await filters.getByLabel("Status").selectOption("PENDING");
  await expect(row).toHaveAttribute("data-status", "PENDING");
  await expect(pendingCount).toHaveText(String(afterBulk.pending));
  await row.getByRole("button", { name: "Details" }).click();
  const history = row.getByRole("region", { name: "Review details" });
  await expect(history.locator('tr[data-decision="REJECT"]').filter({ hasText: note })).toHaveCount(1);
  await expect(history.locator('tr[data-decision="REOPEN"]').filter({ hasText: why })).toContainText(OPERATOR.name);

  // An integration submits a review for the business shown: the count and the list follow live.
  const businessId = await withDb(async (db) => {
    const { rows } = await db.query<{ businessId: string }>(`SELECT "businessId" FROM "Review" WHERE id = $1`, [
      reviewId,
    ]);
    return rows[0]?.businessId ?? "";
  });
  const pendingBeforeSubmit = (await queueFigures()).pending;
  await expect(pendingCount).toHaveText(String(pendingBeforeSubmit));
  const token = await createApiToken(["reviews:write"]);
  const response = await request.post("/graphql", {
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    data: {
      query: `mutation Submit($businessId: ID!, $rating: Int!, $body: String!) {
        submitReview(businessId: $businessId, rating: $rating, body: $body) {
          __typename
          ... on MutationSubmitReviewSuccess { data { id status } }
          ... on Error { message }
        }
      }`,
      variables: {
        businessId: globalId("Business", businessId),
        rating: 5,
        body: "Patient trainer, our rescue dog now walks on a loose lead and comes back on recall.",
      },
    },
  });
  expect(response.ok()).toBe(true);
  const submitted = (await response.json()) as {
    data?: { submitReview: { __typename: string; data?: { id: string; status: string }; message?: string } };
  };
  expect(submitted.data?.submitReview.__typename, JSON.stringify(submitted)).toBe("MutationSubmitReviewSuccess");
  const newId = submitted.data?.submitReview.data?.id ?? "";

  await expect(pendingCount).toHaveText(String(pendingBeforeSubmit + 1));
  const newRow = page.locator(`tbody.review[data-review-id="${newId}"]`);
  await expect(newRow).toHaveAttribute("data-status", "PENDING");
  // The worker scores it (deterministic classifier); the row shows the score, still live.
  await expect(newRow.locator("td.confidence")).not.toContainText("Not scored", { timeout: 20_000 });
  await expect(newRow.locator("td.classifier")).toContainText("deterministic");
  await expectSameDocument(page);
});

test("a viewer's Approve is refused and the review stays pending", async ({ page }) => {
  await openReviews(page, VIEWER.email, VIEWER.name);
  const row = page.locator("tbody.review").first();
  await expect(row).toBeVisible();
  const reviewId = rawId((await row.getAttribute("data-review-id")) ?? "");

  await row.getByRole("button", { name: "Approve" }).click();
  await expect(page.getByRole("alert")).toHaveText("You are not allowed to do this");
  await expect(row).toHaveAttribute("data-status", "PENDING");
  expect((await reviewInDb(reviewId)).status).toBe("PENDING");
  const decisions = await withDb(async (db) => {
    const { rows } = await db.query<{ count: string }>(
      `SELECT count(*) FROM "ReviewDecision" d JOIN "Operator" o ON o.id = d."actorId" WHERE o.email = $1`,
      [VIEWER.email],
    );
    return Number(rows[0]?.count ?? 0);
  });
  expect(decisions).toBe(0);
});

test("approving several reports the one another operator decided first", async ({ page }) => {
  // Two reviews in a confidence band the seed leaves empty, so a confidence filter finds them.
  const { ids } = await addPendingReviews([0.612, 0.618], "Good recall training, friendly trainer and clear advice.");
  const [mine, theirs] = ids as [string, string];

  await openReviews(page, OPERATOR.email, OPERATOR.name);
  const filters = page.getByRole("form", { name: "Filter reviews" });
  await filters.getByLabel("Minimum confidence").fill("0.61");
  await filters.getByLabel("Maximum confidence").fill("0.62");
  await filters.getByRole("button", { name: "Apply filters" }).click();
  await expect(reviewRow(page, mine)).toBeVisible();
  await expect(reviewRow(page, theirs)).toBeVisible();
  for (const text of await page.locator("tbody.review td.confidence .conf").allInnerTexts())
    expect(Number(text)).toBeGreaterThanOrEqual(0.61);

  await reviewRow(page, mine).getByRole("checkbox").check();
  await reviewRow(page, theirs).getByRole("checkbox").check();
  const selection = page.getByRole("group", { name: "Selected reviews" });
  await expect(selection).toContainText("2 reviews selected");

  // Someone else approves one of them meanwhile (straight in the database: no live event).
  await withDb((db) =>
    db.query(`UPDATE "Review" SET status = 'APPROVED', version = version + 1, "decidedAt" = now() WHERE id = $1`, [
      theirs,
    ]),
  );
  await selection.getByRole("button", { name: "Approve selected" }).click();
  const report = page.getByRole("alert");
  await expect(report).toContainText("Approved 1 of 2 reviews; could not approve 1:");
  await expect(report).toContainText("This review was already approved by someone else");
  expect(await reviewInDb(mine)).toMatchObject({ status: "APPROVED", moderator: OPERATOR.email });
  await expect(reviewRow(page, mine)).toHaveCount(0);
  await expect(reviewRow(page, theirs)).toHaveCount(0);
});
