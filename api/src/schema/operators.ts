// People (ADMIN): the operators list, invitations by email, roles, disabling, password resets; the
// invitee's and the reset's one-time links (anyone holding the link); and every operator's own
// password change. Resolvers validate, call core/src/operators.ts, and map its typed errors.
import { ConflictError } from "@steward/core/errors";
import {
  acceptInvite,
  AdminAlreadyExistsError,
  changeOperatorRole,
  changeOwnPassword,
  describeLink,
  disableOperator,
  enableOperator,
  inviteOperator,
  LastAdminError,
  OperatorLinkUnusableError,
  resetPassword,
  revokeInvite,
  sendPasswordReset,
} from "@steward/core/operators";
import { MAX_PASSWORD_LENGTH, WeakPasswordError } from "@steward/core/passwords";
import { z } from "zod";
import { builder } from "../builder.ts";
import { OperatorType, RoleEnum } from "./auth.ts";
import { commonMutationErrors, ErrorInterface } from "./errors.ts";

// ───────────────────────────── Errors ─────────────────────────────

const LinkProblemEnum = builder.enumType("LinkProblem", {
  values: ["UNKNOWN", "USED", "EXPIRED", "REPLACED"] as const,
});
builder.objectType(OperatorLinkUnusableError, {
  name: "LinkUnusableError",
  description: "An invitation or password link that cannot be used (any more). Nothing was changed.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    problem: t.field({ type: LinkProblemEnum, resolve: (error) => error.problem }),
    expiredAt: t.expose("expiredAt", { type: "DateTime", nullable: true }),
  }),
});

const PasswordProblemEnum = builder.enumType("PasswordProblem", {
  values: ["TOO_SHORT", "TOO_LONG", "COMMON", "REPETITIVE", "CONTAINS_EMAIL"] as const,
});
builder.objectType(WeakPasswordError, {
  name: "WeakPasswordError",
  description: "The new password does not meet the policy (12+ characters, not a common one, not the email).",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    problems: t.field({ type: [PasswordProblemEnum], resolve: (error) => [...error.problems] }),
  }),
});

builder.objectType(LastAdminError, {
  name: "LastAdminError",
  description: "The change would leave Steward without an active ADMIN.",
  interfaces: [ErrorInterface],
  fields: (t) => ({ email: t.exposeString("email") }),
});

builder.objectType(AdminAlreadyExistsError, {
  name: "AdminAlreadyExistsError",
  description: "A first-administrator link, used when an active ADMIN already exists.",
  interfaces: [ErrorInterface],
});

// ───────────────────────────── Types ─────────────────────────────

builder.prismaObjectFields("Operator", (t) => ({
  disabledAt: t.expose("disabledAt", { type: "DateTime", nullable: true, authScopes: { admin: true } }),
  createdAt: t.expose("createdAt", { type: "DateTime", authScopes: { admin: true } }),
  openSessions: t.int({
    description: "Sessions signed in and not ended or expired.",
    authScopes: { admin: true },
    resolve: (operator, _args, { db }) =>
      db.session.count({ where: { operatorId: operator.id, revokedAt: null, expiresAt: { gt: new Date() } } }),
  }),
}));

const OperatorInviteType = builder.prismaObject("OperatorLink", {
  name: "OperatorInvite",
  description: "An invitation not accepted yet (the link itself was only in the email).",
  authScopes: { admin: true },
  fields: (t) => ({
    id: t.exposeID("id"),
    email: t.exposeString("email"),
    role: t.expose("role", { type: RoleEnum }),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    expired: t.boolean({ resolve: (link) => link.expiresAt <= new Date() }),
  }),
});

const LinkPurposeEnum = builder.enumType("LinkPurpose", {
  values: ["INVITE", "PASSWORD_RESET", "FIRST_ADMIN"] as const,
});
const LinkInfoType = builder
  .objectRef<{ purpose: "INVITE" | "PASSWORD_RESET" | "FIRST_ADMIN"; email: string; role: string; expiresAt: Date }>(
    "OperatorLinkInfo",
  )
  .implement({
    description: "What a one-time link is for, so the page asks for the right things.",
    fields: (t) => ({
      purpose: t.field({ type: LinkPurposeEnum, resolve: (link) => link.purpose }),
      email: t.exposeString("email"),
      role: t.field({ type: RoleEnum, resolve: (link) => link.role as "ADMIN" | "OPERATOR" | "VIEWER" }),
      expiresAt: t.expose("expiresAt", { type: "DateTime" }),
    }),
  });

// ───────────────────────────── Queries ─────────────────────────────

const operatorId = z.string().uuid();
const linkToken = z.string().min(1).max(200);
const newPassword = z.string().max(MAX_PASSWORD_LENGTH * 4);

builder.queryFields((t) => ({
  operators: t.prismaField({
    type: ["Operator"],
    description: "Everyone with a Steward account: active ones first, then by name.",
    authScopes: { admin: true },
    resolve: (query, _root, _args, { db }) =>
      db.operator.findMany({ ...query, orderBy: [{ disabledAt: { sort: "desc", nulls: "first" } }, { name: "asc" }] }),
  }),
  operatorInvites: t.prismaField({
    type: [OperatorInviteType],
    description: "Invitations not accepted or withdrawn yet, newest first (expired ones too, marked).",
    authScopes: { admin: true },
    resolve: (query, _root, _args, { db }) =>
      db.operatorLink.findMany({
        ...query,
        where: { purpose: "INVITE", usedAt: null, revokedAt: null },
        orderBy: { createdAt: "desc" },
      }),
  }),
  operatorLink: t.field({
    type: LinkInfoType,
    description: "What an invitation or password link is for (anyone holding it may ask).",
    errors: { types: [OperatorLinkUnusableError] },
    args: { token: t.arg.string({ validate: linkToken }) },
    resolve: (_root, args, { db }) => describeLink(db, args.token),
  }),
}));

// ───────────────────────────── Mutations ─────────────────────────────

builder.mutationFields((t) => ({
  inviteOperator: t.field({
    type: OperatorInviteType,
    description: "Email someone a one-time link (72 h) to join with this role. A new invite replaces an older one.",
    authScopes: { admin: true },
    errors: { types: [...commonMutationErrors, ConflictError] },
    // The email is checked in core, after authorization: a non-admin learns nothing from a bad one.
    args: { email: t.arg.string(), role: t.arg({ type: RoleEnum }) },
    resolve: async (_root, args, context) => {
      const sent = await inviteOperator(context.deps, context.actor, { email: args.email, role: args.role });
      return context.db.operatorLink.findUniqueOrThrow({ where: { id: sent.id } });
    },
  }),
  revokeOperatorInvite: t.field({
    type: "Boolean",
    description: "Withdraw an invitation not accepted yet: its link stops working.",
    authScopes: { admin: true },
    errors: { types: [...commonMutationErrors, ConflictError] },
    args: { id: t.arg.id() },
    resolve: async (_root, args, { deps, actor }) => {
      await revokeInvite(deps, actor, { linkId: String(args.id) });
      return true;
    },
  }),
  acceptInvite: t.field({
    type: OperatorType,
    description: "The invitee (or the first admin) chooses a name and password; then signs in.",
    errors: {
      types: [
        ...commonMutationErrors,
        OperatorLinkUnusableError,
        WeakPasswordError,
        ConflictError,
        AdminAlreadyExistsError,
      ],
      // The answer shows the new operator to the holder of the link, as login's shows the one signing in.
      dataField: { grantScopes: ["signingIn"] },
    },
    args: {
      token: t.arg.string({ validate: linkToken }),
      name: t.arg.string({ validate: z.string().trim().min(1).max(100) }),
      password: t.arg.string({ validate: newPassword }),
    },
    resolve: (_root, args, { deps }) => acceptInvite(deps, args),
  }),
  changeOperatorRole: t.field({
    type: OperatorType,
    description: "The last active ADMIN cannot be demoted (LastAdminError).",
    authScopes: { admin: true },
    errors: { types: [...commonMutationErrors, LastAdminError] },
    args: { operatorId: t.arg.id({ validate: operatorId }), role: t.arg({ type: RoleEnum }) },
    resolve: (_root, args, { deps, actor }) =>
      changeOperatorRole(deps, actor, { operatorId: String(args.operatorId), role: args.role }),
  }),
  disableOperator: t.field({
    type: OperatorType,
    description: "They cannot sign in, and their open sessions end now (dashboards signed out). Not the last ADMIN.",
    authScopes: { admin: true },
    errors: { types: [...commonMutationErrors, LastAdminError] },
    args: { operatorId: t.arg.id({ validate: operatorId }) },
    resolve: async (_root, args, { deps, actor }) => {
      const { operator } = await disableOperator(deps, actor, { operatorId: String(args.operatorId) });
      return operator;
    },
  }),
  enableOperator: t.field({
    type: OperatorType,
    authScopes: { admin: true },
    errors: { types: commonMutationErrors },
    args: { operatorId: t.arg.id({ validate: operatorId }) },
    resolve: (_root, args, { deps, actor }) => enableOperator(deps, actor, { operatorId: String(args.operatorId) }),
  }),
  sendPasswordReset: t.field({
    type: "DateTime",
    description: "Email the operator a one-time link (2 h) to choose a new password. Returns when it expires.",
    authScopes: { admin: true },
    errors: { types: [...commonMutationErrors, ConflictError] },
    args: { operatorId: t.arg.id({ validate: operatorId }) },
    resolve: async (_root, args, context) => {
      const sent = await sendPasswordReset(context.deps, context.actor, String(args.operatorId));
      return sent.expiresAt;
    },
  }),
  resetPassword: t.field({
    type: "Boolean",
    description: "Choose a new password through an emailed reset link; every session of the account ends.",
    errors: { types: [...commonMutationErrors, OperatorLinkUnusableError, WeakPasswordError] },
    args: { token: t.arg.string({ validate: linkToken }), password: t.arg.string({ validate: newPassword }) },
    resolve: async (_root, args, { deps }) => {
      await resetPassword(deps, args);
      return true;
    },
  }),
  changePassword: t.field({
    type: "Boolean",
    description: "Change your own password (the current one is required). Your other sessions end; this one stays.",
    authScopes: { viewer: true },
    errors: { types: [...commonMutationErrors, WeakPasswordError, ConflictError] },
    args: {
      currentPassword: t.arg.string({ validate: z.string().min(1).max(1024) }),
      newPassword: t.arg.string({ validate: newPassword }),
    },
    resolve: async (_root, args, context) => {
      if (context.actor.kind !== "OPERATOR") throw new Error("unreachable: viewer scope implies an operator");
      await changeOwnPassword(context.deps, context.actor, args);
      return true;
    },
  }),
}));
