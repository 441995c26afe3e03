// The authorization matrix: every query, mutation and subscription of the schema, called as every
// role and every API token scope, compared with tests/support/access-table.ts (which the README's
// tables are generated from). A root field without a row there fails this test. Below the root
// fields, the same for object types and their fields, generated from the schema: every object
// type needs a rule (`typeAccess`), every field of a type tokens may read needs one, and each is
// read through node(id:) and the token root fields, as every role and scope, against seeded rows.
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
  type GraphQLObjectType,
} from "graphql";
import { type Client, createClient } from "graphql-ws";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createApiToken } from "@steward/core/apiTokens";
import { startTestApi, type TestApi } from "../support/api.ts";
import {
  type Access,
  accessTable,
  accessTableRows,
  allowed,
  fieldAccess,
  type Principal,
  roles,
  tokensMayRead,
  typeAccess,
  typeAccessTableRows,
} from "../support/access-table.ts";
import { createOperator } from "../support/fixtures.ts";
import { globalIdOf, seedWorld, type World } from "../support/world.ts";

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
/** ID arguments the rules below cannot place: `field.argument` → its Node type. */
const idArgumentNodeTypes: Record<string, string> = { "replayWebhookEvents.ids": "StripeWebhookEvent" };

function nodeTypeOf(field: GraphQLField<unknown, unknown>, argumentName: string): string | null {
  const listed = idArgumentNodeTypes[`${field.name}.${argumentName}`];
  if (listed) return listed;
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
      { db: api.database.db },
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
    expect(readmeTable("access-table")).toEqual(accessTableRows(principals));
  });
});

/** The rows of one of the README's generated tables. */
function readmeTable(name: string): string[][] {
  const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
  const section = readme.split(`<!-- ${name}:start -->`)[1]?.split(`<!-- ${name}:end -->`)[0] ?? "";
  return section
    .split("\n")
    .filter((line) => line.startsWith("|") && !/^\|[\s:|-]+\|$/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split("|")
        .map((cell) => cell.trim()),
    );
}

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

// ───────────────────────────── Object types and their fields ─────────────────────────────

/** Types whose shape says what they are; they follow the field that returns them (no row needed). */
function followsItsField(type: GraphQLObjectType): boolean {
  const fields = type.getFields();
  return (
    rootTypes.some((root) => root.name === type.name) ||
    type.name.startsWith("__") ||
    type.name === "PageInfo" ||
    ("edges" in fields && "pageInfo" in fields) ||
    ("node" in fields && "cursor" in fields) ||
    type.getInterfaces().some((iface) => iface.name === "Error") ||
    (/^(Query|Mutation|Subscription)[A-Z]\w*Success$/.test(type.name) && Object.keys(fields).join() === "data")
  );
}

const objectTypes = Object.values(schema.getTypeMap())
  .filter((type): type is GraphQLObjectType => isObjectType(type))
  .filter((type) => !followsItsField(type));

describe("the type access table", () => {
  it("has a rule for every object type", () => {
    expect(
      objectTypes.map((type) => type.name).filter((name) => !(name in typeAccess)),
      'Object types without an access rule: add each to typeAccess in tests/support/access-table.ts (roles and token scopes that may read it, or "parent")',
    ).toEqual([]);
  });

  it("has no rule for a type that is gone", () => {
    const names = objectTypes.map((type) => type.name);
    expect(
      Object.keys(typeAccess).filter((name) => !names.includes(name)),
      "remove these from typeAccess in tests/support/access-table.ts",
    ).toEqual([]);
  });

  it("decides on every field of the types API tokens may read", () => {
    const problems: string[] = [];
    for (const type of objectTypes) {
      const rule = typeAccess[type.name];
      if (rule === undefined || !tokensMayRead(rule)) continue;
      const inSchema = Object.keys(type.getFields());
      for (const field of inSchema.filter((name) => !(name in (rule.fields ?? {}))))
        problems.push(
          `${type.name}.${field}: API tokens may read ${type.name}; say in typeAccess.${type.name}.fields whether they may read this field ("type") or not (operatorsOnly, and authScopes on the field)`,
        );
      for (const field of Object.keys(rule.fields ?? {}).filter((name) => !inSchema.includes(name)))
        problems.push(`${type.name}.${field} is gone: remove it from typeAccess.${type.name}.fields`);
    }
    expect(problems).toEqual([]);
  });

  it("is the table the README shows (regenerate it with `npx tsx scripts/access-table.ts`)", () => {
    expect(readmeTable("type-access-table")).toEqual(typeAccessTableRows(principals));
  });
});

/** One step of a path: a field of an object type. */
interface Step {
  parent: string;
  field: string;
}
/** Where a type is read from: node(id:) of a seeded row, or a root field tokens may call. */
type Entry = { kind: "node"; type: string } | { kind: "root"; field: string };
interface Reach {
  entry: Entry;
  steps: Step[];
  type: GraphQLObjectType;
}

const hasRequiredArgs = (field: GraphQLField<unknown, unknown>) =>
  field.args.some((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined);

/** The shortest path to every object type from the entries, through fields that need no arguments. */
function reachFrom(entries: Reach[]): Map<string, Reach> {
  const reached = new Map<string, Reach>();
  const queue = [...entries];
  while (queue.length > 0) {
    const current = queue.shift()!;
    if (reached.has(current.type.name)) continue;
    reached.set(current.type.name, current);
    for (const field of Object.values(current.type.getFields())) {
      const target = getNamedType(field.type);
      if (!isObjectType(target) || hasRequiredArgs(field) || reached.has(target.name)) continue;
      queue.push({
        ...current,
        steps: [...current.steps, { parent: current.type.name, field: field.name }],
        type: target,
      });
    }
  }
  return reached;
}

/** Steps from a type down to one of its leaves that its own rule covers (for a type-level check). */
function toLeaf(type: GraphQLObjectType, depth = 0): Step[] {
  const rule = typeAccess[type.name];
  const fields = Object.values(type.getFields()).filter((field) => !hasRequiredArgs(field));
  const plain = (field: GraphQLField<unknown, unknown>) =>
    rule === undefined || rule === "parent" || (rule.fields?.[field.name] ?? "type") === "type";
  const leaf = fields.find((field) => isLeafType(getNamedType(field.type)) && plain(field));
  if (leaf) return [{ parent: type.name, field: leaf.name }];
  const next = fields.find((field) => isObjectType(getNamedType(field.type)) && plain(field));
  if (!next || depth > 3) throw new Error(`${type.name} has no field to read it by`);
  return [{ parent: type.name, field: next.name }, ...toLeaf(getNamedType(next.type) as GraphQLObjectType, depth + 1)];
}

function typeAllows(typeName: string, principal: Principal): boolean {
  const rule = typeAccess[typeName];
  return rule === undefined || rule === "parent" || allowed(rule, principal);
}
function stepAllows(step: Step, principal: Principal): boolean {
  const rule = typeAccess[step.parent];
  const access: Access | null = rule === undefined || rule === "parent" ? null : fieldAccess(rule, step.field);
  return typeAllows(step.parent, principal) && (access === null || allowed(access, principal));
}

function selectionOf(steps: Step[]): string {
  return steps.reduceRight((inner, step) => (inner ? `${step.field} { ${inner} }` : step.field), "");
}

interface TypeCheck {
  name: string;
  reach: Reach;
  /** From the reached type down to a leaf. */
  steps: Step[];
}

let world: World;

function typeChecks(): TypeCheck[] {
  const nodeEntries: Reach[] = Object.keys(seededNodeTypes).map((type) => ({
    entry: { kind: "node", type },
    steps: [],
    type: schema.getType(type) as GraphQLObjectType,
  }));
  // Root fields some token may call that need no arguments (regions, businesses, …).
  const rootEntries: Reach[] = Object.values(schema.getQueryType()!.getFields())
    .filter((field) => !hasRequiredArgs(field) && isObjectType(getNamedType(field.type)))
    .filter((field) => (accessTable[`Query.${field.name}`]?.tokens ?? []).length > 0 && field.name !== "nodes")
    .map((field) => ({
      entry: { kind: "root", field: field.name },
      steps: [],
      type: getNamedType(field.type) as GraphQLObjectType,
    }));
  const checks: TypeCheck[] = [];
  for (const reach of reachFrom([...nodeEntries, ...rootEntries]).values()) {
    const rule = typeAccess[reach.type.name];
    if (rule === undefined || rule === "parent" || followsItsField(reach.type)) continue;
    checks.push({ name: reach.type.name, reach, steps: toLeaf(reach.type) });
    for (const [field, access] of Object.entries(rule.fields ?? {})) {
      const definition = reach.type.getFields()[field];
      if (!definition || hasRequiredArgs(definition)) continue;
      if (access === "type" && !tokensMayRead(rule)) continue;
      const target = getNamedType(definition.type);
      const below = isObjectType(target) ? toLeaf(target) : [];
      checks.push({
        name: `${reach.type.name}.${field}`,
        reach,
        steps: [{ parent: reach.type.name, field }, ...below],
      });
    }
  }
  return checks;
}

/** The Node types with a seeded row (tests/support/world.ts); a new Node type needs one there. */
const seededNodeTypes: Record<string, true> = Object.fromEntries(
  [
    "Review",
    "Business",
    "Payment",
    "RefundRequest",
    "Alert",
    "ApiToken",
    "AuditEvent",
    "Discrepancy",
    "Incident",
    "JobRun",
    "MaintenanceWindow",
    "ReconciliationRun",
    "StripeWebhookEvent",
    "WeeklyCheckup",
  ].map((type) => [type, true]),
);

function expectedFor(check: TypeCheck, principal: Principal): Outcome {
  const { entry } = check.reach;
  const entryAllows =
    entry.kind === "node"
      ? allowed(accessTable["Query.node"]!, principal) && typeAllows(entry.type, principal)
      : allowed(accessTable[`Query.${entry.field}`]!, principal);
  const steps = [...check.reach.steps, ...check.steps];
  return entryAllows && steps.every((step) => stepAllows(step, principal)) ? "allowed" : "refused";
}

/** Allowed when the leaf came back; refused on an auth error or a null on the way (node(id:) of a foreign id). */
async function readAs(check: TypeCheck, principal: Principal): Promise<Outcome> {
  const { entry } = check.reach;
  const steps = [...check.reach.steps, ...check.steps];
  const inner = selectionOf(steps.map((step) => ({ ...step })));
  const query =
    entry.kind === "node"
      ? `query ($id: ID!) { node(id: $id) { ... on ${entry.type} { ${inner} } } }`
      : `{ ${entry.field} { ${inner} } }`;
  const variables = entry.kind === "node" ? { id: globalIdOf(entry.type, world.nodeIds[entry.type]!) } : {};
  const result = await api.graphql(query, variables, await credentialsFor(principal));
  if (result.status >= 500) throw new Error(`HTTP ${result.status}: ${JSON.stringify(result)}`);
  if ((result.errors ?? []).some((error) => refusedCodes.has(error.extensions?.code ?? ""))) return "refused";
  if (result.errors) throw new Error(`${check.name} as ${principal}: ${JSON.stringify(result.errors)}`);
  let value: unknown = (result.data ?? {})[entry.kind === "node" ? "node" : entry.field];
  for (const step of steps) {
    while (Array.isArray(value)) value = value[0];
    if (value === null || value === undefined) return "refused";
    value = (value as Record<string, unknown>)[step.field];
  }
  return value === undefined ? "refused" : "allowed";
}

describe("every object type and field, read as every role and token scope", () => {
  beforeAll(async () => {
    world = await seedWorld(api.database.db);
  });

  it("has a seeded row for every Node type (tests/support/world.ts), to read it by node(id:)", () => {
    const nodeTypes = objectTypes.filter((type) => type.getInterfaces().some((iface) => iface.name === "Node"));
    expect(nodeTypes.map((type) => type.name).filter((name) => !seededNodeTypes[name])).toEqual([]);
  });

  it("answers as typeAccess says, through node(id:) and the token root fields", async () => {
    const mismatches: string[] = [];
    for (const check of typeChecks()) {
      const outcomes = await Promise.all(principals.map((principal) => readAs(check, principal)));
      principals.forEach((principal, index) => {
        const expected = expectedFor(check, principal);
        if (outcomes[index] !== expected)
          mismatches.push(
            `${check.name} as ${principal}: ${outcomes[index]}, the table says ${expected} (read by ${selectionOf([...check.reach.steps, ...check.steps])} from ${JSON.stringify(check.reach.entry)})`,
          );
      });
    }
    expect(mismatches).toEqual([]);
  }, 180_000);
});
