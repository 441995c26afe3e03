// Helpers shared by the end-to-end specs: signing in through the real login form, reading the
// live job-runs table, and the few direct database reads and writes a test needs.
import { createHash, randomBytes } from "node:crypto";
import { expect, type Page, request } from "@playwright/test";
import pg from "pg";

export const PASSWORD = "steward-demo-2026";

export const OPERATOR = { email: "operator@steward.test", name: "Olive Operator" } as const;
export const VIEWER = { email: "viewer@steward.test", name: "Vic Viewer" } as const;
export const ADMIN = { email: "admin@steward.test", name: "Ada Admin" } as const;

export function baseUrl(): string {
  const url = process.env.STEWARD_BASE_URL;
  if (!url) throw new Error("Set STEWARD_BASE_URL to the running stack (npm test does).");
  return url;
}

export async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Ids of the rows in the "Latest runs" table, top (newest) first. */
export async function runIds(page: Page, filter = ""): Promise<string[]> {
  return page
    .locator(`table.runs tbody tr[data-run-id]${filter}`)
    .evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset["runId"] ?? ""));
}

/** Waits until the runs table shows a run matching `filter` that was not in `before`; returns its id. */
export async function waitForNewRun(page: Page, before: readonly string[], filter: string, timeout = 20_000) {
  let found = "";
  await expect
    .poll(
      async () => {
        found = (await runIds(page, filter)).find((id) => !before.includes(id)) ?? "";
        return found;
      },
      { timeout, message: `a new run matching ${filter} appears without a reload` },
    )
    .not.toBe("");
  return found;
}

/** Marks the document so a test can prove later that the page was never reloaded. */
export async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => {
    document.documentElement.dataset["e2eMark"] = "still-the-same-document";
  });
}

export async function expectSameDocument(page: Page): Promise<void> {
  await expect(page.locator("html")).toHaveAttribute("data-e2e-mark", "still-the-same-document");
}

export async function withDb<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const connectionString = process.env.DATABASE_URL;
  if (!connectionString) throw new Error("Set DATABASE_URL to the stack's database (npm test does).");
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The Relay global id the API gives a row (`base64("Type:uuid")`), and back. */
export function globalId(type: string, id: string): string {
  return Buffer.from(`${type}:${id}`).toString("base64");
}

export function rawId(global: string): string {
  const decoded = Buffer.from(global, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) throw new Error(`${global} is not a global id`);
  return decoded.slice(colon + 1);
}

/**
 * An integration's API token, stored as the admin would have created it (hashed, scoped);
 * returns the secret to send as `Authorization: Bearer …`.
 */
export async function createApiToken(scopes: readonly string[], name = "e2e integration"): Promise<string> {
  const token = `stw_e2e_${randomBytes(24).toString("base64url")}`;
  await withDb(async (db) => {
    const { rows } = await db.query<{ id: string }>(`SELECT id FROM "Operator" WHERE email = $1`, [ADMIN.email]);
    const adminId = rows[0]?.id;
    if (!adminId) throw new Error(`no operator ${ADMIN.email} in the seed`);
    await db.query(
      `INSERT INTO "ApiToken" (id, name, "tokenHash", prefix, scopes, "createdById")
       VALUES (gen_random_uuid(), $1, $2, $3, $4, $5)`,
      [name, createHash("sha256").update(token).digest("hex"), token.slice(0, 10), scopes, adminId],
    );
  });
  return token;
}

/**
 * Runs one GraphQL operation as `email` (signed in through the API, outside any page), e.g. to
 * put shared state back after a test that failed half-way. Throws on transport or GraphQL errors.
 */
export async function graphqlAs<T = unknown>(
  email: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const api = await request.newContext({ baseURL: baseUrl() });
  try {
    const login = await api.post("/graphql", {
      data: {
        query: `mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { __typename } }`,
        variables: { email, password: PASSWORD },
      },
    });
    const signedIn = (await login.json()) as { data?: { login?: { __typename?: string } } };
    if (signedIn.data?.login?.__typename !== "MutationLoginSuccess") throw new Error(`could not sign in as ${email}`);
    const response = await api.post("/graphql", { data: { query, variables } });
    const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
    if (body.errors?.length) throw new Error(body.errors.map((error) => error.message).join("; "));
    return body.data as T;
  } finally {
    await api.dispose();
  }
}
