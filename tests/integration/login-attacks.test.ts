// Logins attacked the way an attacker would: bursts of concurrent guesses, aliased `login` fields
// in one document, guesses spread over two API instances and over many addresses. The limits must
// hold under all of them (counted in Redis before the password is checked), and must never turn
// into a lockout of the account's owner.
import { buildApp } from "../../api/src/app.ts";
import { createLogger } from "@steward/core/logger";
import { afterAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

const LOGIN = `mutation ($email: String!, $password: String!) {
  login(email: $email, password: $password) { __typename ... on TooManyAttemptsError { retryAfterSeconds } }
}`;

const apis: TestApi[] = [];
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops) await stop();
  for (const api of apis) await api.stop();
});

async function start(env: Record<string, string> = {}): Promise<TestApi> {
  const api = await startTestApi({ TRUSTED_PROXY_HOPS: "1", ...env });
  apis.push(api);
  await createOperator(api.database.db, "ADMIN", "ada@test.example");
  return api;
}

interface LoginAnswer {
  __typename: string;
  retryAfterSeconds?: number;
}

async function post(url: string, address: string, query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": address },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, LoginAnswer> | null; errors?: unknown[] };
}

async function loginFrom(url: string, address: string, password: string, email = "ada@test.example") {
  const answer = await post(url, address, LOGIN, { email, password });
  if (!answer.data?.login) throw new Error(`login answered ${JSON.stringify(answer)}`);
  return answer.data.login;
}

/** Passwords actually checked: every check that was not refused by a limit is recorded with its outcome. */
const checks = (api: TestApi) =>
  api.database.db.loginAttempt.count({ where: { OR: [{ succeeded: true }, { reason: { not: "rate_limited" } }] } });
const signedIn = (api: TestApi) => api.database.db.session.count();

const burst = (passwords: string[], address: (index: number) => string, url: string) =>
  Promise.all(passwords.map((password, index) => loginFrom(url, address(index), password)));

describe("concurrent guesses are counted before they are checked", () => {
  it("30 wrong passwords sent at once from one address get at most the limit of checks", async () => {
    const api = await start();
    const answers = await burst(
      Array.from({ length: 30 }, (_, index) => `guess-${index}`),
      () => "203.0.113.10",
      api.url,
    );
    expect(await checks(api)).toBe(api.env.LOGIN_MAX_FAILURES_PER_ACCOUNT);
    expect(answers.filter((answer) => answer.__typename === "TooManyAttemptsError")).toHaveLength(
      30 - api.env.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    );
  });

  it("the right password at position 26 of a 40-guess burst does not sign in", async () => {
    const api = await start();
    const passwords = Array.from({ length: 40 }, (_, index) => (index === 25 ? TEST_PASSWORD : `guess-${index}`));
    const answers = await burst(passwords, () => "203.0.113.11", api.url);
    expect(answers[25]?.__typename).toBe("TooManyAttemptsError");
    expect(await signedIn(api)).toBe(0);
    expect(await checks(api)).toBe(api.env.LOGIN_MAX_FAILURES_PER_ACCOUNT);
  });

  it("the same burst spread over 40 addresses gets the limit of checks, then the account is slowed", async () => {
    const api = await start({ LOGIN_SLOWDOWN_BASE_SECONDS: "30" });
    const passwords = Array.from({ length: 40 }, (_, index) => (index === 25 ? TEST_PASSWORD : `guess-${index}`));
    const answers = await burst(passwords, (index) => `198.51.100.${index + 1}`, api.url);
    expect(await signedIn(api)).toBe(0);
    expect(await checks(api)).toBe(api.env.LOGIN_MAX_FAILURES_PER_ACCOUNT);
    const refused = answers.filter((answer) => answer.__typename === "TooManyAttemptsError");
    expect(refused).toHaveLength(40 - api.env.LOGIN_MAX_FAILURES_PER_ACCOUNT);
    for (const answer of refused) expect(answer.retryAfterSeconds).toBeLessThanOrEqual(30);
  });

  it("counts every aliased login field in a document: 6 documents of 10 at once get the limit of checks", async () => {
    const api = await start();
    const fields = Array.from(
      { length: 10 },
      (_, index) =>
        `a${index}: login(email: "ada@test.example", password: "${index === 7 ? TEST_PASSWORD : `guess-${index}`}") { __typename }`,
    ).join("\n");
    await Promise.all(Array.from({ length: 6 }, () => post(api.url, "203.0.113.12", `mutation { ${fields} }`, {})));
    expect(await checks(api)).toBeLessThanOrEqual(api.env.LOGIN_MAX_FAILURES_PER_ACCOUNT);
    // Whichever fields ran first, the budget is spent: the right password from there is now refused.
    expect((await loginFrom(api.url, "203.0.113.12", TEST_PASSWORD)).__typename).toBe("TooManyAttemptsError");
  });

  it("holds across API instances: one budget in Redis, whichever instance a guess reaches", async () => {
    const api = await start();
    const second = buildApp(api.env, createLogger("api-test", "silent"));
    const secondUrl = await second.start();
    stops.push(() => second.stop());
    const passwords = Array.from({ length: 30 }, (_, index) => `guess-${index}`);
    await Promise.all(
      passwords.map((password, index) => loginFrom(index % 2 === 0 ? api.url : secondUrl, "203.0.113.13", password)),
    );
    expect(await checks(api)).toBe(api.env.LOGIN_MAX_FAILURES_PER_ACCOUNT);
  });
});

describe("a lockout is not a denial of service", () => {
  it("failures from one address refuse that address only: the owner signs in from another", async () => {
    const api = await start();
    for (let guess = 0; guess < api.env.LOGIN_MAX_FAILURES_PER_ACCOUNT; guess++)
      await loginFrom(api.url, "203.0.113.20", `guess-${guess}`);
    expect((await loginFrom(api.url, "203.0.113.20", TEST_PASSWORD)).__typename).toBe("TooManyAttemptsError");
    // The owner, elsewhere: slowed by at most the first step of the slowdown, never shut out.
    let owner = await loginFrom(api.url, "192.0.2.20", TEST_PASSWORD);
    if (owner.__typename === "TooManyAttemptsError") {
      expect(owner.retryAfterSeconds).toBeLessThanOrEqual(api.env.LOGIN_SLOWDOWN_BASE_SECONDS);
      await new Promise((resolve) => setTimeout(resolve, (owner.retryAfterSeconds ?? 1) * 1000 + 100));
      owner = await loginFrom(api.url, "192.0.2.20", TEST_PASSWORD);
    }
    expect(owner.__typename).toBe("MutationLoginSuccess");
  });

  it("refused attempts during a refusal are not checked, not counted and never extend it", async () => {
    const api = await start();
    for (let guess = 0; guess < api.env.LOGIN_MAX_FAILURES_PER_ACCOUNT; guess++)
      await loginFrom(api.url, "203.0.113.21", `guess-${guess}`);
    const first = await loginFrom(api.url, "203.0.113.21", "still-guessing");
    expect(first.__typename).toBe("TooManyAttemptsError");
    const window = api.env.LOGIN_FAILURE_WINDOW_MINUTES * 60;
    expect(first.retryAfterSeconds).toBeLessThanOrEqual(window);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    // One request every so often (here: a burst) must not push the end of the refusal back.
    await burst(
      Array.from({ length: 10 }, (_, index) => `more-${index}`),
      () => "203.0.113.21",
      api.url,
    );
    const later = await loginFrom(api.url, "203.0.113.21", TEST_PASSWORD);
    expect(later.__typename).toBe("TooManyAttemptsError");
    expect(later.retryAfterSeconds).toBeLessThanOrEqual((first.retryAfterSeconds ?? window) - 2);
    expect(await checks(api)).toBe(api.env.LOGIN_MAX_FAILURES_PER_ACCOUNT);
  });

  it("guesses from many addresses slow the account down; an address the owner signed in from before is not slowed", async () => {
    const api = await start({ LOGIN_SLOWDOWN_BASE_SECONDS: "30" });
    expect((await loginFrom(api.url, "192.0.2.30", TEST_PASSWORD)).__typename).toBe("MutationLoginSuccess");
    // A botnet: one guess per address, more than the account's limit in all.
    for (let bot = 0; bot < api.env.LOGIN_MAX_FAILURES_PER_ACCOUNT + 3; bot++)
      await loginFrom(api.url, `198.51.100.${bot + 100}`, `guess-${bot}`);
    const fresh = await loginFrom(api.url, "198.51.100.250", "another-guess");
    expect(fresh.__typename).toBe("TooManyAttemptsError");
    expect(fresh.retryAfterSeconds).toBeGreaterThan(1);
    expect(fresh.retryAfterSeconds).toBeLessThanOrEqual(api.env.LOGIN_SLOWDOWN_MAX_SECONDS);
    // The owner, from their usual address, gets in at once.
    expect((await loginFrom(api.url, "192.0.2.30", TEST_PASSWORD)).__typename).toBe("MutationLoginSuccess");
  });
});
