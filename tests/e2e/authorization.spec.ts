// What the dashboard refuses: a viewer's run-now, a forged session cookie, an expired session.
import { createHash } from "node:crypto";
import { expect, test } from "@playwright/test";
import { baseUrl, OPERATOR, runIds, signIn, VIEWER, waitForNewRun, withDb } from "./support.ts";

async function manualRunsBy(email: string): Promise<number> {
  return withDb(async (db) => {
    const { rows } = await db.query<{ count: string }>(
      `SELECT count(*) FROM "JobRun" r JOIN "Operator" o ON o.id = r."triggeredById"
        WHERE o.email = $1 AND r.trigger = 'MANUAL'`,
      [email],
    );
    return Number(rows[0]?.count ?? 0);
  });
}

test("a viewer's Run now is refused visibly and queues nothing", async ({ page }) => {
  const manualBefore = await manualRunsBy(VIEWER.email);
  await signIn(page, VIEWER.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${VIEWER.name}` })).toBeVisible();
  await expect(page.getByRole("banner")).toContainText("Viewer");
  // Admin-only pages are not offered.
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API tokens" })).toHaveCount(0);

  await page.goto("/jobs");
  await expect(page.locator('[data-live-status="live"]')).toBeVisible();
  const before = await runIds(page);
  const catalog = page.getByRole("table", { name: "Job catalog" });
  await catalog
    .getByRole("row", { name: /heartbeat/ })
    .getByRole("button", { name: /Run now/ })
    .click();
  await expect(page.getByRole("alert")).toHaveText("You are not allowed to do this");

  // Let the worker go round twice (scheduled runs every 2 s): a queued run would have been recorded.
  const first = await waitForNewRun(page, before, '[data-job="heartbeat"][data-trigger="SCHEDULE"]');
  await waitForNewRun(page, [...before, first], '[data-job="heartbeat"][data-trigger="SCHEDULE"]');
  await expect(page.locator('table.runs tr[data-trigger="MANUAL"]').filter({ hasText: VIEWER.name })).toHaveCount(0);
  expect(await manualRunsBy(VIEWER.email)).toBe(manualBefore);

  // The audit log is for operators and admins: the viewer sees the refusal instead.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" }).click();
  await expect(page.getByRole("alert")).toHaveText("You are not allowed to do this");
  await expect(page.locator("tr[data-audit-id]")).toHaveCount(0);
});

test("a forged session cookie lands on /login", async ({ page, context }) => {
  await context.addCookies([
    {
      name: "steward_session",
      value: `sst_forged${"x".repeat(40)}`,
      url: baseUrl(),
      httpOnly: true,
      sameSite: "Strict",
    },
  ]);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { name: "Sign in to Steward" })).toBeVisible();
  await page.goto("/jobs");
  await expect(page).toHaveURL(/\/login\?next=%2Fjobs$/);
  await expect(page.getByRole("table")).toHaveCount(0);
});

test("an expired session is refused", async ({ page, context }) => {
  await signIn(page, OPERATOR.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${OPERATOR.name}` })).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Jobs" }).click();
  await expect(page.locator("table.runs tbody tr[data-run-id]").first()).toBeVisible();

  const cookie = (await context.cookies(baseUrl())).find((c) => c.name === "steward_session");
  expect(cookie?.value, "the login set the session cookie").toMatch(/^sst_/);
  const tokenHash = createHash("sha256")
    .update(cookie?.value ?? "")
    .digest("hex");
  const expired = await withDb((db) =>
    db.query(`UPDATE "Session" SET "expiresAt" = now() - interval '1 minute' WHERE "tokenHash" = $1`, [tokenHash]),
  );
  expect(expired.rowCount).toBe(1);

  // The API caches a session for at most 10 s (api/src/sessionCache.ts; a real expiry is honoured
  // at once, as the cache never outlives it): an expiry written behind its back shows within that.
  await expect(async () => {
    await page.reload();
    await expect(page).toHaveURL(/\/login\?next=%2Fjobs$/, { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.getByRole("heading", { name: "Sign in to Steward" })).toBeVisible();
});
