// The Operators page in a real browser against the whole stack (API, worker, SMTP sandbox): an
// ADMIN invites someone by email; the invitation arrives through the outbox and the SMTP sandbox;
// the invitee opens the link, is refused a weak password, joins, and the link cannot be used again;
// they sign in; the ADMIN changes their role; and when the ADMIN disables them, the invitee's open
// dashboard is signed out by itself.
import { randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import { ADMIN, baseUrl, signIn } from "./support.ts";

interface ReceivedEmail {
  subject: string;
  text: string;
  to: string[];
}

async function emailsTo(address: string): Promise<ReceivedEmail[]> {
  const sandbox = process.env.SMTP_SANDBOX_URL;
  if (!sandbox) throw new Error("Set SMTP_SANDBOX_URL (npm test starts the sandbox and sets it).");
  const response = await fetch(`${sandbox}/messages?to=${encodeURIComponent(address)}`);
  return ((await response.json()) as { data: ReceivedEmail[] }).data;
}

test("invite → accept → sign in → role change → the disabled operator's open dashboard is signed out", async ({
  page,
  browser,
}) => {
  const run = randomBytes(3).toString("hex");
  const email = `ivy-${run}@steward.test`;
  const name = `Ivy Invitee ${run}`;
  const password = "plum kettle orbit 42";

  await signIn(page, ADMIN.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${ADMIN.name}` })).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Operators" }).click();
  await expect(page.getByRole("heading", { name: "Operators", level: 1 })).toBeVisible();

  // Invite, as a Viewer.
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Role", { exact: true }).selectOption("VIEWER");
  await page.getByRole("button", { name: "Send invitation" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Invitation sent to ${email}.` })).toBeVisible();
  await expect(page.locator(`tr[data-invite-email="${email}"]`)).toContainText("Viewer");

  // The email arrives once, with a one-time link to this Steward.
  let link = "";
  await expect
    .poll(
      async () => {
        const received = await emailsTo(email);
        link = /https?:\/\/\S+\/set-password#\S+/.exec(received[0]?.text ?? "")?.[0] ?? "";
        return received.length;
      },
      { timeout: 30_000, message: "the invitation reaches the SMTP sandbox" },
    )
    .toBe(1);
  expect((await emailsTo(email))[0]?.subject).toBe(`${ADMIN.name} invited you to Steward`);
  expect(link.startsWith(`${baseUrl()}/set-password#`)).toBe(true);

  // The invitee, in their own browser: a weak password is refused, then they join.
  const inviteeContext = await browser.newContext();
  const invitee = await inviteeContext.newPage();
  try {
    await invitee.goto(link);
    await expect(invitee.getByRole("heading", { name: "Join Steward" })).toBeVisible();
    await expect(invitee.getByText(`${email}, as Viewer.`)).toBeVisible();
    await invitee.getByLabel("Your name").fill(name);
    await invitee.getByLabel("Password", { exact: true }).fill("password1234");
    await invitee.getByLabel("Password again").fill("password1234");
    await invitee.getByRole("button", { name: "Create my account" }).click();
    await expect(invitee.getByRole("alert")).toHaveText(
      "Choose a stronger password: this one is on lists of common passwords",
    );
    await invitee.getByLabel("Password", { exact: true }).fill(password);
    await invitee.getByLabel("Password again").fill(password);
    await invitee.getByRole("button", { name: "Create my account" }).click();
    await expect(invitee.getByRole("status")).toContainText("Your account is ready.");

    // The link works once.
    await invitee.goto("/login");
    await invitee.goto(link);
    await expect(invitee.getByRole("alert")).toHaveText(
      "This link was already used: sign in, or ask an admin for a new link",
    );

    // They sign in, as a Viewer.
    await signIn(invitee, email, password);
    await expect(invitee.getByRole("heading", { name: `Welcome, ${name}` })).toBeVisible();
    await expect(invitee.getByRole("banner")).toContainText("Viewer");

    // The ADMIN sees them and makes them an Operator.
    await page.reload();
    const row = page.locator(`tr[data-operator-email="${email}"]`);
    await expect(row).toContainText(name);
    await expect(page.locator(`tr[data-invite-email="${email}"]`)).toHaveCount(0);
    await row.getByLabel(`Role for ${name}`).selectOption("OPERATOR");
    await row.getByRole("button", { name: `Change role of ${name}` }).click();
    await expect(row.getByRole("status")).toHaveText(`${name} is now Operator.`);
    await invitee.reload();
    await expect(invitee.getByRole("banner")).toContainText("Operator");

    // The invitee watches a live page; the ADMIN disables them; their dashboard signs out by itself.
    await invitee.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Jobs" }).click();
    await expect(invitee.locator('[data-live-status="live"]')).toHaveText("Live");
    await expect(row.locator("td.num")).not.toHaveText("0");
    await row.getByRole("button", { name: `Disable ${name}` }).click();
    await row.getByRole("button", { name: `Confirm disable ${name}` }).click();
    await expect(row.getByRole("status")).toHaveText(`Disabled ${name}; their sessions ended.`);
    await expect(row).toContainText("Disabled");
    await expect(invitee).toHaveURL(/\/login\?next=%2Fjobs$/, { timeout: 15_000 });
    await expect(invitee.getByRole("heading", { name: "Sign in to Steward" })).toBeVisible();
  } finally {
    await inviteeContext.close();
  }
});
