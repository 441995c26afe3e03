// Playbook 1 end to end: an operator puts AI_MODE on 'provider' from the Flags page, the AI
// provider (sandbox) goes down, and with the clock advanced 31 minutes (the provider's recorded
// results moved back, as if that much time had passed) the health-checks run marks it red and
// the system switches AI_MODE to 'deterministic' itself: the Flags page shows the switch, by the
// automation, with its reason, without a reload; the Health panel shows the red check live.
import { expect, type Page, test } from "@playwright/test";
import { ADMIN, expectSameDocument, graphqlAs, markDocument, OPERATOR, signIn, withDb } from "./support.ts";

function aiSandboxUrl(): string {
  const url = process.env.AI_SANDBOX_URL;
  if (!url) throw new Error("Set AI_SANDBOX_URL to the stack's AI sandbox (npm test does).");
  return url;
}

async function setAiSandbox(mode: "ok" | "down"): Promise<void> {
  const response = await fetch(`${aiSandboxUrl()}/_sandbox/mode`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ mode }),
  });
  expect(response.ok).toBe(true);
}

async function runHealthChecksNow(): Promise<void> {
  await graphqlAs(OPERATOR.email, `mutation { runJobNow(jobName: "health-checks") { __typename } }`);
}

async function latestAiResult(): Promise<{ ok: boolean; checkedAt: Date } | null> {
  return withDb(async (db) => {
    const { rows } = await db.query<{ ok: boolean; checkedAt: Date }>(
      `SELECT ok, "checkedAt" FROM "HealthCheckResult" WHERE "check" = 'ai_provider' ORDER BY "checkedAt" DESC LIMIT 1`,
    );
    return rows[0] ?? null;
  });
}

async function openFlags(page: Page): Promise<void> {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Flags" }).click();
  await expect(page.getByRole("heading", { name: "Flags", level: 1 })).toBeVisible();
  await expect(page.locator('[data-live-status="live"]')).toHaveText("Live");
}

test.afterAll(async () => {
  await setAiSandbox("ok");
  // Leave scoring as the other specs expect it, even if this test stopped half-way.
  const flags = await graphqlAs<{ featureFlags: { key: string; value: string }[] }>(
    OPERATOR.email,
    `{ featureFlags { key value } }`,
  );
  if (flags.featureFlags.find((flag) => flag.key === "AI_MODE")?.value !== "deterministic")
    await graphqlAs(
      OPERATOR.email,
      `mutation { setFeatureFlag(key: "AI_MODE", value: "deterministic", reason: "end-to-end clean-up") { __typename } }`,
    );
});

test("the AI provider down for 31 minutes turns red and the system switches AI_MODE to deterministic itself", async ({
  page,
}) => {
  await signIn(page, OPERATOR.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${OPERATOR.name}` })).toBeVisible();
  await openFlags(page);

  // The operator turns the provider on, with a reason, from the page.
  const aiMode = page.locator('[data-flag="AI_MODE"]');
  await expect(aiMode.locator(".flag-value")).toHaveText("deterministic");
  await aiMode.getByLabel("New value for AI_MODE").selectOption("provider");
  await aiMode.getByLabel("Reason for AI_MODE").fill("Provider contract is live");
  await aiMode.getByRole("button", { name: "Set AI_MODE" }).click();
  await expect(aiMode.locator(".flag-value")).toHaveText("provider");
  await expect(aiMode.locator("table.history tbody tr").first()).toContainText("Provider contract is live");

  // A reason is required: the page refuses an empty one and nothing changes.
  await aiMode.getByRole("button", { name: "Set AI_MODE" }).click();
  await expect(page.getByRole("alert")).toContainText("Say why");
  await expect(aiMode.locator(".flag-value")).toHaveText("provider");

  // The provider goes down; a health-checks run records it (down for 0 minutes: no switch yet).
  await setAiSandbox("down");
  const before = new Date();
  await runHealthChecksNow();
  await expect
    .poll(
      async () => {
        const latest = await latestAiResult();
        return latest !== null && latest.checkedAt >= before && !latest.ok;
      },
      { timeout: 30_000, message: "a health-checks run records the provider down" },
    )
    .toBe(true);
  await expect(aiMode.locator(".flag-value")).toHaveText("provider");

  // Advance the clock 31 minutes: the provider's recorded history moves back that far.
  await withDb((db) =>
    db.query(
      `UPDATE "HealthCheckResult" SET "checkedAt" = "checkedAt" - interval '31 minutes' WHERE "check" = 'ai_provider'`,
    ),
  );
  await markDocument(page);
  await runHealthChecksNow();

  // The Flags page, still open, shows the system's switch with its reason, without a reload.
  await expect(aiMode.locator(".flag-value")).toHaveText("deterministic", { timeout: 30_000 });
  const switched = aiMode.locator("table.history tbody tr").first();
  await expect(switched).toHaveAttribute("data-actor-kind", "SYSTEM");
  await expect(switched).toContainText("automation (system:automation.ai_failover)");
  await expect(switched).toContainText(/AI provider down for 3\d min/);
  await expectSameDocument(page);

  // The red alert is open, and the Health panel shows the provider red.
  const alert = await withDb(async (db) => {
    const { rows } = await db.query<{ severity: string; status: string }>(
      `SELECT severity, status FROM "Alert" WHERE fingerprint = 'ai.provider_down'`,
    );
    return rows[0];
  });
  expect(alert).toEqual({ severity: "RED", status: "FIRING" });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Health" }).click();
  await expect(page.getByRole("heading", { name: "Health", level: 1 })).toBeVisible();
  const provider = page.locator('tr[data-check="ai_provider"]');
  await expect(provider).toHaveAttribute("data-status", "RED");
  await expect(provider).toContainText(/down for 3\d min/);
  await expect(page.locator("[data-overall]")).toHaveText("RED");
  await expect(provider.locator(".chart")).not.toHaveAttribute("data-points", "0");

  // Live: the provider comes back and the next run turns its row green without a reload.
  await markDocument(page);
  await setAiSandbox("ok");
  await runHealthChecksNow();
  await expect(provider).toHaveAttribute("data-status", "GREEN", { timeout: 30_000 });
  await expectSameDocument(page);
});

async function storedThresholds(ruleKey: string): Promise<unknown> {
  return withDb(async (db) => {
    const { rows } = await db.query<{ thresholds: unknown }>(
      `SELECT thresholds FROM "AlertRuleSetting" WHERE "ruleKey" = $1`,
      [ruleKey],
    );
    return rows[0]?.thresholds ?? null;
  });
}

test("an admin tunes a rule's threshold: out of range is refused on the page and nothing is saved", async ({
  page,
}) => {
  await signIn(page, ADMIN.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${ADMIN.name}` })).toBeVisible();
  await openFlags(page);
  const rule = page.locator('tr[data-rule="queue.backlog"]');
  const maxQueued = rule.getByLabel("queue.backlog maxQueued");
  await expect(maxQueued).toHaveValue("10");

  await maxQueued.fill("0");
  await rule.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("alert")).toContainText("maxQueued: must be at least 1");
  expect(await storedThresholds("queue.backlog")).toBeNull();

  await maxQueued.fill("12");
  await rule.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved Featured queue backlog" })).toBeVisible();
  expect(await storedThresholds("queue.backlog")).toEqual({ maxQueued: 12 });
  await page.reload();
  await expect(page.locator('tr[data-rule="queue.backlog"]').getByLabel("queue.backlog maxQueued")).toHaveValue("12");

  // Put the default back for the other specs.
  await graphqlAs(
    ADMIN.email,
    `mutation { updateAlertRule(ruleKey: "queue.backlog", thresholds: [{ name: "maxQueued", value: 10 }]) { __typename } }`,
  );
});

test("an operator sees the flags but not the rules editor", async ({ page }) => {
  await signIn(page, OPERATOR.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${OPERATOR.name}` })).toBeVisible();
  await openFlags(page);
  await expect(page.locator('[data-flag="AI_FAILOVER"]')).toBeVisible();
  await expect(page.getByRole("heading", { name: "Alert rules" })).toHaveCount(0);
});
