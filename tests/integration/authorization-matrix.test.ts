// The authorization matrix: every query, mutation and subscription of the schema, called as every
// role and every API token scope, compared with tests/support/access-table.ts (which the README's
// table is generated from). A root field without a row there fails this test.
import { apiTokenScopes } from "@steward/core/permissions";
import { hashSecret, newSecret } from "@steward/core/secrets";
import type { Role } from "@steward/db/client";
import {
  buildSchema,
  getNamedType,
  getNullableType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
} from "graphql";
import { type Client, createClient } from "graphql-ws";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createApiToken } from "@steward/core/apiTokens";
import { startTestApi, type TestApi } from "../support/api.ts";
import { accessTable, accessTableRows, allowed, type Principal, roles } from "../support/access-table.ts";
import { createOperator } from "../support/fixtures.ts";

// The committed SDL (CI fails when it is stale), read with this file's own `graphql`: the live
// schema object can come from a second copy of the package under Vitest (see api/src/builder.ts).
const schema = buildSchema(readFileSync(join(import.meta.dirname, "../../api/schema.graphql"), "utf8"));
const principals: Principal[] = ["anonymous", ...roles, ...apiTokenScopes.map((scope) => `token:${scope}` as const)];
const rootTypes = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(
  (type) => type !== null && type !== undefined,
);
const rootFields = rootTypes.flatMap((type) =>
  Object.values(type.getFields()).map((field) => ({ name: `${type.name}.${field.name}`, type: type.name, field })),
);

const DUMMY_UUID = "0194f5c0-0000-7000-8000-000000000000";
const globalId = (type: string) => Buffer.from(`${type}:${DUMMY_UUID}`).toString("base64");

const nodeTypes = Object.values(schema.getTypeMap())
  .filter((type) => isObjectType(type) && type.getInterfaces().some((iface) => iface.name === "Node"))
  .map((type) => type.name);

/**
 * The Node type an ID argument refers to, so its global id decodes (a wrong type is refused
 * before authorization runs): `businessId` / `businessIds` → Business; `id` → the node the field returns (a
 * mutation's `…Success.data`), a plain uuid for other objects (Region), else the node type its
 * name contains (revokeApiToken → ApiToken).
 */
function nodeTypeOf(field: GraphQLField<unknown, unknown>, argumentName: string): string | null {
  const named = argumentName.match(/^(\w+?)Ids?$/)?.[1];
  if (named) {
    const type = nodeTypes.find((candidate) => candidate.toLowerCase() === named.toLowerCase());
    return type ?? null;
  }
  let returned = getNamedType(field.type);
  if (isUnionType(returned)) {
    const success = returned.getTypes().find((member) => member.name.endsWith("Success"));
    const data = success?.getFields().data;
    if (data) returned = getNamedType(data.type);
  }
  if (nodeTypes.includes(returned.name)) return returned.name;
  // An object that is not a Node (Region) is addressed by its plain uuid.
  if (isObjectType(returned) && !returned.name.endsWith("Connection")) return null;
  return nodeTypes.find((candidate) => field.name.toLowerCase().includes(candidate.toLowerCase())) ?? "Review";
}

/** A well-formed value for an argument's type: authorization is decided before the value matters. */
function sampleValue(type: GraphQLInputType, argumentName: string, field: GraphQLField<unknown, unknown>): unknown {
  const inner = getNullableType(type);
  if (isListType(inner)) return [sampleValue(inner.ofType, argumentName, field)];
  if (isEnumType(inner)) return inner.getValues()[0]!.value as unknown;
  if (isInputObjectType(inner)) {
    return Object.fromEntries(
      Object.values(inner.getFields())
        .filter((field) => isNonNullType(field.type) && field.defaultValue === undefined)
        .map((input) => [input.name, sampleValue(input.type, input.name, field)]),
    );
  }
  if (isScalarType(inner)) {
    switch (inner.name) {
      case "ID": {
        // Not every ID is a global id (operators are addressed by their plain uuid).
        const nodeType = nodeTypeOf(field, argumentName);
        return nodeType ? globalId(nodeType) : DUMMY_UUID;
      }
      case "Int":
        return 1;
      case "Float":
        return 0.5;
      case "Boolean":
        return true;
      case "DateTime":
        return "2026-01-01T00:00:00.000Z";
      case "JSON":
        return {};
      default:
        return "sample";
    }
  }
  throw new Error(`No sample for ${String(type)}`);
}

function operationFor(kind: string, field: GraphQLField<unknown, unknown>) {
  const required = field.args.filter(
    (arg: GraphQLArgument) => isNonNullType(arg.type) && arg.defaultValue === undefined,
  );
  const declarations = required.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(", ");
  const passing = required.map((arg) => `${arg.name}: $${arg.name}`).join(", ");
  const selection = isLeafType(getNamedType(field.type)) ? "" : " { __typename }";
  const keyword = kind === "Query" ? "query" : kind === "Mutation" ? "mutation" : "subscription";
  return {
    query: `${keyword}${declarations ? ` (${declarations})` : ""} { ${field.name}${passing ? `(${passing})` : ""}${selection} }`,
    variables: Object.fromEntries(required.map((arg) => [arg.name, sampleValue(arg.type, arg.name, field)])),
  };
}

let api: TestApi;
const tokens = new Map<string, string>();
const operatorIds = new Map<Role, string>();
const sockets: Client[] = [];

/** A fresh session per call: some allowed calls (logout) end the session they run in. */
async function credentialsFor(principal: Principal): Promise<{ cookie?: string; bearer?: string }> {
  if (principal === "anonymous") return {};
  if (principal.startsWith("token:")) return { bearer: tokens.get(principal)! };
  const token = newSecret("sst_");
  await api.database.db.session.create({
    data: {
      tokenHash: hashSecret(token),
      operatorId: operatorIds.get(principal as Role)!,
      expiresAt: new Date(Date.now() + 3_600_000),
    },
  });
  return { cookie: `steward_session=${token}` };
}

type Outcome = "allowed" | "refused";
const refusedCodes = new Set(["UNAUTHENTICATED", "FORBIDDEN"]);

async function callOverHttp(principal: Principal, operation: ReturnType<typeof operationFor>): Promise<Outcome> {
  const result = await api.graphql(operation.query, operation.variables, await credentialsFor(principal));
  if (result.status === 401 || result.status === 403) return "refused";
  if (result.status >= 500) throw new Error(`HTTP ${result.status}: ${JSON.stringify(result)}`);
  return (result.errors ?? []).some((error) => refusedCodes.has(error.extensions?.code ?? "")) ? "refused" : "allowed";
}

/** Allowed: the subscription is open and waiting for events; refused: an auth error, or the socket closed with 4403. */
async function callOverSocket(principal: Principal, operation: ReturnType<typeof operationFor>): Promise<Outcome> {
  const credentials = await credentialsFor(principal);
  class CredentialedWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers: credentials.cookie ? { cookie: credentials.cookie } : {} });
    }
  }
  let closeCode: number | undefined;
  const client = createClient({
    url: `${api.url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: CredentialedWebSocket,
    retryAttempts: 0,
    connectionParams: credentials.bearer ? { authorization: `Bearer ${credentials.bearer}` } : {},
    on: {
      closed: (event) => {
        if (typeof event === "object" && event !== null && "code" in event && typeof event.code === "number")
          closeCode = event.code;
      },
    },
  });
  sockets.push(client);
  return new Promise<Outcome>((resolve) => {
    const timer = setTimeout(() => resolve("allowed"), 700);
    const settle = (outcome: Outcome) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    client.subscribe(
      { query: operation.query, variables: operation.variables },
      {
        next: (result) =>
          settle(
            result.errors?.some((error) => refusedCodes.has(String(error.extensions?.code))) ? "refused" : "allowed",
          ),
        error: () => settle(closeCode === 4403 ? "refused" : "allowed"),
        complete: () => undefined,
      },
    );
  });
}

beforeAll(async () => {
  api = await startTestApi({ RATE_LIMIT_PER_ADDRESS: "100000", RATE_LIMIT_PER_TOKEN: "100000" });
  for (const role of roles) {
    operatorIds.set(role, (await createOperator(api.database.db, role, `${role.toLowerCase()}@test.example`)).id);
  }
  const admin = await api.database.db.operator.findUniqueOrThrow({ where: { id: operatorIds.get("ADMIN")! } });
  for (const scope of apiTokenScopes) {
    const created = await createApiToken(
      api.database.db,
      { kind: "OPERATOR", id: admin.id, email: admin.email, name: admin.name, role: admin.role },
      { name: `only ${scope}`, scopes: [scope] },
    );
    tokens.set(`token:${scope}`, created.token);
  }
});
afterAll(async () => {
  for (const socket of sockets) await socket.dispose();
  await api?.stop();
});

describe("the access table", () => {
  it("has a row for every query, mutation and subscription, and none for fields that are gone", () => {
    const inSchema = rootFields.map((field) => field.name).sort();
    const inTable = Object.keys(accessTable).sort();
    expect(
      inSchema.filter((name) => !inTable.includes(name)),
      "add these to tests/support/access-table.ts",
    ).toEqual([]);
    expect(
      inTable.filter((name) => !inSchema.includes(name)),
      "remove these from tests/support/access-table.ts",
    ).toEqual([]);
  });

  it("is the table the README shows (regenerate it with `npx tsx scripts/access-table.ts`)", () => {
    const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
    const section = readme.split("<!-- access-table:start -->")[1]?.split("<!-- access-table:end -->")[0] ?? "";
    const readmeRows = section
      .split("\n")
      .filter((line) => line.startsWith("|") && !/^\|[\s:|-]+\|$/.test(line))
      .map((line) =>
        line
          .slice(1, -1)
          .split("|")
          .map((cell) => cell.trim()),
      );
    expect(readmeRows).toEqual(accessTableRows(principals));
  });
});

describe.each(rootFields.map((root) => [root.name, root] as const))("%s", (name, root) => {
  const access = accessTable[name];
  it.runIf(access !== undefined)("answers every role and token scope as the table says", async () => {
    const operation = operationFor(root.type, root.field);
    const call = root.type === "Subscription" ? callOverSocket : callOverHttp;
    const outcomes = await Promise.all(
      principals.map(async (principal) => [principal, await call(principal, operation)]),
    );
    const expected = principals.map((principal) => [principal, allowed(access!, principal) ? "allowed" : "refused"]);
    expect(outcomes).toEqual(expected);
  });
});
