// People: the first administrator, invitations, roles, disabling, password resets and changes.
// A one-time link (OperatorLink) is stored as a hash only and works once, until it expires or a
// newer link for the same email and purpose replaces it. The last active ADMIN can never be demoted
// or disabled: every change to who is an active ADMIN takes one transaction-scoped advisory lock
// and counts again under it, so two admins demoting each other at once leave one of them.
import { type Db, type DbTx, type Operator, type OperatorLink, Prisma, type Role } from "@steward/db/client";
import type { Actor, OperatorActor } from "./actor.ts";
import { systemActor } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import type { CoreDeps } from "./deps.ts";
import { operatorInviteEmail, passwordResetEmail } from "./email/templates.ts";
import type { Env } from "./env.ts";
import { ConflictError, DomainError, InvalidInputError, NotFoundError } from "./errors.ts";
import { deliverOutboxSoon } from "./followUps.ts";
import { isUuid } from "./ids.ts";
import { enqueueEmail } from "./outbox.ts";
import { assertStrongPassword, hashPassword, verifyPassword } from "./passwords.ts";
import { assertOperatorCan } from "./permissions.ts";
import { announceCredentialsChanged } from "./auth.ts";
import { hashSecret, newSecret } from "./secrets.ts";
import { type AfterCommit, type EffectDeps, inTransaction } from "./unitOfWork.ts";

export const INVITE_TTL_MS = 72 * 3_600_000;
export const PASSWORD_RESET_TTL_MS = 2 * 3_600_000;
export const FIRST_ADMIN_LINK_TTL_MS = 24 * 3_600_000;
/** The dashboard page that takes a link's token (in the fragment, so it never reaches a server log). */
export const SET_PASSWORD_PATH = "/set-password";

/** Any constant: the key of the advisory lock serialising changes to who is an active ADMIN. */
const ADMINS_LOCK_KEY = 7_311_906;

export type LinkProblem = "UNKNOWN" | "USED" | "EXPIRED" | "REPLACED";

/** An invitation, reset or setup link that cannot be used (any more). Nothing was changed. */
export class OperatorLinkUnusableError extends DomainError {
  readonly code = "LINK_UNUSABLE";
  constructor(
    readonly problem: LinkProblem,
    readonly expiredAt: Date | null = null,
  ) {
    super(linkProblemMessage(problem, expiredAt));
  }
}

function linkProblemMessage(problem: LinkProblem, expiredAt: Date | null): string {
  switch (problem) {
    case "UNKNOWN":
      return "This link is not valid: check that you copied all of it, or ask an admin for a new one";
    case "USED":
      return "This link was already used: sign in, or ask an admin for a new link";
    case "EXPIRED":
      return `This link expired at ${expiredAt?.toISOString() ?? "?"}: ask an admin for a new one`;
    case "REPLACED":
      return "A newer link replaced this one: use the latest email, or ask an admin for a new link";
  }
}

/** The change would leave Steward without an active ADMIN. */
export class LastAdminError extends DomainError {
  readonly code = "LAST_ADMIN";
  constructor(readonly email: string) {
    super(`${email} is the last active admin: make someone else an admin first`);
  }
}

/** `create-admin` (or its setup link) when an active ADMIN exists: they invite people instead. */
export class AdminAlreadyExistsError extends DomainError {
  readonly code = "ADMIN_EXISTS";
  constructor(readonly adminEmails: readonly string[]) {
    super(
      `Steward already has an active admin (${adminEmails.join(", ")}): they invite more people from the Operators page`,
    );
  }
}

/** Where links point and how their emails read. */
export interface LinkSettings {
  /** The dashboard's public address, e.g. https://steward.example. */
  publicUrl: string;
  /** Marketplace time zone, for the expiry shown in emails. */
  timeZone: string;
  now?: Date;
}

/**
 * Sending a link from the dashboard: where it points and the time zone come from the settings, and
 * its email is delivered after commit (not at the outbox's next run).
 */
export type SendLinkDeps = Pick<CoreDeps, "db" | "clock"> &
  EffectDeps & { env: Pick<Env, "PUBLIC_URL" | "MARKETPLACE_TIME_ZONE"> };

/** Delivered now rather than at the outbox's next run. */
function deliverLinkSoon(unit: AfterCommit, linkId: string): void {
  deliverOutboxSoon(unit, `operator-link-${linkId}`);
}

/** A link that was sent (the token itself only ever goes into the email or the terminal). */
export interface SentLink {
  id: string;
  email: string;
  role: Role;
  expiresAt: Date;
}

export function normalizeEmail(email: string): string {
  const clean = email.trim().toLowerCase();
  if (clean.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(clean))
    throw new InvalidInputError("Enter a valid email address", "email");
  return clean;
}

function cleanName(name: string): string {
  const clean = name.trim().replace(/\s+/g, " ");
  if (clean.length < 1 || clean.length > 100) throw new InvalidInputError("Enter your name (1–100 characters)", "name");
  return clean;
}

export function linkUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, "")}${SET_PASSWORD_PATH}#${token}`;
}

export function operatorActor(operator: Operator): OperatorActor {
  return { kind: "OPERATOR", id: operator.id, email: operator.email, name: operator.name, role: operator.role };
}

async function lockAdmins(tx: DbTx): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ADMINS_LOCK_KEY}::bigint)`;
}

async function activeAdminEmails(tx: DbTx): Promise<string[]> {
  const admins = await tx.operator.findMany({
    where: { role: "ADMIN", disabledAt: null },
    select: { email: true },
    orderBy: { email: "asc" },
  });
  return admins.map((admin) => admin.email);
}

/** Ends the operator's open sessions (but `keep`); returns their ids, so every API instance can close their sockets. */
async function endSessions(tx: DbTx, operatorId: string, now: Date, keep?: string): Promise<string[]> {
  const open = await tx.session.findMany({
    where: { operatorId, revokedAt: null, expiresAt: { gt: now }, ...(keep ? { id: { not: keep } } : {}) },
    select: { id: true },
  });
  const ids = open.map((session) => session.id);
  if (ids.length > 0) await tx.session.updateMany({ where: { id: { in: ids } }, data: { revokedAt: now } });
  return ids;
}

async function newLink(
  tx: DbTx,
  input: Pick<OperatorLink, "purpose" | "email" | "role" | "operatorId" | "createdById">,
  ttlMs: number,
  now: Date,
): Promise<{ link: OperatorLink; token: string }> {
  // Only the newest link for an email and purpose works: an earlier one is replaced.
  await tx.operatorLink.updateMany({
    where: { email: input.email, purpose: input.purpose, usedAt: null, revokedAt: null },
    data: { revokedAt: now },
  });
  const token = newSecret("stl_");
  const link = await tx.operatorLink.create({
    data: { ...input, tokenHash: hashSecret(token), expiresAt: new Date(now.getTime() + ttlMs) },
  });
  return { link, token };
}

function linkProblem(link: OperatorLink | null, now: Date): OperatorLinkUnusableError | null {
  if (!link) return new OperatorLinkUnusableError("UNKNOWN");
  if (link.usedAt) return new OperatorLinkUnusableError("USED");
  if (link.revokedAt) return new OperatorLinkUnusableError("REPLACED");
  if (link.expiresAt <= now) return new OperatorLinkUnusableError("EXPIRED", link.expiresAt);
  return null;
}

async function usableLink(db: DbTx, token: string, now: Date): Promise<OperatorLink> {
  const link =
    token.length > 200 ? null : await db.operatorLink.findUnique({ where: { tokenHash: hashSecret(token) } });
  const problem = linkProblem(link, now);
  if (problem || !link) throw problem ?? new OperatorLinkUnusableError("UNKNOWN");
  return link;
}

/** Marks the link used, or throws why it no longer can be (someone used it a moment ago, …). */
async function claimLink(tx: DbTx, link: OperatorLink, now: Date): Promise<void> {
  const claimed = await tx.operatorLink.updateMany({
    where: { id: link.id, usedAt: null, revokedAt: null, expiresAt: { gt: now } },
    data: { usedAt: now },
  });
  if (claimed.count === 1) return;
  throw (
    linkProblem(await tx.operatorLink.findUnique({ where: { id: link.id } }), now) ??
    new OperatorLinkUnusableError("USED")
  );
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

// ───────────────────────────── The first administrator ─────────────────────────────

/** `steward create-admin` with a password: the first ADMIN, on a database without an active one. */
export async function createFirstAdmin(
  db: Db,
  input: { email: string; name: string; password: string },
): Promise<Operator> {
  const email = normalizeEmail(input.email);
  const name = cleanName(input.name);
  assertStrongPassword(input.password, email);
  const passwordHash = await hashPassword(input.password);
  return db.$transaction(async (tx) => {
    await lockAdmins(tx);
    const admins = await activeAdminEmails(tx);
    if (admins.length > 0) throw new AdminAlreadyExistsError(admins);
    if (await tx.operator.findUnique({ where: { email } }))
      throw new ConflictError(
        `${email} already has a Steward account: make it an admin from the database, or pick another email`,
      );
    const operator = await tx.operator.create({ data: { email, name, role: "ADMIN", passwordHash } });
    await recordAudit(tx, systemActor("create-admin"), {
      action: "operator.first_admin_created",
      targetType: "Operator",
      targetId: operator.id,
      after: { email, role: "ADMIN" },
    });
    return operator;
  });
}

/** `steward create-admin --setup-link`: a one-time link where the first ADMIN chooses name and password. */
export async function createFirstAdminLink(
  db: Db,
  input: { email: string },
  settings: Pick<LinkSettings, "publicUrl" | "now">,
): Promise<SentLink & { url: string }> {
  const email = normalizeEmail(input.email);
  const now = settings.now ?? new Date();
  return db.$transaction(async (tx) => {
    await lockAdmins(tx);
    const admins = await activeAdminEmails(tx);
    if (admins.length > 0) throw new AdminAlreadyExistsError(admins);
    if (await tx.operator.findUnique({ where: { email } }))
      throw new ConflictError(`${email} already has a Steward account: pick another email`);
    const { link, token } = await newLink(
      tx,
      { purpose: "FIRST_ADMIN", email, role: "ADMIN", operatorId: null, createdById: null },
      FIRST_ADMIN_LINK_TTL_MS,
      now,
    );
    await recordAudit(tx, systemActor("create-admin"), {
      action: "operator.first_admin_link",
      targetType: "OperatorLink",
      targetId: link.id,
      after: { email, expiresAt: link.expiresAt.toISOString() },
    });
    return { id: link.id, email, role: link.role, expiresAt: link.expiresAt, url: linkUrl(settings.publicUrl, token) };
  });
}

// ───────────────────────────── Invitations ─────────────────────────────

/** An ADMIN invites someone by email: a one-time link (72 h) goes out through the email outbox. */
export async function inviteOperator(
  deps: SendLinkDeps,
  actor: Actor,
  input: { email: string; role: Role },
): Promise<SentLink> {
  assertOperatorCan(actor, "administer");
  if (actor.kind !== "OPERATOR") throw new InvalidInputError("Only an operator can invite people");
  const email = normalizeEmail(input.email);
  const now = deps.clock();
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
    const existing = await tx.operator.findUnique({ where: { email } });
    if (existing)
      throw new ConflictError(
        `${email} already has a Steward account${existing.disabledAt ? " (disabled: enable it instead)" : ""}`,
      );
    const { link, token } = await newLink(
      tx,
      { purpose: "INVITE", email, role: input.role, operatorId: null, createdById: actor.id },
      INVITE_TTL_MS,
      now,
    );
    const rendered = operatorInviteEmail({
      inviterName: actor.name,
      role: input.role,
      url: linkUrl(deps.env.PUBLIC_URL, token),
      expiresAt: link.expiresAt,
      timeZone: deps.env.MARKETPLACE_TIME_ZONE,
    });
    await enqueueEmail(tx, {
      kind: "email.operator_invite",
      dedupKey: `operator-link:${link.id}`,
      email: { to: email, ...rendered },
    });
    await recordAudit(tx, actor, {
      action: "operator.invite",
      targetType: "OperatorLink",
      targetId: link.id,
      after: { email, role: input.role, expiresAt: link.expiresAt.toISOString() },
    });
    deliverLinkSoon(unit, link.id);
    return { id: link.id, email, role: link.role, expiresAt: link.expiresAt };
  });
}

/** An ADMIN withdraws an invitation that was not accepted yet. */
export async function revokeInvite(
  deps: Pick<CoreDeps, "db" | "clock">,
  actor: Actor,
  input: { linkId: string },
): Promise<void> {
  const { db } = deps;
  const { linkId } = input;
  const now = deps.clock();
  assertOperatorCan(actor, "administer");
  if (!isUuid(linkId)) throw new NotFoundError("OperatorInvite", linkId);
  await db.$transaction(async (tx) => {
    const link = await tx.operatorLink.findUnique({ where: { id: linkId } });
    if (!link || link.purpose !== "INVITE") throw new NotFoundError("OperatorInvite", linkId);
    if (link.usedAt) throw new ConflictError(`${link.email} already accepted the invitation`);
    if (link.revokedAt) return;
    await tx.operatorLink.update({ where: { id: linkId }, data: { revokedAt: now } });
    await recordAudit(tx, actor, {
      action: "operator.invite_revoked",
      targetType: "OperatorLink",
      targetId: linkId,
      after: { email: link.email },
    });
  });
}

export interface LinkView {
  purpose: OperatorLink["purpose"];
  email: string;
  role: Role;
  expiresAt: Date;
}

/** What a link is for, so the page can ask for the right things; throws why when it cannot be used. */
export async function describeLink(db: Db, token: string, now = new Date()): Promise<LinkView> {
  const link = await usableLink(db, token, now);
  return { purpose: link.purpose, email: link.email, role: link.role, expiresAt: link.expiresAt };
}

/**
 * The invitee (or the first admin) chooses a name and password: the operator is created, the link
 * is used up. A weak password, or a link used, replaced or expired, changes nothing.
 */
export async function acceptInvite(
  deps: Pick<CoreDeps, "db" | "clock">,
  input: { token: string; name: string; password: string },
): Promise<Operator> {
  // No actor: holding the one-time link is the credential.
  const { db } = deps;
  const now = deps.clock();
  const link = await usableLink(db, input.token, now);
  if (link.purpose === "PASSWORD_RESET") throw new OperatorLinkUnusableError("UNKNOWN");
  const name = cleanName(input.name);
  assertStrongPassword(input.password, link.email);
  const passwordHash = await hashPassword(input.password);
  try {
    return await db.$transaction(async (tx) => {
      await claimLink(tx, link, now);
      if (link.purpose === "FIRST_ADMIN") {
        await lockAdmins(tx);
        const admins = await activeAdminEmails(tx);
        if (admins.length > 0) throw new AdminAlreadyExistsError(admins);
      }
      if (await tx.operator.findUnique({ where: { email: link.email } }))
        throw new ConflictError(`${link.email} already has a Steward account: sign in instead`);
      const operator = await tx.operator.create({ data: { email: link.email, name, role: link.role, passwordHash } });
      await recordAudit(tx, operatorActor(operator), {
        action: link.purpose === "FIRST_ADMIN" ? "operator.first_admin_created" : "operator.invite_accepted",
        targetType: "Operator",
        targetId: operator.id,
        after: { email: operator.email, role: operator.role, linkId: link.id },
      });
      return operator;
    });
  } catch (error) {
    // Two links for one email accepted at the same moment: the second finds the account taken.
    if (isUniqueViolation(error))
      throw new ConflictError(`${link.email} already has a Steward account: sign in instead`);
    throw error;
  }
}

// ───────────────────────────── Roles and access ─────────────────────────────

/**
 * An ADMIN changes someone's role. The last active ADMIN cannot stop being one. Their signed-in
 * sessions act with the new role from the next request, on every API instance.
 */
export async function changeOperatorRole(
  deps: Pick<CoreDeps, "db"> & EffectDeps,
  actor: Actor,
  input: { operatorId: string; role: Role },
): Promise<Operator> {
  const { operatorId, role } = input;
  assertOperatorCan(actor, "administer");
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
    await lockAdmins(tx);
    const operator = await tx.operator.findUnique({ where: { id: operatorId } });
    if (!operator) throw new NotFoundError("Operator", operatorId);
    // The same role is no change: announcing it would close the operator's sockets for nothing.
    if (operator.role === role) return operator;
    announceCredentialsChanged(unit, { operatorIds: [operatorId] });
    if (operator.role === "ADMIN" && operator.disabledAt === null) {
      const admins = await activeAdminEmails(tx);
      if (admins.length <= 1) throw new LastAdminError(operator.email);
    }
    const updated = await tx.operator.update({ where: { id: operatorId }, data: { role } });
    await recordAudit(tx, actor, {
      action: "operator.role_change",
      targetType: "Operator",
      targetId: operatorId,
      before: { role: operator.role },
      after: { role },
    });
    return updated;
  });
}

/**
 * An ADMIN disables an operator: they cannot sign in, their sessions end now (their sockets close
 * on every API instance after the commit) and their pending reset link stops working.
 */
export async function disableOperator(
  deps: Pick<CoreDeps, "db" | "clock"> & EffectDeps,
  actor: Actor,
  input: { operatorId: string },
): Promise<{ operator: Operator; endedSessionIds: string[] }> {
  const { operatorId } = input;
  const now = deps.clock();
  assertOperatorCan(actor, "administer");
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
    await lockAdmins(tx);
    const operator = await tx.operator.findUnique({ where: { id: operatorId } });
    if (!operator) throw new NotFoundError("Operator", operatorId);
    if (operator.disabledAt) {
      announceCredentialsChanged(unit, { operatorIds: [operatorId] });
      return { operator, endedSessionIds: [] };
    }
    if (operator.role === "ADMIN") {
      const admins = await activeAdminEmails(tx);
      if (admins.length <= 1) throw new LastAdminError(operator.email);
    }
    const updated = await tx.operator.update({ where: { id: operatorId }, data: { disabledAt: now } });
    const endedSessionIds = await endSessions(tx, operatorId, now);
    await tx.operatorLink.updateMany({
      where: { email: operator.email, purpose: "PASSWORD_RESET", usedAt: null, revokedAt: null },
      data: { revokedAt: now },
    });
    await recordAudit(tx, actor, {
      action: "operator.disable",
      targetType: "Operator",
      targetId: operatorId,
      after: { sessionsEnded: endedSessionIds.length },
    });
    announceCredentialsChanged(unit, { sessionIds: endedSessionIds, operatorIds: [operatorId] });
    return { operator: updated, endedSessionIds };
  });
}

export async function enableOperator(
  deps: Pick<CoreDeps, "db">,
  actor: Actor,
  input: { operatorId: string },
): Promise<Operator> {
  const { db } = deps;
  const { operatorId } = input;
  assertOperatorCan(actor, "administer");
  return db.$transaction(async (tx) => {
    await lockAdmins(tx);
    const operator = await tx.operator.findUnique({ where: { id: operatorId } });
    if (!operator) throw new NotFoundError("Operator", operatorId);
    if (!operator.disabledAt) return operator;
    const updated = await tx.operator.update({ where: { id: operatorId }, data: { disabledAt: null } });
    await recordAudit(tx, actor, { action: "operator.enable", targetType: "Operator", targetId: operatorId });
    return updated;
  });
}

// ───────────────────────────── Passwords ─────────────────────────────

/** An ADMIN emails an operator a one-time link (2 h) to choose a new password. */
export async function sendPasswordReset(deps: SendLinkDeps, actor: Actor, operatorId: string): Promise<SentLink> {
  assertOperatorCan(actor, "administer");
  const now = deps.clock();
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
    const operator = await tx.operator.findUnique({ where: { id: operatorId } });
    if (!operator) throw new NotFoundError("Operator", operatorId);
    if (operator.disabledAt) throw new ConflictError(`${operator.email} is disabled: enable the account first`);
    const { link, token } = await newLink(
      tx,
      {
        purpose: "PASSWORD_RESET",
        email: operator.email,
        role: operator.role,
        operatorId,
        createdById: actor.kind === "OPERATOR" ? actor.id : null,
      },
      PASSWORD_RESET_TTL_MS,
      now,
    );
    const rendered = passwordResetEmail({
      name: operator.name,
      url: linkUrl(deps.env.PUBLIC_URL, token),
      expiresAt: link.expiresAt,
      timeZone: deps.env.MARKETPLACE_TIME_ZONE,
    });
    await enqueueEmail(tx, {
      kind: "email.password_reset",
      dedupKey: `operator-link:${link.id}`,
      email: { to: operator.email, ...rendered },
    });
    await recordAudit(tx, actor, {
      action: "operator.password_reset_sent",
      targetType: "Operator",
      targetId: operatorId,
      after: { linkId: link.id, expiresAt: link.expiresAt.toISOString() },
    });
    deliverLinkSoon(unit, link.id);
    return { id: link.id, email: operator.email, role: operator.role, expiresAt: link.expiresAt };
  });
}

/** The operator chooses a new password through a reset link; every session of theirs ends. */
export async function resetPassword(
  deps: Pick<CoreDeps, "db" | "clock"> & EffectDeps,
  input: { token: string; password: string },
): Promise<{ operator: Operator; endedSessionIds: string[] }> {
  // No actor: holding the one-time link is the credential.
  const { db } = deps;
  const now = deps.clock();
  const link = await usableLink(db, input.token, now);
  if (link.purpose !== "PASSWORD_RESET" || !link.operatorId) throw new OperatorLinkUnusableError("UNKNOWN");
  const operator = await db.operator.findUnique({ where: { id: link.operatorId } });
  if (!operator || operator.disabledAt) throw new OperatorLinkUnusableError("REPLACED");
  assertStrongPassword(input.password, operator.email);
  const passwordHash = await hashPassword(input.password);
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
    await claimLink(tx, link, now);
    const updated = await tx.operator.update({ where: { id: operator.id }, data: { passwordHash } });
    const endedSessionIds = await endSessions(tx, operator.id, now);
    await recordAudit(tx, operatorActor(operator), {
      action: "operator.password_reset",
      targetType: "Operator",
      targetId: operator.id,
      after: { linkId: link.id, sessionsEnded: endedSessionIds.length },
    });
    announceCredentialsChanged(unit, { sessionIds: endedSessionIds });
    return { operator: updated, endedSessionIds };
  });
}

/**
 * A signed-in operator changes their own password (the current one is required). Their other
 * sessions end; this one stays. Returns the ended sessions' ids.
 */
export async function changeOwnPassword(
  deps: Pick<CoreDeps, "db" | "clock"> & EffectDeps,
  actor: OperatorActor,
  input: { currentPassword: string; newPassword: string },
): Promise<string[]> {
  const { db } = deps;
  const now = deps.clock();
  const operator = await db.operator.findUnique({ where: { id: actor.id } });
  if (!operator || operator.disabledAt) throw new NotFoundError("Operator", actor.id);
  if (!(await verifyPassword(operator.passwordHash, input.currentPassword)))
    throw new InvalidInputError("Your current password is not right", "currentPassword");
  if (input.newPassword === input.currentPassword)
    throw new InvalidInputError("Choose a new password, different from the current one", "newPassword");
  assertStrongPassword(input.newPassword, operator.email);
  const passwordHash = await hashPassword(input.newPassword);
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
    // Guarded by the hash that was checked: a change in between (a reset) is not silently overwritten.
    const changed = await tx.operator.updateMany({
      where: { id: operator.id, passwordHash: operator.passwordHash },
      data: { passwordHash },
    });
    if (changed.count === 0) throw new ConflictError("Your password changed meanwhile: sign in again and retry");
    const ended = await endSessions(tx, operator.id, now, actor.sessionId);
    await recordAudit(tx, actor, {
      action: "operator.password_change",
      targetType: "Operator",
      targetId: operator.id,
      after: { otherSessionsEnded: ended.length },
    });
    announceCredentialsChanged(unit, { sessionIds: ended });
    return ended;
  });
}
