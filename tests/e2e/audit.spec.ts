// The audit log page: filtering, and paging with "Load more" (Relay `after` cursor).
import { expect, type Page, test } from "@playwright/test";
import { ADMIN, OPERATOR, PASSWORD, signIn, withDb } from "./support.ts";

async function operatorId(email: string): Promise<string> {
  return withDb(async (db) => {
    const { rows } = await db.query<{ id: string }>(`SELECT id FROM "Operator" WHERE email = $1`, [email]);
    const id = rows[0]?.id;
    if (!id) throw new Error(`no operator ${email} in the seed`);
    return id;
  });
}

async function auditIds(page: Page): Promise<string[]> {
  return page
    .locator("tr[data-audit-id]")
    .evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset["auditId"] ?? ""));
}

test("an operator filters the audit log by action and actor", async ({ page }) => {
  const me = await operatorId(OPERATOR.email);
  await signIn(page, OPERATOR.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${OPERATOR.name}` })).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" }).click();
  await expect(page.locator("tr[data-audit-id]").first()).toBeVisible();

  await page.getByLabel("Action starts with").fill("auth.log");
  await page.getByLabel("Actor ID").fill(me);
  await page.getByRole("button", { name: "Apply filter" }).click();
  // This operator's own sign-in just now is there, and nothing but auth.log* by this actor.
  const actions = page.locator("tr[data-audit-id] td:nth-child(3)");
  await expect(actions.first()).toHaveText("auth.login");
  // The newest event may be this sign-in before the filter applies too: wait for the filtered list.
  await expect
    .poll(async () => (await actions.allTextContents()).filter((text) => !text.startsWith("auth.log")))
    .toEqual([]);
  for (const text of await page.locator("tr[data-audit-id] td:nth-child(2)").allTextContents())
    expect(text).toContain(me);

  await page.getByLabel("Action starts with").fill("no-such-action.");
  await page.getByRole("button", { name: "Apply filter" }).click();
  await expect(page.getByText("No audit events match.")).toBeVisible();
});

test("Load more reads the next page of the audit log", async ({ page, request }) => {
  // More sign-ins by the admin than fit on one page (50), made through the real API.
  for (let i = 0; i < 55; i++) {
    const response = await request.post("/graphql", {
      headers: { "content-type": "application/json" },
      data: {
        query: `mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { __typename } }`,
        variables: { email: ADMIN.email, password: PASSWORD },
      },
    });
    expect(response.ok()).toBe(true);
  }
  const admin = await operatorId(ADMIN.email);

  await signIn(page, OPERATOR.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${OPERATOR.name}` })).toBeVisible();
  await page.goto("/audit");
  await page.getByLabel("Action starts with").fill("auth.login");
  await page.getByLabel("Actor ID").fill(admin);
  await page.getByRole("button", { name: "Apply filter" }).click();
  await expect(page.locator("tr[data-audit-id]")).toHaveCount(50);
  const firstPage = await auditIds(page);

  await page.getByRole("button", { name: "Load more" }).click();
  await expect
    .poll(async () => (await auditIds(page)).length, { message: "the next page is appended" })
    .toBeGreaterThan(50);
  const both = await auditIds(page);
  expect(both.slice(0, 50)).toEqual(firstPage);
  expect(new Set(both).size).toBe(both.length);
});
