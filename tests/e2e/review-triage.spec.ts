// Keyboard triage on the Reviews page: ? shows the keys, j/k move (the row takes the focus and
// an aria-live region says which review it is), x selects, r then 1–4 rejects with that reason,
// a approves, and the focus moves on to the next pending review. Decisions land in the database.
import { expect, test } from "@playwright/test";
import { globalId, OPERATOR, signIn, withDb } from "./support.ts";

async function addReviews(word: string, bodies: readonly string[]): Promise<string[]> {
  return withDb(async (db) => {
    const { rows: businesses } = await db.query<{ id: string }>(`SELECT id FROM "Business" ORDER BY name LIMIT 1`);
    const ids: string[] = [];
    for (const [index, body] of bodies.entries()) {
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO "Review" (id, "businessId", rating, body, source, "aiConfidence", "aiProvider", "aiScoredAt", "createdAt")
         VALUES (gen_random_uuid(), $1, 4, $2, 'e2e', 0.7, 'deterministic', now() AT TIME ZONE 'UTC',
                 (now() AT TIME ZONE 'UTC') - ($3 || ' minutes')::interval)
         RETURNING id`,
        [businesses[0]!.id, `${body} (${word})`, String(10 - index)],
      );
      ids.push(rows[0]!.id);
    }
    return ids;
  });
}

async function statusOf(id: string): Promise<{ status: string; rejectionReason: string | null }> {
  return withDb(async (db) => {
    const { rows } = await db.query<{ status: string; rejectionReason: string | null }>(
      `SELECT status, "rejectionReason" FROM "Review" WHERE id = $1`,
      [id],
    );
    return rows[0]!;
  });
}

test("an operator triages reviews with the keyboard, and the screen reader hears each step", async ({ page }) => {
  const word = `kbtriage${Date.now()}`;
  const [plumber, good, third] = (await addReviews(word, [
    "Anyone know a plumber? Nothing about dogs here.",
    "Our puppy walks on a loose lead now, patient trainer.",
    "Recall training at the park worked well for our kelpie.",
  ])) as [string, string, string];
  const row = (id: string) => page.locator(`tbody.review[data-review-id="${globalId("Review", id)}"]`);
  const announcement = page.getByTestId("triage-announcement");

  await signIn(page, OPERATOR.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${OPERATOR.name}` })).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reviews" }).click();
  const search = page.getByRole("form", { name: "Filter reviews" }).getByRole("searchbox", { name: "Search" });
  await search.fill(word);
  await search.press("Enter");
  await expect(page.getByTestId("queue-shown")).toContainText("Showing 3 of 3 reviews");
  await expect(announcement).toHaveAttribute("aria-live", "polite");
  // Keys typed into the search box stay there: "j" is a letter, not a move.
  await expect(page.locator("tbody.review:focus")).toHaveCount(0);
  await search.blur();

  await page.keyboard.press("?");
  const help = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await expect(help).toContainText("r then 1–4");
  await page.keyboard.press("Escape");
  await expect(help).toHaveCount(0);

  await page.keyboard.press("j");
  await expect(row(plumber)).toBeFocused();
  await expect(announcement).toContainText("Review 1 of 3");
  await page.keyboard.press("j");
  await expect(row(good)).toBeFocused();
  await page.keyboard.press("k");
  await expect(row(plumber)).toBeFocused();

  await page.keyboard.press("x");
  await expect(row(plumber).getByRole("checkbox")).toBeChecked();
  await expect(page.getByRole("group", { name: "Selected reviews" })).toContainText("1 review selected");
  await page.keyboard.press("x");
  await expect(row(plumber).getByRole("checkbox")).not.toBeChecked();

  // r, then 3: off topic. The focus moves on to the next pending review.
  await page.keyboard.press("r");
  await expect(page.getByRole("status").filter({ hasText: "Reject: press 1 Spam" })).toBeVisible();
  await page.keyboard.press("3");
  await expect(row(plumber)).toHaveCount(0);
  await expect(row(good)).toBeFocused();
  await expect(announcement).toContainText("Rejected (Off topic)");
  expect(await statusOf(plumber)).toEqual({ status: "REJECTED", rejectionReason: "OFF_TOPIC" });

  await page.keyboard.press("a");
  await expect(row(good)).toHaveCount(0);
  await expect(row(third)).toBeFocused();
  expect(await statusOf(good)).toEqual({ status: "APPROVED", rejectionReason: null });
  expect((await statusOf(third)).status).toBe("PENDING");
});
