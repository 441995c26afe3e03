// Plugins, scalars and the Context type; no object types live here (see schema/<domain>.ts).
import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import ValidationPlugin from "@pothos/plugin-validation";
import type PrismaTypes from "@steward/db/generated/pothos-types.ts";
import { getDatamodel } from "@steward/db/generated/pothos-types.ts";
import type { ApiTokenScope } from "@steward/core/permissions";
import { roleCan, tokenHasScope } from "@steward/core/permissions";
// Built through graphql-yoga so it is the GraphQLError class Yoga checks with `instanceof`: when a
// runner loads `graphql` twice (Vitest resolves it to ESM, Yoga's own import gets CJS), a class
// imported here from "graphql" would not match, and Yoga would mask it as INTERNAL_SERVER_ERROR.
import { createGraphQLError } from "graphql-yoga";
import type { Context } from "./context.ts";

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: true;
  AuthScopes: {
    /** Any signed-in operator, whatever the role. */
    viewer: boolean;
    /** OPERATOR or ADMIN: the actions PRODUCT.md §8 allows the operator. */
    operator: boolean;
    admin: boolean;
    /** An integration's API token with this scope. */
    token: ApiTokenScope;
    /** An integration's API token with any of these scopes. */
    anyToken: readonly ApiTokenScope[];
    /** Any signed-in operator or any valid API token: nothing for anonymous callers. */
    signedIn: boolean;
    /** The caller is the API token with this id (a reviews:write token reading what it submitted). */
    tokenId: string | null;
  };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  defaultFieldNullability: false,
  defaultInputFieldRequiredness: true,
  // Scope-auth wraps resolvers first, so nothing else runs for an unauthorized call.
  plugins: [ScopeAuthPlugin, ErrorsPlugin, PrismaPlugin, RelayPlugin, ValidationPlugin],
  scopeAuth: {
    authorizeOnSubscribe: true,
    // A type's own scopes run once per object (its isTypeOf), not wrapped around each of its fields:
    // a 50-row page has ~900 fields, and only the fields with scopes of their own pay a check (issue 17).
    runScopesOnType: true,
    authScopes: (context) => {
      const { actor } = context;
      const role = actor.kind === "OPERATOR" ? actor.role : null;
      return {
        viewer: role !== null && roleCan(role, "read"),
        operator: role !== null && roleCan(role, "operate"),
        admin: role !== null && roleCan(role, "administer"),
        token: (scope) => tokenHasScope(actor, scope),
        anyToken: (scopes) => scopes.some((scope) => tokenHasScope(actor, scope)),
        signedIn: role !== null || actor.kind === "API_TOKEN",
        tokenId: (id) => id !== null && actor.kind === "API_TOKEN" && actor.id === id,
      };
    },
    unauthorizedError: (_parent, context) =>
      context.actor.kind === "ANONYMOUS"
        ? createGraphQLError("Sign in, or send a valid API token", { extensions: { code: "UNAUTHENTICATED" } })
        : createGraphQLError("You are not allowed to do this", { extensions: { code: "FORBIDDEN" } }),
  },
  prisma: {
    client: (context) => context.db,
    dmmf: getDatamodel(),
    filterConnectionTotalCount: true,
    onUnusedQuery: process.env.NODE_ENV === "production" ? null : "warn",
  },
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    // node(id:) and nodes(ids:) are defined in schema/nodes.ts: authorization before loading,
    // null for unknown, malformed or foreign ids, and a cap on how many ids one call may ask for.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
  },
  errors: {
    defaultTypes: [],
    // Argument validation runs before the resolver; this lets a field's declared error types
    // (ValidationError) catch it too, so bad input is a typed union member, not a top-level error.
    unsafelyHandleInputErrors: true,
  },
});

builder.scalarType("DateTime", {
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = new Date(String(value));
    if (Number.isNaN(date.getTime())) throw createGraphQLError("DateTime must be an ISO-8601 string");
    return date;
  },
});

builder.scalarType("JSON", {
  serialize: (value) => value,
  parseValue: (value) => value,
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
