// People through the API: an ADMIN invites by email (the link arrives through the outbox), the
// invitee accepts once and signs in; links used twice, expired or replaced and weak passwords are
// typed errors that store nothing; roles change, and the last active ADMIN can be neither demoted
// nor disabled, even by two admins demoting each other at the same moment; disabling ends the
// sessions (and closes their sockets); password resets and own password changes.
import { describeLink, INVITE_TTL_MS, acceptInvite } from "@steward/core/operators";
import { passwordProblems } from "@steward/core/passwords";
import { type Client, createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

const STRONG = "plum kettle orbit 42";
const STRONGER = "quiet harbour lantern 7";

let api: TestApi;
let adminCookie: string;
let adminId: string;
const clients: Client[] = [];

type Result = { __typename: string; message?: string; problems?: string[]; problem?: string };

async function asAdmin<T = Record<string, Result>>(query: string, variables: Record<string, unknown> = {}) {
  const result = await api.graphql<T>(query, variables, { cookie: adminCookie });
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data!;
}

const INVITE = `mutation ($email: String!, $role: Role!) {
  inviteOperator(email: $email, role: $role) {
    __typename ... on MutationInviteOperatorSuccess { data { id email role expiresAt } } ... on Error { message }
  }
}`;
const ACCEPT = `mutation ($token: String!, $name: String!, $password: String!) {
  acceptInvite(token: $token, name: $name, password: $password) {
    __typename ... on MutationAcceptInviteSuccess { data { id email role } }
    ... on LinkUnusableError { message problem } ... on WeakPasswordError { message problems } ... on Error { message }
  }
}`;
const ROLE = `mutation ($operatorId: ID!, $role: Role!) {
  changeOperatorRole(operatorId: $operatorId, role: $role) {
    __typename ... on MutationChangeOperatorRoleSuccess { data { role } } ... on Error { message }
  }
}`;
const DISABLE = `mutation ($operatorId: ID!) {
  disableOperator(operatorId: $operatorId) {
    __typename ... on MutationDisableOperatorSuccess { data { disabledAt } } ... on Error { message }
  }
}`;

/** The token from the link in the newest outbox email to `email`. */
async function linkTokenSentTo(email: string): Promise<string> {
  const message = await api.database.db.outboxMessage.findFirstOrThrow({
    where: { kind: { startsWith: "email." }, payload: { path: ["to"], equals: email } },
    orderBy: { createdAt: "desc" },
  });
  const text = (message.payload as { text: string }).text;
  const url = /https?:\/\/\S+\/set-password#(\S+)/.exec(text);
  if (!url?.[1]) throw new Error(`no link in ${text}`);
  expect(url[0].startsWith(`${api.env.PUBLIC_URL}/set-password#`)).toBe(true);
  return url[1];
}

async function invite(email: string, role: "ADMIN" | "OPERATOR" | "VIEWER" = "VIEWER"): Promise<string> {
  const data = await asAdmin(INVITE, { email, role });
  expect(data.inviteOperator!.__typename).toBe("MutationInviteOperatorSuccess");
  return linkTokenSentTo(email);
}

async function accept(token: string, name: string, password: string): Promise<Result> {
  const result = await api.graphql<{ acceptInvite: Result }>(ACCEPT, { token, name, password });
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data!.acceptInvite;
}

async function auditActions(targetId: string): Promise<string[]> {
  const rows = await api.database.db.auditEvent.findMany({ where: { targetId }, orderBy: { createdAt: "asc" } });
  return rows.map((row) => row.action);
}

beforeAll(async () => {
  api = await startTestApi({ PUBLIC_URL: "https://steward.example.test" });
  adminId = (await createOperator(api.database.db, "ADMIN", "root@test.example")).id;
  adminCookie = await api.loginCookie("root@test.example", TEST_PASSWORD);
});
afterAll(async () => {
  for (const client of clients) await client.dispose();
  await api?.stop();
});

describe("the password policy", () => {
  it("wants 12+ characters, not a common password, not a pattern, not the email", () => {
    expect(passwordProblems("short")).toEqual(["TOO_SHORT"]);
    expect(passwordProblems("Password1234")).toEqual(["COMMON"]);
    expect(passwordProblems("abababababab")).toEqual(["REPETITIVE"]);
    expect(passwordProblems("marguerite-2026!", "marguerite@test.example")).toEqual(["CONTAINS_EMAIL"]);
    expect(passwordProblems(STRONG, "someone@test.example")).toEqual([]);
  });
});

describe("invitations", () => {
  it("emails a one-time link through the outbox; accepted once, the invitee signs in with the role invited", async () => {
    const token = await invite("nina@test.example", "OPERATOR");
    const outbox = await api.database.db.outboxMessage.findFirstOrThrow({
      where: { kind: "email.operator_invite", payload: { path: ["to"], equals: "nina@test.example" } },
    });
    expect(outbox.status).toBe("PENDING");
    expect((outbox.payload as { subject: string }).subject).toBe("ADMIN Tester invited you to Steward");

    const link = await api.graphql<{ operatorLink: { __typename: string; data?: { purpose: string; email: string } } }>(
      `query ($token: String!) { operatorLink(token: $token) { __typename ... on QueryOperatorLinkSuccess { data { purpose email role } } } }`,
      { token },
    );
    expect(link.data?.operatorLink.data).toEqual({ purpose: "INVITE", email: "nina@test.example", role: "OPERATOR" });

    const accepted = await accept(token, "Nina Nguyen", STRONG);
    expect(accepted).toMatchObject({ __typename: "MutationAcceptInviteSuccess" });
    const cookie = await api.loginCookie("nina@test.example", STRONG);
    const me = await api.graphql<{ me: { name: string; role: string } }>(`{ me { name role } }`, {}, { cookie });
    expect(me.data?.me).toEqual({ name: "Nina Nguyen", role: "OPERATOR" });
    const operator = await api.database.db.operator.findUniqueOrThrow({ where: { email: "nina@test.example" } });
    expect(await auditActions(operator.id)).toEqual(["operator.invite_accepted"]);

    // Used twice: a typed error, and nothing changes.
    const again = await accept(token, "Someone Else", STRONGER);
    expect(again).toMatchObject({ __typename: "LinkUnusableError", problem: "USED" });
    expect((await api.database.db.operator.findUniqueOrThrow({ where: { email: "nina@test.example" } })).name).toBe(
      "Nina Nguyen",
    );
  });

  it("refuses a weak password and stores nothing: the link still works afterwards", async () => {
    const token = await invite("omar@test.example");
    const weak = await accept(token, "Omar", "password1234");
    expect(weak).toMatchObject({ __typename: "WeakPasswordError", problems: ["COMMON"] });
    const short = await accept(token, "Omar", "too short");
    expect(short).toMatchObject({ __typename: "WeakPasswordError", problems: ["TOO_SHORT"] });
    expect(await api.database.db.operator.count({ where: { email: "omar@test.example" } })).toBe(0);
    expect(await accept(token, "Omar", STRONG)).toMatchObject({ __typename: "MutationAcceptInviteSuccess" });
  });

  it("refuses an expired link, a replaced one and an unknown one", async () => {
    const token = await invite("paz@test.example");
    const later = new Date(Date.now() + INVITE_TTL_MS + 60_000);
    await expect(
      acceptInvite({ db: api.database.db, clock: () => later }, { token, name: "Paz", password: STRONG }),
    ).rejects.toMatchObject({
      code: "LINK_UNUSABLE",
      problem: "EXPIRED",
    });
    await expect(describeLink(api.database.db, token, later)).rejects.toMatchObject({ problem: "EXPIRED" });
    expect(await api.database.db.operator.count({ where: { email: "paz@test.example" } })).toBe(0);

    const newer = await invite("paz@test.example");
    expect(await accept(token, "Paz", STRONG)).toMatchObject({ __typename: "LinkUnusableError", problem: "REPLACED" });
    expect(await accept(`${newer}x`, "Paz", STRONG)).toMatchObject({
      __typename: "LinkUnusableError",
      problem: "UNKNOWN",
    });
    expect(await accept(newer, "Paz", STRONG)).toMatchObject({ __typename: "MutationAcceptInviteSuccess" });
  });

  it("accepted twice at the same moment creates one operator", async () => {
    const token = await invite("quinn@test.example");
    const outcomes = await Promise.all([accept(token, "Quinn A", STRONG), accept(token, "Quinn B", STRONG)]);
    expect(outcomes.map((outcome) => outcome.__typename).sort()).toEqual([
      "LinkUnusableError",
      "MutationAcceptInviteSuccess",
    ]);
    expect(await api.database.db.operator.count({ where: { email: "quinn@test.example" } })).toBe(1);
  });

  it("refuses to invite someone who already has an account, and a VIEWER may not invite", async () => {
    const data = await asAdmin(INVITE, { email: "ROOT@test.example", role: "VIEWER" });
    expect(data.inviteOperator).toMatchObject({ __typename: "ConflictError" });
    await createOperator(api.database.db, "VIEWER", "vic@test.example");
    const cookie = await api.loginCookie("vic@test.example", TEST_PASSWORD);
    const refused = await api.graphql(INVITE, { email: "x@test.example", role: "ADMIN" }, { cookie });
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await api.database.db.operatorLink.count({ where: { email: "x@test.example" } })).toBe(0);
  });
});

describe("roles and the last admin", () => {
  it("changes a role (audited) and refuses to demote or disable the last active admin", async () => {
    const olga = await createOperator(api.database.db, "VIEWER", "olga@test.example");
    const promoted = await asAdmin(ROLE, { operatorId: olga.id, role: "OPERATOR" });
    expect(promoted.changeOperatorRole).toMatchObject({ data: { role: "OPERATOR" } });
    const audit = await api.database.db.auditEvent.findFirstOrThrow({
      where: { targetId: olga.id, action: "operator.role_change" },
    });
    expect([audit.actorLabel, audit.before, audit.after]).toEqual([
      "root@test.example",
      { role: "VIEWER" },
      { role: "OPERATOR" },
    ]);

    const demoteSelf = await asAdmin(ROLE, { operatorId: adminId, role: "VIEWER" });
    expect(demoteSelf.changeOperatorRole).toMatchObject({
      __typename: "LastAdminError",
      message: "root@test.example is the last active admin: make someone else an admin first",
    });
    const disableSelf = await asAdmin(DISABLE, { operatorId: adminId });
    expect(disableSelf.disableOperator).toMatchObject({ __typename: "LastAdminError" });
    expect(await api.database.db.operator.findUniqueOrThrow({ where: { id: adminId } })).toMatchObject({
      role: "ADMIN",
      disabledAt: null,
    });
  });

  it("two admins demoting each other at the same moment leave one admin", async () => {
    const first = await createOperator(api.database.db, "ADMIN", "duel-a@test.example");
    const second = await createOperator(api.database.db, "ADMIN", "duel-b@test.example");
    // Only these two are admins: the test's own admin steps aside (a third admin would make both succeed).
    await api.database.db.operator.update({ where: { id: adminId }, data: { role: "OPERATOR" } });
    try {
      const cookieA = await api.loginCookie("duel-a@test.example", TEST_PASSWORD);
      const cookieB = await api.loginCookie("duel-b@test.example", TEST_PASSWORD);
      for (let round = 0; round < 3; round++) {
        const [a, b] = await Promise.all([
          api.graphql<{ changeOperatorRole: Result }>(
            ROLE,
            { operatorId: second.id, role: "VIEWER" },
            { cookie: cookieA },
          ),
          api.graphql<{ changeOperatorRole: Result }>(
            ROLE,
            { operatorId: first.id, role: "VIEWER" },
            { cookie: cookieB },
          ),
        ]);
        const outcomes = [a, b].map((result) => result.data?.changeOperatorRole.__typename ?? JSON.stringify(result));
        const admins = await api.database.db.operator.count({ where: { role: "ADMIN", disabledAt: null } });
        expect(admins).toBe(1);
        // The loser either met LastAdminError or was no longer an admin when its request arrived.
        expect(outcomes).toContain("MutationChangeOperatorRoleSuccess");
        expect(outcomes.filter((outcome) => outcome === "MutationChangeOperatorRoleSuccess")).toHaveLength(1);
        await api.database.db.operator.updateMany({
          where: { id: { in: [first.id, second.id] } },
          data: { role: "ADMIN" },
        });
      }
    } finally {
      await api.database.db.operator.update({ where: { id: adminId }, data: { role: "ADMIN" } });
    }
  });
});

describe("disabling", () => {
  it("ends the operator's sessions at once, closes their socket, and they cannot sign in", async () => {
    const dora = await createOperator(api.database.db, "OPERATOR", "dora@test.example");
    const cookie = await api.loginCookie("dora@test.example", TEST_PASSWORD);
    let closeCode: number | undefined;
    class BrowserLikeWebSocket extends WebSocket {
      constructor(address: string | URL, protocols?: string | string[]) {
        super(address, protocols, { headers: { cookie } });
      }
    }
    const client = createClient({
      url: `${api.url.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: BrowserLikeWebSocket,
      retryAttempts: 0,
      on: {
        closed: (event) => {
          if (typeof event === "object" && event !== null && "code" in event && typeof event.code === "number")
            closeCode = event.code;
        },
      },
    });
    clients.push(client);
    let connected = false;
    client.on("connected", () => (connected = true));
    client.subscribe(
      { query: `subscription { jobRunRecorded { id } }` },
      {
        next: () => undefined,
        error: () => undefined,
        complete: () => undefined,
      },
    );
    await expect.poll(() => connected, { timeout: 10_000 }).toBe(true);

    const disabled = await asAdmin(DISABLE, { operatorId: dora.id });
    expect(disabled.disableOperator).toMatchObject({ __typename: "MutationDisableOperatorSuccess" });
    await expect.poll(() => closeCode, { timeout: 10_000 }).toBe(4401);
    const me = await api.graphql<{ me: unknown }>(`{ me { id } }`, {}, { cookie });
    expect(me.data?.me).toBeNull();
    await expect(api.loginCookie("dora@test.example", TEST_PASSWORD)).rejects.toThrow(/login failed/);
    expect(await auditActions(dora.id)).toContain("operator.disable");

    const list = await asAdmin<{ operators: { email: string; disabledAt: string | null; openSessions: number }[] }>(
      `{ operators { email disabledAt openSessions } }`,
    );
    expect(list.operators.find((operator) => operator.email === "dora@test.example")).toMatchObject({
      openSessions: 0,
    });
    expect(list.operators.at(-1)?.email).toBe("dora@test.example");

    await asAdmin(`mutation ($operatorId: ID!) { enableOperator(operatorId: $operatorId) { __typename } }`, {
      operatorId: dora.id,
    });
    await api.loginCookie("dora@test.example", TEST_PASSWORD);
  });
});

describe("passwords", () => {
  it("an admin emails a reset link; the new password works, the old one and every session end", async () => {
    const rita = await createOperator(api.database.db, "VIEWER", "rita@test.example");
    const oldCookie = await api.loginCookie("rita@test.example", TEST_PASSWORD);
    const sent = await asAdmin<{ sendPasswordReset: Result }>(
      `mutation ($operatorId: ID!) { sendPasswordReset(operatorId: $operatorId) { __typename } }`,
      { operatorId: rita.id },
    );
    expect(sent.sendPasswordReset.__typename).toBe("MutationSendPasswordResetSuccess");
    const token = await linkTokenSentTo("rita@test.example");
    const RESET = `mutation ($token: String!, $password: String!) {
      resetPassword(token: $token, password: $password) { __typename ... on Error { message } ... on LinkUnusableError { problem } }
    }`;
    // An invitation's page cannot take a reset link as an invite.
    expect(await accept(token, "Rita", STRONG)).toMatchObject({ __typename: "LinkUnusableError", problem: "UNKNOWN" });
    const weak = await api.graphql<{ resetPassword: Result }>(RESET, { token, password: "ritaritarita" });
    expect(weak.data?.resetPassword.__typename).toBe("WeakPasswordError");
    const reset = await api.graphql<{ resetPassword: Result }>(RESET, { token, password: STRONG });
    expect(reset.data?.resetPassword.__typename).toBe("MutationResetPasswordSuccess");
    const twice = await api.graphql<{ resetPassword: Result }>(RESET, { token, password: STRONGER });
    expect(twice.data?.resetPassword).toMatchObject({ __typename: "LinkUnusableError", problem: "USED" });

    expect((await api.graphql<{ me: unknown }>(`{ me { id } }`, {}, { cookie: oldCookie })).data?.me).toBeNull();
    await expect(api.loginCookie("rita@test.example", TEST_PASSWORD)).rejects.toThrow(/login failed/);
    await api.loginCookie("rita@test.example", STRONG);
    expect(await auditActions(rita.id)).toEqual(["operator.password_reset_sent", "operator.password_reset"]);
  });

  it("every operator changes their own password with the current one; their other sessions end", async () => {
    await createOperator(api.database.db, "VIEWER", "cleo@test.example");
    const here = await api.loginCookie("cleo@test.example", TEST_PASSWORD);
    const elsewhere = await api.loginCookie("cleo@test.example", TEST_PASSWORD);
    const CHANGE = `mutation ($currentPassword: String!, $newPassword: String!) {
      changePassword(currentPassword: $currentPassword, newPassword: $newPassword) { __typename ... on Error { message } }
    }`;
    const wrong = await api.graphql<{ changePassword: Result }>(
      CHANGE,
      { currentPassword: "not it at all", newPassword: STRONG },
      { cookie: here },
    );
    expect(wrong.data?.changePassword).toEqual({
      __typename: "InvalidInputError",
      message: "Your current password is not right",
    });
    const weak = await api.graphql<{ changePassword: Result }>(
      CHANGE,
      { currentPassword: TEST_PASSWORD, newPassword: "cleo@test.example!" },
      { cookie: here },
    );
    expect(weak.data?.changePassword.__typename).toBe("WeakPasswordError");
    const changed = await api.graphql<{ changePassword: Result }>(
      CHANGE,
      { currentPassword: TEST_PASSWORD, newPassword: STRONG },
      { cookie: here },
    );
    expect(changed.data?.changePassword.__typename).toBe("MutationChangePasswordSuccess");
    expect((await api.graphql<{ me: unknown }>(`{ me { id } }`, {}, { cookie: here })).data?.me).not.toBeNull();
    expect((await api.graphql<{ me: unknown }>(`{ me { id } }`, {}, { cookie: elsewhere })).data?.me).toBeNull();
    await api.loginCookie("cleo@test.example", STRONG);
  });
});
