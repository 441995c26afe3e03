// Operators sign in with email + password and get an HttpOnly session cookie; bad credentials,
// forged and expired sessions are refused with typed errors, and failures are audited.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

const LOGIN = `mutation ($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    __typename
    ... on MutationLoginSuccess { data { operator { email role } session { expiresAt } } }
    ... on Error { message }
  }
}`;
const ME = `{ me { email role } }`;

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ LOGIN_MAX_FAILURES_PER_ACCOUNT: "3" });
  await createOperator(api.database.db, "OPERATOR", "olive@test.example");
});
afterAll(() => api.stop());

describe("login", () => {
  it("signs in, sets an HttpOnly SameSite cookie, and `me` answers with the operator", async () => {
    const result = await api.graphql<{ login: { __typename: string } }>(LOGIN, {
      email: "Olive@Test.example",
      password: TEST_PASSWORD,
    });
    expect(result.data?.login.__typename).toBe("MutationLoginSuccess");
    expect(result.setCookie).toMatch(/^steward_session=sst_[\w-]+;/);
    expect(result.setCookie).toMatch(/HttpOnly/i);
    expect(result.setCookie).toMatch(/SameSite=Strict/i);

    const cookie = result.setCookie!.split(";")[0]!;
    const me = await api.graphql<{ me: { email: string; role: string } }>(ME, {}, { cookie });
    expect(me.data?.me).toEqual({ email: "olive@test.example", role: "OPERATOR" });
    const logins = await api.database.db.auditEvent.count({
      where: { action: "auth.login", actorLabel: "olive@test.example" },
    });
    expect(logins).toBe(1);
  });

  it("answers a wrong password and an unknown email with the same typed error, records both, sets no cookie", async () => {
    const wrong = await api.graphql<{ login: { __typename: string; message: string } }>(LOGIN, {
      email: "olive@test.example",
      password: "not the password",
    });
    const unknown = await api.graphql<{ login: { __typename: string; message: string } }>(LOGIN, {
      email: "nobody@test.example",
      password: "whatever-it-is",
    });
    for (const result of [wrong, unknown]) {
      expect(result.data?.login).toEqual({
        __typename: "InvalidCredentialsError",
        message: "Invalid email or password",
      });
      expect(result.setCookie).toBeNull();
    }
    const audited = await api.database.db.auditEvent.findMany({ where: { action: "auth.login_failed" } });
    expect(audited.map((event) => event.reason).sort()).toEqual(["unknown_email", "wrong_password"]);
    expect(await api.database.db.loginAttempt.count({ where: { succeeded: false } })).toBe(2);
  });

  it("rejects malformed input with a validation error and stores nothing", async () => {
    const before = await api.database.db.loginAttempt.count();
    const result = await api.graphql<{ login: { __typename: string } }>(LOGIN, {
      email: "not-an-email",
      password: "x",
    });
    expect(result.data?.login.__typename).toBe("ValidationError");
    expect(await api.database.db.loginAttempt.count()).toBe(before);
  });

  it("locks an account after repeated failures, even for the right password", async () => {
    await createOperator(api.database.db, "VIEWER", "victim@test.example");
    for (let attempt = 0; attempt < 3; attempt++) {
      await api.graphql(LOGIN, { email: "victim@test.example", password: `guess-${attempt}` });
    }
    const locked = await api.graphql<{ login: { __typename: string } }>(LOGIN, {
      email: "victim@test.example",
      password: TEST_PASSWORD,
    });
    expect(locked.data?.login.__typename).toBe("TooManyAttemptsError");
    expect(locked.setCookie).toBeNull();
  });
});

describe("sessions", () => {
  it("treats a forged cookie as signed out", async () => {
    const me = await api.graphql<{ me: null }>(ME, {}, { cookie: "steward_session=sst_forged-value" });
    expect(me.data?.me).toBeNull();
  });

  it("refuses an expired session", async () => {
    const cookie = await api.loginCookie("olive@test.example", TEST_PASSWORD);
    await api.database.db.session.updateMany({ data: { expiresAt: new Date(Date.now() - 1000) } });
    const me = await api.graphql<{ me: null }>(ME, {}, { cookie });
    expect(me.data?.me).toBeNull();
  });

  it("logout revokes the session server-side, so a copied cookie stops working", async () => {
    const cookie = await api.loginCookie("olive@test.example", TEST_PASSWORD);
    const logout = await api.graphql<{ logout: boolean }>(`mutation { logout }`, {}, { cookie });
    expect(logout.data?.logout).toBe(true);
    expect(logout.setCookie).toMatch(/steward_session=;/);
    const me = await api.graphql<{ me: null }>(ME, {}, { cookie });
    expect(me.data?.me).toBeNull();
  });

  it("answers an unknown bearer token with 401 UNAUTHENTICATED", async () => {
    const result = await api.graphql(ME, {}, { bearer: "stw_not-a-real-token" });
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});
