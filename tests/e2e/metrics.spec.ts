// The Metrics page (issue 19.3): a viewer opens it from the navigation and sees the seeds'
// operating metrics with their trend charts, e.g. the most searched terms of the week.
import { expect, test } from "@playwright/test";
import { signIn, VIEWER, withDb } from "./support.ts";

test("a viewer reads the operating metrics and their trends on the Metrics page", async ({ page }) => {
  // The week's most searched term, as the database says; the page must show it first.
  const top = await withDb(async (db) => {
    // The rollup recomputes them every 10 minutes: start from a fresh computation.
    await db.query(`DELETE FROM "MetricsSnapshot" WHERE key = 'operating'`);
    const { rows } = await db.query<{ term: string; count: number }>(
      `SELECT lower(btrim(query)) AS term, count(*)::int AS count FROM "SearchEvent"
        WHERE "occurredAt" >= now() - interval '7 days' AND btrim(query) <> ''
        GROUP BY 1 ORDER BY count DESC, term LIMIT 1`,
    );
    return rows[0] ?? null;
  });

  await signIn(page, VIEWER.email);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Metrics" }).click();
  await expect(page.getByRole("heading", { name: "Metrics", level: 1 })).toBeVisible();
  for (const title of ["Average wait in the queue", "Queue velocity", "Payment failure rate", "AI provider uptime"])
    await expect(page.getByRole("heading", { name: title })).toBeVisible();
  const terms = page.locator('[data-metric="search-terms"]');
  if (top) await expect(terms.getByRole("row").first()).toHaveText(`${top.term}${top.count}`);
  else await expect(terms).toContainText("None yet");
  await expect(page.locator('[data-metric="queue-velocity"] canvas')).toBeVisible();
});
