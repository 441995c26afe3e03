import { createApiToken, revokeApiToken } from "@steward/core/apiTokens";
import { login, logout, revokeOperatorSessions, SESSION_COOKIE } from "@steward/core/auth";
import { apiTokenScopes } from "@steward/core/permissions";
import { InvalidCredentialsError, TooManyAttemptsError } from "@steward/core/errors";
import { z } from "zod";
import { builder } from "../builder.ts";
import { commonMutationErrors } from "./errors.ts";

export const RoleEnum = builder.enumType("Role", { values: ["ADMIN", "OPERATOR", "VIEWER"] as const });

export const OperatorType = builder.prismaObject("Operator", {
  // Operators' identities never reach API tokens: signed-in operators, and the operator signing
  // in (login's answer grants it), may read them.
  authScopes: { viewer: true, $granted: "signingIn" },
  // Checked per field: a grant from the parent field (login's answer) is not seen by isTypeOf.
  runScopesOnType: false,
  fields: (t) => ({
    id: t.exposeID("id"),
    email: t.exposeString("email"),
    name: t.exposeString("name"),
    role: t.expose("role", { type: RoleEnum }),
  }),
});

const ApiTokenNode = builder.prismaNode("ApiToken", {
  id: { field: "id" },
  authScopes: { admin: true },
  fields: (t) => ({
    name: t.exposeString("name"),
    prefix: t.exposeString("prefix", { description: "First characters of the token, to recognise it." }),
    scopes: t.exposeStringList("scopes"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    lastUsedAt: t.expose("lastUsedAt", { type: "DateTime", nullable: true }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true }),
    createdBy: t.relation("createdBy"),
  }),
});

const SessionType = builder.objectRef<{ expiresAt: Date }>("Session").implement({
  fields: (t) => ({
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
  }),
});

builder.queryFields((t) => ({
  me: t.prismaField({
    type: "Operator",
    nullable: true,
    description: "The signed-in operator, or null.",
    resolve: (query, _root, _args, { db, actor }) =>
      actor.kind === "OPERATOR" ? db.operator.findUnique({ ...query, where: { id: actor.id } }) : null,
  }),
  apiTokens: t.prismaConnection({
    type: "ApiToken",
    cursor: "id",
    authScopes: { admin: true },
    resolve: (query, _root, _args, { db }) => db.apiToken.findMany({ ...query, orderBy: { id: "desc" } }),
  }),
}));

type OperatorRow = typeof OperatorType.$inferType;
const LoginPayload = builder
  .objectRef<{ operator: OperatorRow; session: { expiresAt: Date } }>("LoginPayload")
  .implement({
    fields: (t) => ({
      operator: t.field({ type: OperatorType, grantScopes: ["signingIn"], resolve: (payload) => payload.operator }),
      session: t.field({ type: SessionType, resolve: (payload) => payload.session }),
    }),
  });

const CreatedApiToken = builder.objectRef<{ id: string; token: string }>("CreatedApiToken").implement({
  fields: (t) => ({
    // The Relay global id, as `apiTokens` lists it and `revokeApiToken(id:)` expects it.
    id: t.globalID({ resolve: (created) => ({ type: "ApiToken", id: created.id }) }),
    token: t.exposeString("token", { description: "The secret, shown only this once." }),
  }),
});

const ApiTokenScopeEnum = builder.enumType("ApiTokenScope", {
  values: Object.fromEntries(apiTokenScopes.map((scope) => [scope.replace(":", "_").toUpperCase(), { value: scope }])),
});

builder.mutationFields((t) => ({
  login: t.field({
    type: LoginPayload,
    errors: { types: [InvalidCredentialsError, TooManyAttemptsError, ...commonMutationErrors] },
    args: {
      email: t.arg.string({ validate: z.string().trim().email().max(254) }),
      password: t.arg.string({ validate: z.string().min(1).max(1024) }),
    },
    resolve: async (_root, args, context) => {
      const result = await login(
        context.deps,
        context.loginThrottle,
        { sessionTtlHours: context.env.SESSION_TTL_HOURS },
        {
          email: args.email,
          password: args.password,
          ip: context.clientIp,
          userAgent: context.userAgent,
          previousSessionId: context.actor.kind === "OPERATOR" ? context.actor.sessionId : undefined,
        },
      );
      context.responseCookies.push({ name: SESSION_COOKIE, value: result.sessionToken, expires: result.expiresAt });
      const operator = await context.db.operator.findUniqueOrThrow({ where: { id: result.operator.id } });
      return { operator, session: { expiresAt: result.expiresAt } };
    },
  }),
  logout: t.boolean({
    authScopes: { viewer: true },
    resolve: async (_root, _args, context) => {
      if (context.actor.kind === "OPERATOR") await logout(context.deps, context.actor);
      context.responseCookies.push({ name: SESSION_COOKIE, value: "", expires: new Date(0) });
      return true;
    },
  }),
  revokeOperatorSessions: t.field({
    type: "Int",
    description: "End every open session of an operator (their sockets close too). Returns how many.",
    authScopes: { admin: true },
    errors: { types: commonMutationErrors },
    args: { operatorId: t.arg.id({ validate: z.string().uuid() }) },
    resolve: async (_root, args, { deps, actor }) => {
      if (actor.kind !== "OPERATOR") throw new Error("unreachable: admin scope implies an operator");
      const ended = await revokeOperatorSessions(deps, actor, { operatorId: String(args.operatorId) });
      return ended.length;
    },
  }),
  createApiToken: t.field({
    type: CreatedApiToken,
    authScopes: { admin: true },
    errors: { types: commonMutationErrors },
    args: {
      name: t.arg.string({ validate: z.string().trim().min(2).max(80) }),
      scopes: t.arg({ type: [ApiTokenScopeEnum], validate: z.array(z.string()).min(1) }),
    },
    resolve: (_root, args, { deps, actor }) => {
      if (actor.kind !== "OPERATOR") throw new Error("unreachable: admin scope implies an operator");
      return createApiToken(deps, actor, { name: args.name, scopes: args.scopes.map(String) });
    },
  }),
  revokeApiToken: t.field({
    type: "Boolean",
    authScopes: { admin: true },
    errors: { types: commonMutationErrors },
    args: { id: t.arg.globalID({ for: ApiTokenNode }) },
    resolve: async (_root, args, { deps, actor }) => {
      if (actor.kind !== "OPERATOR") throw new Error("unreachable: admin scope implies an operator");
      await revokeApiToken(deps, actor, { tokenId: args.id.id });
      return true;
    },
  }),
}));
