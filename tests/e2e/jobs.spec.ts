// The Jobs page as an operator uses it: run the daily expiry-and-promotion job now and watch its
// run start and finish live (in the runs table and as the job's last run), then pause and resume
// the heartbeat. Heartbeat is left resumed: other specs rely on its scheduled runs.
import { expect, type Page, test } from "@playwright/test";
import {
  expectSameDocument,
  graphqlAs,
  markDocument,
  OPERATOR,
  runIds,
  signIn,
  waitForNewRun,
  withDb,
} from "./support.ts";

const EXPIRY_JOB = "featured-expiry-and-promotion";
const SUMMARY = /expired \d+, promoted \d+|nothing to expire or promote/;

async function openJobs(page: Page): Promise<void> {
  await signIn(page, OPERATOR.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${OPERATOR.name}` })).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Jobs" }).click();
  await expect(page.getByRole("heading", { name: "Jobs", level: 1 })).toBeVisible();
  await expect(page.locator('[data-live-status="live"]')).toHaveText("Live");
}

function catalogRow(page: Page, jobName: string) {
  return page.getByRole("table", { name: "Job catalog" }).getByRole("row", { name: jobName, exact: true });
}

async function isPaused(jobName: string): Promise<boolean> {
  return withDb(async (db) => {
    const { rows } = await db.query<{ paused: boolean }>(`SELECT paused FROM "JobSetting" WHERE "jobName" = $1`, [
      jobName,
    ]);
    return rows[0]?.paused ?? false;
  });
}

test("an operator runs the expiry-and-promotion job now and watches it finish without a reload", async ({ page }) => {
  await openJobs(page);
  const row = catalogRow(page, EXPIRY_JOB);
  await expect(row).toHaveAttribute("data-paused", "false");
  // The daily schedule, in the marketplace's time zone, with its next run.
  await expect(row).toContainText("Daily at 02:00");
  await expect(row.locator("td.next-run")).toContainText("Australia/Melbourne");
  await expect(row.locator("td.next-run time")).toHaveAttribute("datetime", /^\d{4}-\d\d-\d\dT/);

  await markDocument(page);
  const before = await runIds(page);
  await row.getByRole("button", { name: /Run now/ }).click();
  await expect(page.getByRole("status").filter({ hasText: `Queued a run of ${EXPIRY_JOB}` })).toBeVisible();

  // The run appears in the live table, triggered by this operator, and finishes there.
  const runId = await waitForNewRun(page, before, `[data-job="${EXPIRY_JOB}"][data-trigger="MANUAL"]`);
  const run = page.locator(`table.runs tr[data-run-id="${runId}"]`);
  await expect(run).toHaveAttribute("data-status", "SUCCEEDED");
  await expect(run).toContainText(`by ${OPERATOR.name}`);
  await expect(run.locator("td.summary")).toContainText(SUMMARY);

  // The catalog follows: this run is the job's last run, with its status, duration and summary.
  await expect(row).toHaveAttribute("data-last-run-id", runId);
  await expect(row).toHaveAttribute("data-last-run-status", "SUCCEEDED");
  await expect(row.locator("td.last-run")).toContainText("Succeeded");
  await expect(row.locator("td.last-run")).toContainText(`manual by ${OPERATOR.name}`);
  await expect(row.locator("td.last-run")).toContainText(SUMMARY);
  await expectSameDocument(page);
});

test.describe("pausing the heartbeat", () => {
  // Whatever happens in the test, the heartbeat ends up scheduled again (other specs need it).
  test.afterAll(async () => {
    if (await isPaused("heartbeat")) {
      await graphqlAs(OPERATOR.email, `mutation { resumeJob(jobName: "heartbeat") { __typename } }`);
    }
  });

  test("an operator pauses the heartbeat, cannot run it while paused, and resumes it", async ({ page }) => {
    await openJobs(page);
    const row = catalogRow(page, "heartbeat");
    const runNow = row.getByRole("button", { name: /Run now/ });
    await expect(row).toHaveAttribute("data-paused", "false");
    await expect(runNow).toBeEnabled();
    await markDocument(page);

    await row.getByRole("button", { name: /^Pause/ }).click();
    await expect(page.getByRole("status").filter({ hasText: "Paused heartbeat" })).toBeVisible();
    await expect(row).toHaveAttribute("data-paused", "true");
    await expect(row.getByText("Paused", { exact: true })).toBeVisible();
    await expect(row.locator("td.next-run")).toHaveText("Paused: not scheduled");
    // Run now is disabled, and says why.
    await expect(runNow).toBeDisabled();
    await expect(runNow).toHaveAccessibleDescription("Paused: resume it to run it now.");
    expect(await isPaused("heartbeat")).toBe(true);

    // No scheduled heartbeat is recorded while paused (it ran every 2 s): give a run that was
    // already under way time to land, then watch for a few seconds.
    await page.waitForTimeout(2_500);
    const whilePaused = await runIds(page, '[data-job="heartbeat"][data-trigger="SCHEDULE"]');
    await page.waitForTimeout(4_500);
    // No new scheduled heartbeat arrived (other jobs' runs may push old rows out of the 25-row list).
    const afterWaiting = await runIds(page, '[data-job="heartbeat"][data-trigger="SCHEDULE"]');
    expect(afterWaiting.filter((id) => !whilePaused.includes(id))).toEqual([]);

    await row.getByRole("button", { name: /^Resume/ }).click();
    await expect(page.getByRole("status").filter({ hasText: "Resumed heartbeat" })).toBeVisible();
    await expect(row).toHaveAttribute("data-paused", "false");
    await expect(row.getByText("Paused", { exact: true })).toHaveCount(0);
    await expect(runNow).toBeEnabled();
    await expect(row.locator("td.next-run time")).toHaveAttribute("datetime", /^\d{4}-\d\d-\d\dT/);
    expect(await isPaused("heartbeat")).toBe(false);
    await expectSameDocument(page);
  });
});
