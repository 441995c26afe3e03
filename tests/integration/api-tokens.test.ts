// API tokens for integrations: an ADMIN creates one (the secret is shown once and stored only as
// its SHA-256), the bearer authenticates, and revoking it locks the integration out at once.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

const CREATE = `mutation ($name: String!, $scopes: [ApiTokenScope!]!) {
  createApiToken(name: $name, scopes: $scopes) {
    __typename
    ... on MutationCreateApiTokenSuccess { data { id token } }
    ... on Error { message }
    ... on ValidationError { issues { path message } }
  }
}`;
const REVOKE = `mutation ($id: ID!) {
  revokeApiToken(id: $id) {
    __typename
    ... on MutationRevokeApiTokenSuccess { data }
    ... on Error { message }
  }
}`;

interface CreateResult {
  createApiToken: {
    __typename: string;
    data?: { id: string; token: string };
    message?: string;
    issues?: { path: string; message: string }[];
  };
}
interface RevokeResult {
  revokeApiToken: { __typename: string; data?: boolean; message?: string };
}

const sha256 = (value: string): string => createHash("sha256").update(value).digest("hex");
const globalId = (type: string, id: string): string => Buffer.from(`${type}:${id}`).toString("base64");

let api: TestApi;
let adminId: string;
let adminCookie: string;
let operatorCookie: string;

beforeAll(async () => {
  api = await startTestApi();
  adminId = (await createOperator(api.database.db, "ADMIN", "ada@test.example")).id;
  await createOperator(api.database.db, "OPERATOR", "olive@test.example");
  adminCookie = await api.loginCookie("ada@test.example", TEST_PASSWORD);
  operatorCookie = await api.loginCookie("olive@test.example", TEST_PASSWORD);
});
afterAll(() => api.stop());

async function createToken(name: string): Promise<{ id: string; token: string }> {
  const result = await api.graphql<CreateResult>(
    CREATE,
    { name, scopes: ["READ", "REVIEWS_WRITE"] },
    { cookie: adminCookie },
  );
  const data = result.data?.createApiToken.data;
  if (!data) throw new Error(`createApiToken failed: ${JSON.stringify(result)}`);
  return data;
}

describe("createApiToken", () => {
  it("returns the secret once and stores only its SHA-256, with an audit event", async () => {
    const { id, token } = await createToken("Marketplace app");
    expect(token).toMatch(/^stw_[\w-]{40,}$/);

    const rows = await api.database.db.apiToken.findMany();
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({
      name: "Marketplace app",
      tokenHash: sha256(token),
      prefix: token.slice(0, 10),
      scopes: ["read", "reviews:write"],
      createdById: adminId,
      revokedAt: null,
    });
    // Neither the token table nor the audit trail may hold the secret itself.
    const everything = JSON.stringify([
      await api.database.db.$queryRawUnsafe(`SELECT * FROM "ApiToken"`),
      await api.database.db.$queryRawUnsafe(`SELECT * FROM "AuditEvent"`),
    ]);
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(token.slice(10));

    const audit = await api.database.db.auditEvent.findMany({ where: { action: "apiToken.create" } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actorKind: "OPERATOR",
      actorId: adminId,
      targetType: "ApiToken",
      targetId: row.id,
    });
    expect(audit[0]!.after).toEqual({ name: "Marketplace app", scopes: ["read", "reviews:write"] });

    // The id handed back is the one the rest of the API speaks (apiTokens, revokeApiToken).
    const list = await api.graphql<{ apiTokens: { edges: { node: { id: string; prefix: string } }[] } }>(
      `{ apiTokens(first: 10) { edges { node { id prefix } } } }`,
      {},
      { cookie: adminCookie },
    );
    expect(list.data?.apiTokens.edges.map((edge) => edge.node)).toEqual([{ id, prefix: token.slice(0, 10) }]);
  });

  it("authenticates requests with the bearer token, as an integration and not as an operator", async () => {
    const { token } = await createToken("Search ingest");
    const me = await api.graphql<{ me: null }>(`{ me { email } }`, {}, { bearer: token });
    expect(me.status).toBe(200);
    expect(me.errors).toBeUndefined();
    expect(me.data?.me).toBeNull();

    // A known integration is FORBIDDEN (not UNAUTHENTICATED) from the operators' fields.
    const jobs = await api.graphql(`{ jobs { name } }`, {}, { bearer: token });
    expect(jobs.status).toBe(200);
    expect(jobs.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");

    // Nor may a token mint further tokens.
    const before = await api.database.db.apiToken.count();
    const escalate = await api.graphql(CREATE, { name: "escalated", scopes: ["READ"] }, { bearer: token });
    expect(escalate.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await api.database.db.apiToken.count()).toBe(before);

    // Use is recorded (best effort, asynchronously) so the admin can spot dead tokens.
    await expect
      .poll(
        async () =>
          (await api.database.db.apiToken.findUniqueOrThrow({ where: { tokenHash: sha256(token) } })).lastUsedAt,
      )
      .not.toBeNull();
  });

  it("is refused to an OPERATOR, and nothing is stored", async () => {
    const tokensBefore = await api.database.db.apiToken.count();
    const auditBefore = await api.database.db.auditEvent.count({ where: { action: "apiToken.create" } });
    const result = await api.graphql<CreateResult>(
      CREATE,
      { name: "sneaky", scopes: ["READ"] },
      { cookie: operatorCookie },
    );
    expect(result.data?.createApiToken).toBeUndefined();
    expect(result.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await api.database.db.apiToken.count()).toBe(tokensBefore);
    expect(await api.database.db.auditEvent.count({ where: { action: "apiToken.create" } })).toBe(auditBefore);
  });

  it.each([
    { case: "an empty name", name: "", scopes: ["READ"], path: "name" },
    { case: "a blank name", name: "   ", scopes: ["READ"], path: "name" },
    { case: "a name over 80 characters", name: "x".repeat(81), scopes: ["READ"], path: "name" },
    { case: "no scopes", name: "No scopes", scopes: [], path: "scopes" },
  ])("answers $case with a typed ValidationError and stores nothing", async ({ name, scopes, path }) => {
    const tokensBefore = await api.database.db.apiToken.count();
    const auditBefore = await api.database.db.auditEvent.count();
    const result = await api.graphql<CreateResult>(CREATE, { name, scopes }, { cookie: adminCookie });
    expect(result.data?.createApiToken.__typename).toBe("ValidationError");
    expect(result.data?.createApiToken.issues?.map((issue) => issue.path)).toContain(path);
    expect(await api.database.db.apiToken.count()).toBe(tokensBefore);
    expect(await api.database.db.auditEvent.count()).toBe(auditBefore);
  });

  it("rejects a scope that does not exist before anything runs", async () => {
    const tokensBefore = await api.database.db.apiToken.count();
    const result = await api.graphql<CreateResult>(
      CREATE,
      { name: "Admin please", scopes: ["ADMIN"] },
      { cookie: adminCookie },
    );
    expect(result.data?.createApiToken).toBeUndefined();
    expect(result.errors?.[0]?.message).toMatch(/ApiTokenScope/);
    expect(await api.database.db.apiToken.count()).toBe(tokensBefore);
  });
});

describe("revokeApiToken", () => {
  it("locks the integration out at once: the next request is a 401", async () => {
    const { id, token } = await createToken("Old integration");
    expect((await api.graphql(`{ me { email } }`, {}, { bearer: token })).status).toBe(200);

    const revoked = await api.graphql<RevokeResult>(REVOKE, { id }, { cookie: adminCookie });
    expect(revoked.data?.revokeApiToken).toEqual({ __typename: "MutationRevokeApiTokenSuccess", data: true });

    const row = await api.database.db.apiToken.findUniqueOrThrow({ where: { tokenHash: sha256(token) } });
    expect(row.revokedAt).toBeInstanceOf(Date);
    const after = await api.graphql(`{ me { email } }`, {}, { bearer: token });
    expect(after.status).toBe(401);
    expect(after.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");

    // Revoking twice is harmless and audited once.
    const again = await api.graphql<RevokeResult>(REVOKE, { id }, { cookie: adminCookie });
    expect(again.data?.revokeApiToken.__typename).toBe("MutationRevokeApiTokenSuccess");
    const audit = await api.database.db.auditEvent.findMany({ where: { action: "apiToken.revoke", targetId: row.id } });
    expect(audit).toHaveLength(1);
    expect(audit[0]?.actorId).toBe(adminId);
  });

  it("answers an unknown token id with a typed NotFoundError", async () => {
    const auditBefore = await api.database.db.auditEvent.count();
    const unknownId = globalId("ApiToken", "01900000-0000-7000-8000-000000000000");
    const result = await api.graphql<RevokeResult>(REVOKE, { id: unknownId }, { cookie: adminCookie });
    expect(result.data?.revokeApiToken.__typename).toBe("NotFoundError");
    expect(await api.database.db.auditEvent.count()).toBe(auditBefore);
  });

  it("refuses an id of another type and revokes nothing", async () => {
    const { token } = await createToken("Keep me");
    const row = await api.database.db.apiToken.findUniqueOrThrow({ where: { tokenHash: sha256(token) } });
    const result = await api.graphql<RevokeResult>(REVOKE, { id: globalId("JobRun", row.id) }, { cookie: adminCookie });
    expect(result.data?.revokeApiToken.__typename).not.toBe("MutationRevokeApiTokenSuccess");
    expect((await api.database.db.apiToken.findUniqueOrThrow({ where: { id: row.id } })).revokedAt).toBeNull();
  });

  it("is refused to an OPERATOR, and the token keeps working", async () => {
    const { id, token } = await createToken("Still needed");
    const result = await api.graphql<RevokeResult>(REVOKE, { id }, { cookie: operatorCookie });
    expect(result.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect((await api.graphql(`{ me { email } }`, {}, { bearer: token })).status).toBe(200);
  });
});
