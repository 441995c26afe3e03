// Signing in, the live jobs page, and signing out, as an operator would in a real browser.
import { expect, test } from "@playwright/test";
import { expectSameDocument, markDocument, OPERATOR, runIds, signIn, waitForNewRun, withDb } from "./support.ts";

test("an operator signs in, watches job runs arrive live, runs a job and signs out", async ({ page }) => {
  await signIn(page, OPERATOR.email);

  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: `Welcome, ${OPERATOR.name}` })).toBeVisible();
  await expect(page.getByRole("banner")).toContainText(OPERATOR.name);
  await expect(page.getByRole("banner")).toContainText("Operator");

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Jobs" }).click();
  await expect(page).toHaveURL(/\/jobs$/);
  await expect(page.getByRole("heading", { name: "Jobs", level: 1 })).toBeVisible();
  await expect(page.locator('[data-live-status="live"]')).toHaveText("Live");
  await expect(page.locator("table.runs tbody tr[data-run-id]").first()).toBeVisible();

  // The scheduled heartbeat (every 2 s in the test stack) shows up without a reload.
  await markDocument(page);
  const before = await runIds(page);
  const scheduled = await waitForNewRun(page, before, '[data-job="heartbeat"][data-trigger="SCHEDULE"]');
  // Newest on top, and RUNNING → SUCCEEDED updates the same row instead of adding one.
  await expect
    .poll(async () => (await runIds(page)).indexOf(scheduled), { message: "the new run is near the top" })
    .toBeLessThan(3);
  const scheduledRow = page.locator(`table.runs tr[data-run-id="${scheduled}"]`);
  await expect(scheduledRow).toHaveAttribute("data-status", "SUCCEEDED");
  await expect(scheduledRow).toHaveCount(1);
  await expectSameDocument(page);

  // Run now: the MANUAL run, triggered by this operator, appears live too.
  const beforeManual = await runIds(page);
  const catalog = page.getByRole("table", { name: "Job catalog" });
  await catalog
    .getByRole("row", { name: /heartbeat/ })
    .getByRole("button", { name: /Run now/ })
    .click();
  await expect(page.getByRole("status").filter({ hasText: "Queued a run of heartbeat" })).toBeVisible();
  const manual = await waitForNewRun(page, beforeManual, '[data-job="heartbeat"][data-trigger="MANUAL"]');
  const manualRow = page.locator(`table.runs tr[data-run-id="${manual}"]`);
  await expect(manualRow).toContainText(`by ${OPERATOR.name}`);
  await expect(manualRow).toHaveAttribute("data-status", "SUCCEEDED");
  await expectSameDocument(page);

  // Sign out: back on /login, and the dashboard is closed again.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { name: "Sign in to Steward" })).toBeVisible();
  await page.goto("/jobs");
  await expect(page).toHaveURL(/\/login\?next=%2Fjobs$/);
  await expect(page.getByRole("heading", { name: "Sign in to Steward" })).toBeVisible();
});

test.describe("a wrong password", () => {
  const startedAt = new Date();

  // Failed logins count towards the per-account lockout; forget the ones this test made so that
  // running the suite repeatedly against one database never locks the demo operator out.
  test.afterAll(async () => {
    await withDb((db) =>
      db.query(`DELETE FROM "LoginAttempt" WHERE email = $1 AND succeeded = false AND "createdAt" >= $2`, [
        OPERATOR.email,
        startedAt,
      ]),
    );
  });

  test("shows the error and stays on /login", async ({ page }) => {
    await signIn(page, OPERATOR.email, "not-the-password");
    await expect(page.getByRole("alert")).toHaveText("Invalid email or password");
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByLabel("Password")).toHaveValue("");
    // And nothing behind the login opened up.
    await page.goto("/");
    await expect(page).toHaveURL(/\/login$/);
  });
});
