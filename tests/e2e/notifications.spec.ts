// The Notifications page (ADMIN): the seeded channels without their secrets and a test that
// arrives at the notify sandbox; a new channel created, edited, tested and disabled, its secret
// never shown; a maintenance window declared, shown on the overview while active, then ended.
import { randomBytes } from "node:crypto";
import { expect, type Page, test } from "@playwright/test";
import { ADMIN, signIn } from "./support.ts";

function notifySandboxUrl(): string {
  const url = process.env.NOTIFY_SANDBOX_URL;
  if (!url) throw new Error("Set NOTIFY_SANDBOX_URL (npm test starts the sandboxes and sets it).");
  return url;
}

async function slackTexts(): Promise<string[]> {
  const response = await fetch(`${notifySandboxUrl()}/_sandbox/received?kind=slack`);
  return ((await response.json()) as { body: { text?: string } }[]).map((entry) => entry.body.text ?? "");
}

/** The value a datetime-local input takes for `minutes` from now: the marketplace's clock (Australia/Melbourne). */
function localInput(minutes: number): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: "Australia/Melbourne",
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  }).formatToParts(new Date(Date.now() + minutes * 60_000));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((entry) => entry.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")}T${part("hour")}:${part("minute")}`;
}

async function openNotifications(page: Page): Promise<void> {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Notifications" }).click();
  await expect(page.getByRole("heading", { name: "Notification channels" })).toBeVisible();
}

test("an admin manages channels and a maintenance window", async ({ page }) => {
  await signIn(page, ADMIN.email);
  await openNotifications(page);
  const channels = page.locator("table.channels tbody tr");
  await expect(channels).toHaveCount(4);
  await expect(page.locator("table.channels")).not.toContainText("demo-webhook-token");
  const seeded = channels.filter({ hasText: "Slack #ops" });
  await expect(seeded).toContainText("Green, Red");
  await seeded.getByRole("button", { name: "Send test to Slack #ops" }).click();
  await expect(seeded.getByRole("status")).toHaveText("Delivered (200)");
  expect((await slackTexts()).some((text) => text.includes("Test notification for Slack #ops"))).toBe(true);

  // A new Slack channel: its URL is the secret, and never comes back.
  const name = `E2E Slack ${randomBytes(3).toString("hex")}`;
  const token = `e2e-token-${randomBytes(6).toString("hex")}`;
  await page.getByRole("button", { name: "Add a channel" }).click();
  const form = page.getByRole("form", { name: "New channel" });
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Incoming-webhook URL (secret)").fill(`${notifySandboxUrl()}/slack/T0E2E/B0E2E/${token}`);
  await form.getByRole("checkbox", { name: "yellow", exact: true }).check();
  await form.getByRole("button", { name: "Save channel" }).click();
  const created = channels.filter({ hasText: name });
  await expect(created).toContainText("Red, Yellow");
  await expect(page.locator("main")).not.toContainText(token);
  await created.getByRole("button", { name: `Send test to ${name}` }).click();
  await expect(created.getByRole("status")).toHaveText("Delivered (200)");

  await created.getByRole("button", { name: `Edit ${name}` }).click();
  const edit = page.getByRole("form", { name: `Edit ${name}` });
  await edit.getByRole("checkbox", { name: "red", exact: true }).uncheck();
  await edit.getByRole("button", { name: "Save channel" }).click();
  await expect(created.locator("td").nth(1)).toHaveText("Yellow");
  await created.getByRole("button", { name: `Disable ${name}` }).click();
  await expect(created).toHaveAttribute("data-enabled", "false");

  // A window muting one rule, active now: the overview says so; then it is ended.
  const title = `E2E maintenance ${randomBytes(3).toString("hex")}`;
  const declare = page.getByRole("form", { name: "Declare a maintenance window" });
  await declare.getByLabel("Title").fill(title);
  await declare.getByLabel("Starts").fill(localInput(-1));
  await declare.getByLabel("Ends").fill(localInput(30));
  await declare.getByRole("checkbox", { name: "Featured queue backlog" }).check();
  await declare.getByRole("button", { name: "Declare window" }).click();
  const window = page.locator("table.windows tbody tr").filter({ hasText: title });
  await expect(window).toHaveAttribute("data-window-state", "ACTIVE");

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" }).click();
  await expect(page.getByTestId("maintenance-window").filter({ hasText: title })).toContainText("notify no one");

  await openNotifications(page);
  await window.getByRole("button", { name: `End now ${title}` }).click();
  await expect(window).toHaveAttribute("data-window-state", "ENDED");
});
