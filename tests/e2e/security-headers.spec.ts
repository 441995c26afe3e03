// The dashboard runs under its Content-Security-Policy in a real browser: no script, style or
// socket of its own is blocked, while an injected inline script is.
import { expect, test } from "@playwright/test";
import { OPERATOR, signIn } from "./support.ts";

test("the dashboard works under its CSP, which blocks injected inline scripts", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });

  const response = await page.goto("/login");
  const headers = response!.headers();
  expect(headers["content-security-policy"]).toMatch(/script-src 'self' 'sha256-/);
  expect(headers["x-frame-options"]).toBe("DENY");
  expect(headers["x-content-type-options"]).toBe("nosniff");

  await signIn(page, OPERATOR.email);
  await expect(page.getByRole("heading", { name: `Welcome, ${OPERATOR.name}` })).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Jobs" }).click();
  // Live means the graphql-ws socket connected under connect-src.
  await expect(page.locator('[data-live-status="live"]')).toHaveText("Live");
  expect(violations).toEqual([]);

  // An inline script someone managed to inject does not run.
  const injectedRan = await page.evaluate(async () => {
    const script = document.createElement("script");
    script.textContent = "window.__injected = true;";
    document.body.append(script);
    await new Promise((resolve) => setTimeout(resolve, 100));
    return (window as unknown as { __injected?: boolean }).__injected === true;
  });
  expect(injectedRan).toBe(false);
  await expect.poll(() => violations.length).toBeGreaterThan(0);
});
