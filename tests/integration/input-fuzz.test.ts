// Property-based fuzzing (fast-check, fixed seed): generated inputs thrown at every mutation of
// the schema and at the Stripe webhook endpoint. Whatever arrives: never a 500 or an unexpected
// (masked) error, and a rejected call changes nothing in the database (rejections that are
// recorded by design, failed logins and refused webhooks, are the only rows allowed to appear).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { apiTokenScopes } from "@steward/core/permissions";
import { createApiToken } from "@steward/core/apiTokens";
import { hashSecret, newSecret } from "@steward/core/secrets";
import { seed } from "../../scripts/seed/demo.ts";
import fc from "fast-check";
import {
  buildSchema,
  getNamedType,
  type GraphQLField,
  type GraphQLInputType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isUnionType,
} from "graphql";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.ts";
import { accessTable } from "../support/access-table.ts";

const SEED = 20261201;
const RUNS_PER_MUTATION = 12;
const WEBHOOK_RUNS = 60;
const WEBHOOK_SECRET = "whsec_steward_sandbox";

const schema = buildSchema(readFileSync(join(import.meta.dirname, "../../api/schema.graphql"), "utf8"));
const mutations = Object.values(schema.getMutationType()!.getFields());

let api: TestApi;
let adminId: string;
let allScopesToken: string;
/** Real ids from the seeded data, so generated calls reach past "not found" too. */
let knownIds: string[] = [];

const nastyStrings = fc.constantFrom(
  "",
  " ",
  "x".repeat(5_000),
  '\'; DROP TABLE "Review"; --',
  "\u0000",
  "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🐕",
  "../../etc/passwd",
  "<script>alert(1)</script>",
  "00000000-0000-0000-0000-000000000000",
  "admin@steward.test",
);
/** Text PostgreSQL cannot store: NUL anywhere, and UTF-16 surrogates without their pair. */
const unstorableStrings = fc.oneof(
  fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })).map(([head, tail]) => `${head}\u0000${tail}`),
  fc.constantFrom("\ud800", "\udfff", "lone \ud83d surrogate", "\udc00\ud800", "ok\u0000"),
);
const anyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  nastyStrings,
  unstorableStrings,
);

function valueFor(type: GraphQLInputType): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return requiredValueFor(type.ofType);
  return fc.option(requiredValueFor(type), { nil: null });
}

function requiredValueFor(inner: GraphQLInputType): fc.Arbitrary<unknown> {
  if (isListType(inner)) return fc.array(valueFor(inner.ofType), { maxLength: 4 });
  if (isEnumType(inner)) return fc.oneof(fc.constantFrom(...inner.getValues().map((value) => value.name)), anyString);
  if (isInputObjectType(inner)) {
    return fc.record(
      Object.fromEntries(Object.values(inner.getFields()).map((field) => [field.name, valueFor(field.type)])),
    );
  }
  switch (inner.name) {
    case "ID":
      return fc.oneof(
        fc.constantFrom(...knownIds),
        fc.uuid(),
        anyString,
        anyString.map((text) => Buffer.from(text).toString("base64")),
      );
    case "Int":
      return fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2 ** 31 - 1, -(2 ** 31), 10_000_000));
    case "Float":
      return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, 1, -1, 1.5, 1e308));
    case "Boolean":
      return fc.boolean();
    case "DateTime":
      return fc.oneof(
        fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
        anyString,
      );
    default:
      return anyString;
  }
}

function documentFor(field: GraphQLField<unknown, unknown>): string {
  const declarations = field.args.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(", ");
  const passing = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(", ");
  const selection = isLeafType(getNamedType(field.type)) ? "" : " { __typename }";
  return `mutation${declarations ? ` (${declarations})` : ""} { ${field.name}${passing ? `(${passing})` : ""}${selection} }`;
}

/**
 * Everything in the database, as one hash per table. Not counted: login attempts, and the audit
 * rows a rejection writes on purpose (failed logins, refused webhooks); the best-effort
 * `lastUsedAt` of API tokens.
 */
async function databaseFingerprint(): Promise<Record<string, string>> {
  const tables = await api.database.db.$queryRaw<{ table_name: string }[]>`
    SELECT table_name::text AS table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
      AND table_name NOT IN ('_prisma_migrations', 'LoginAttempt')`;
  const fingerprint: Record<string, string> = {};
  for (const { table_name: table } of tables) {
    const recordedRejections =
      table === "AuditEvent" ? `WHERE t."action" NOT IN ('auth.login_failed', 'stripe.webhook_rejected')` : "";
    const [row] = await api.database.db.$queryRawUnsafe<{ hash: string | null }[]>(
      `SELECT md5(string_agg((to_jsonb(t) - 'lastUsedAt')::text, ',' ORDER BY (to_jsonb(t) - 'lastUsedAt')::text)) AS hash
       FROM "${table}" t ${recordedRejections}`,
    );
    fingerprint[table] = row?.hash ?? "empty";
  }
  return fingerprint;
}

async function credentialsFor(mutation: string): Promise<{ cookie?: string; bearer?: string }> {
  const access = accessTable[`Mutation.${mutation}`];
  if (!access || access.roles === "anyone") return {};
  if (access.roles === "none") return { bearer: allScopesToken };
  // A fresh ADMIN session per call: `logout` ends the session it runs in.
  const token = newSecret("sst_");
  await api.database.db.session.create({
    data: { tokenHash: hashSecret(token), operatorId: adminId, expiresAt: new Date(Date.now() + 3_600_000) },
  });
  return { cookie: `steward_session=${token}` };
}

beforeAll(async () => {
  api = await startTestApi({
    RATE_LIMIT_PER_ADDRESS: "100000",
    RATE_LIMIT_PER_TOKEN: "100000",
    STRIPE_TIMEOUT_MS: "1000",
    // No worker runs here: under load this file outlasts the watchdog's 5 minutes, and its
    // worker.silent alert would change the database between a property's before and after.
    WATCHDOG_STALE_SECONDS: "86400",
  });
  await seed(api.database.db);
  const admin = await api.database.db.operator.findFirstOrThrow({ where: { role: "ADMIN" } });
  adminId = admin.id;
  allScopesToken = (
    await createApiToken(
      { db: api.database.db },
      { kind: "OPERATOR", id: admin.id, email: admin.email, name: admin.name, role: admin.role },
      { name: "fuzz", scopes: [...apiTokenScopes] },
    )
  ).token;
  const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");
  const db = api.database.db;
  knownIds = [
    ...(await db.review.findMany({ take: 3, select: { id: true } })).map((row) => globalId("Review", row.id)),
    ...(await db.refundRequest.findMany({ take: 3, select: { id: true } })).map((row) =>
      globalId("RefundRequest", row.id),
    ),
    ...(await db.payment.findMany({ take: 2, select: { id: true } })).map((row) => globalId("Payment", row.id)),
    ...(await db.business.findMany({ take: 2, select: { id: true } })).map((row) => globalId("Business", row.id)),
    ...(await db.apiToken.findMany({ select: { id: true } })).map((row) => globalId("ApiToken", row.id)),
    ...(await db.region.findMany({ take: 2, select: { id: true } })).map((row) => row.id),
    ...(await db.operator.findMany({ select: { id: true } })).map((row) => row.id),
  ];
});
afterAll(() => api?.stop());

describe.each(mutations.map((field) => [field.name, field] as const))("mutation %s", (name, field) => {
  it("answers generated input without a 500, and changes nothing when it refuses it", async () => {
    const query = documentFor(field);
    const variables = fc.record(Object.fromEntries(field.args.map((arg) => [arg.name, valueFor(arg.type)])));
    await fc.assert(
      fc.asyncProperty(variables, async (input) => {
        const credentials = await credentialsFor(name);
        const before = await databaseFingerprint();
        const result = await api.graphql(query, input, credentials);
        expect(result.status).toBeLessThan(500);
        const codes = (result.errors ?? []).map((error) => error.extensions?.code);
        expect(codes).not.toContain("INTERNAL_SERVER_ERROR");
        const payload = result.data?.[name] as { __typename?: string } | null | undefined;
        const accepted =
          !result.errors?.length &&
          payload !== null &&
          payload !== undefined &&
          (!isUnionType(getNamedType(field.type)) || (payload.__typename ?? "").endsWith("Success"));
        if (!accepted) expect(await databaseFingerprint()).toEqual(before);
      }),
      { seed: SEED, numRuns: RUNS_PER_MUTATION, endOnFailure: true },
    );
  });
});

describe("the Stripe webhook", () => {
  async function post(body: string, signature: string | null) {
    const response = await fetch(`${api.url}/webhooks/stripe`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(signature !== null ? { "stripe-signature": signature } : {}) },
      body,
    });
    return response.status;
  }

  it("refuses unsigned, forged and malformed deliveries with 400 and stores nothing", async () => {
    const signature = fc.oneof(
      fc.constant(null),
      // Anything a client can put in a header (printable ASCII).
      fc.stringMatching(/^[\x20-\x7e]{0,120}$/),
      fc
        .tuple(
          fc.integer({ min: 0, max: 2 ** 31 }),
          fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 64, maxLength: 64 }),
        )
        .map(([t, v1]) => `t=${t},v1=${v1}`),
    );
    const body = fc.oneof(
      anyString,
      fc.json(),
      fc.jsonValue().map((value) => JSON.stringify(value)),
    );
    await fc.assert(
      fc.asyncProperty(body, signature, async (payload, header) => {
        const before = await databaseFingerprint();
        expect(await post(payload, header)).toBe(400);
        expect(await databaseFingerprint()).toEqual(before);
      }),
      { seed: SEED, numRuns: WEBHOOK_RUNS, endOnFailure: true },
    );
  });

  it("answers correctly signed but arbitrary payloads without a 500, storing nothing it refuses", async () => {
    const payload = fc.oneof(
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc
        .record({ id: anyString, type: anyString, object: fc.constant("event"), data: fc.jsonValue() })
        .map((event) => JSON.stringify(event)),
    );
    await fc.assert(
      fc.asyncProperty(payload, async (body) => {
        const before = await databaseFingerprint();
        const status = await post(
          body,
          Stripe.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET }),
        );
        expect([200, 400]).toContain(status);
        if (status === 400) expect(await databaseFingerprint()).toEqual(before);
      }),
      { seed: SEED, numRuns: WEBHOOK_RUNS, endOnFailure: true },
    );
  });
});

describe("text PostgreSQL cannot store", () => {
  const NUL = "\u0000";
  const unstorable = [`before${NUL}after`, "lone \ud800 surrogate", "\udfff"];
  const adminCookie = () => credentialsFor("rejectReview");
  /** A token of its own: the fuzzing above may have revoked the shared one (revokeApiToken). */
  const freshToken = async () => {
    const admin = await api.database.db.operator.findUniqueOrThrow({ where: { id: adminId } });
    const created = await createApiToken(
      { db: api.database.db },
      { kind: "OPERATOR", ...admin },
      { name: "unstorable text", scopes: [...apiTokenScopes] },
    );
    return created.token;
  };
  const raw = async (path: string, body: Buffer, headers: Record<string, string> = {}) => {
    const response = await fetch(`${api.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json", ...headers },
      body: new Uint8Array(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it("is refused with a typed BAD_USER_INPUT error in a review body, refund reason or rejection note", async () => {
    const token = await freshToken();
    const review = await api.database.db.review.findFirstOrThrow({ where: { status: "PENDING" } });
    const payment = await api.database.db.payment.findFirstOrThrow();
    const business = await api.database.db.business.findFirstOrThrow();
    const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");
    const calls: [string, Record<string, unknown>, { cookie?: string; bearer?: string }][] = [
      [
        `mutation ($body: String!, $businessId: ID!) { submitReview(body: $body, businessId: $businessId, rating: 4) { __typename } }`,
        { businessId: globalId("Business", business.id) },
        { bearer: token },
      ],
      [
        `mutation ($body: String!, $paymentId: ID!) { requestRefund(paymentId: $paymentId, reason: $body) { __typename } }`,
        { paymentId: globalId("Payment", payment.id) },
        { bearer: token },
      ],
      [
        `mutation ($body: String!, $id: ID!) { rejectReview(id: $id, reason: OTHER, note: $body) { __typename } }`,
        { id: globalId("Review", review.id) },
        await adminCookie(),
      ],
    ];
    for (const [query, variables, credentials] of calls) {
      for (const text of unstorable) {
        const before = await databaseFingerprint();
        const result = await api.graphql(
          query,
          { ...variables, body: `A review long enough ${text} to pass` },
          credentials,
        );
        expect(result.status).toBe(400);
        expect(result.data).toBeUndefined();
        expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
        expect(result.errors?.[0]?.message).toMatch(/NUL|surrogate/);
        expect(await databaseFingerprint()).toEqual(before);
      }
    }
    // Written inline in the document instead of as a variable: refused the same way.
    const inline = await api.graphql(
      `mutation { submitReview(body: "inline \\u0000 text in the document", businessId: "${globalId("Business", business.id)}", rating: 4) { __typename } }`,
      {},
      { bearer: token },
    );
    expect(inline.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("never becomes a 500 as invalid UTF-8 bytes in the request body", async () => {
    const token = await freshToken();
    const business = await api.database.db.business.findFirstOrThrow();
    const id = Buffer.from(`Business:${business.id}`).toString("base64");
    for (const bytes of [
      [0xff, 0xfe],
      [0xc0, 0x80],
      [0xed, 0xa0, 0x80],
      [0xe2, 0x82],
    ]) {
      const body = Buffer.concat([
        Buffer.from(
          JSON.stringify({
            query: `mutation ($body: String!) { submitReview(body: $body, businessId: "${id}", rating: 4) { __typename } }`,
          }).slice(0, -1) + ',"variables":{"body":"Invalid bytes: ',
        ),
        Buffer.from(bytes),
        Buffer.from(' in a review long enough to pass"}}'),
      ]);
      const result = await raw("/graphql", body, { authorization: `Bearer ${token}` });
      expect(result.status).toBeLessThan(500);
      expect(JSON.stringify(result.body)).not.toContain("INTERNAL_SERVER_ERROR");
    }
  });

  it("in a signed Stripe event is stored (written out as an escape), not answered 500", async () => {
    const id = `evt_nul_${Date.now()}`;
    const payload = JSON.stringify({
      id,
      object: "event",
      type: "charge.updated",
      data: { object: { id: "ch_nul", object: "charge", description: `a${NUL}b \ud800` } },
    });
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    const response = await raw("/webhooks/stripe", Buffer.from(payload), { "stripe-signature": signature });
    expect(response.status).toBe(200);
    const stored = await api.database.db.stripeWebhookEvent.findUniqueOrThrow({ where: { id } });
    expect(JSON.stringify(stored.payload)).toContain("a\\\\u0000b \\\\ud800");
    // A NUL in the event's own id too: stored, and its redelivery is recognised as the same event.
    const nulId = JSON.stringify({ id: `evt_${NUL}x`, object: "event", type: "charge.updated", data: { object: {} } });
    const nulSignature = Stripe.webhooks.generateTestHeaderString({ payload: nulId, secret: WEBHOOK_SECRET });
    expect((await raw("/webhooks/stripe", Buffer.from(nulId), { "stripe-signature": nulSignature })).status).toBe(200);
    const again = await raw("/webhooks/stripe", Buffer.from(nulId), { "stripe-signature": nulSignature });
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
  });
});
