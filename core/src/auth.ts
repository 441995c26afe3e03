// Operator login, sessions and their rate limits.
import type { Db, Role } from "@steward/db/client";
import type { OperatorActor } from "./actor.ts";
import { ANONYMOUS } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { InvalidCredentialsError, NotFoundError, TooManyAttemptsError } from "./errors.ts";
import type { LoginThrottle } from "./loginThrottle.ts";
import { burnPasswordCheck, verifyPassword } from "./passwords.ts";
import { assertOperatorCan } from "./permissions.ts";
import { hashSecret, newSecret } from "./secrets.ts";
import type { CoreDeps } from "./deps.ts";
import type { CredentialsChangedEvent } from "./ports/events.ts";
import { type AfterCommit, type EffectDeps, inTransaction } from "./unitOfWork.ts";

export const SESSION_COOKIE = "steward_session";

/** After the commit, every API instance forgets the changed credentials and closes their sockets. */
export function announceCredentialsChanged(unit: AfterCommit, change: Partial<CredentialsChangedEvent>): void {
  const event: CredentialsChangedEvent = {
    sessionIds: change.sessionIds ?? [],
    operatorIds: change.operatorIds ?? [],
    apiTokenIds: change.apiTokenIds ?? [],
  };
  if (event.sessionIds.length + event.operatorIds.length + event.apiTokenIds.length === 0) return;
  unit.publish("credentialsChanged", event);
}

export interface AuthSettings {
  sessionTtlHours: number;
  maxFailuresPerAccount: number;
  maxFailuresPerAddress: number;
  failureWindowMinutes: number;
}

export interface LoginInput {
  email: string;
  password: string;
  ip: string;
  userAgent?: string;
  /** The session the browser already had, if any: it is revoked, so a login always starts a new one. */
  previousSessionId?: string;
}

export interface LoginResult {
  sessionToken: string;
  expiresAt: Date;
  operator: OperatorActor;
}

/** An address the account signed in from this recently is its owner's: it skips the account-wide slowdown. */
const KNOWN_ADDRESS_DAYS = 30;

export async function login(
  deps: Pick<CoreDeps, "db" | "clock"> & EffectDeps,
  throttle: LoginThrottle,
  settings: Pick<AuthSettings, "sessionTtlHours">,
  input: LoginInput,
): Promise<LoginResult> {
  const { db } = deps;
  const email = input.email.trim().toLowerCase();

  // Counted before the password is checked (atomically, in Redis): concurrent guesses cannot all pass.
  const admission = await throttle.admit(email, input.ip, await signedInFrom(db, email, input.ip));
  if (!admission.admitted) {
    await recordFailure(db, email, input.ip, "rate_limited", admission.limit);
    throw new TooManyAttemptsError(admission.retryAfterSeconds);
  }

  const operator = await db.operator.findUnique({ where: { email } });
  const passwordOk = operator
    ? operator.disabledAt === null && (await verifyPassword(operator.passwordHash, input.password))
    : (await burnPasswordCheck(input.password), false);
  if (!operator || !passwordOk) {
    await recordFailure(db, email, input.ip, operator ? "wrong_password" : "unknown_email");
    throw new InvalidCredentialsError();
  }
  await throttle.succeeded(email, input.ip);

  const sessionToken = newSecret("sst_");
  const now = deps.clock();
  const expiresAt = new Date(now.getTime() + settings.sessionTtlHours * 3_600_000);
  const actor: OperatorActor = {
    kind: "OPERATOR",
    id: operator.id,
    email: operator.email,
    name: operator.name,
    role: operator.role,
  };
  await inTransaction(deps, async (unit) => {
    const { tx } = unit;
    // Rotation: whatever session id the browser held before is never the signed-in one.
    if (input.previousSessionId) {
      await tx.session.updateMany({
        where: { id: input.previousSessionId, revokedAt: null },
        data: { revokedAt: now },
      });
      announceCredentialsChanged(unit, { sessionIds: [input.previousSessionId] });
    }
    const session = await tx.session.create({
      data: {
        tokenHash: hashSecret(sessionToken),
        operatorId: operator.id,
        expiresAt,
        ip: input.ip,
        userAgent: input.userAgent ?? null,
      },
    });
    actor.sessionId = session.id;
    await tx.loginAttempt.create({ data: { email, ip: input.ip, succeeded: true } });
    await recordAudit(tx, actor, { action: "auth.login", targetType: "Session", targetId: session.id });
  });
  return { sessionToken, expiresAt, operator: actor };
}

async function signedInFrom(db: Db, email: string, ip: string): Promise<boolean> {
  const since = new Date(Date.now() - KNOWN_ADDRESS_DAYS * 86_400_000);
  const success = await db.loginAttempt.findFirst({
    where: { email, ip, succeeded: true, createdAt: { gte: since } },
    select: { id: true },
  });
  return success !== null;
}

async function recordFailure(db: Db, email: string, ip: string, reason: string, limit?: string): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.loginAttempt.create({ data: { email, ip, succeeded: false, reason } });
    await recordAudit(tx, ANONYMOUS, {
      action: "auth.login_failed",
      targetType: "Operator",
      targetId: email,
      reason,
      after: limit ? { ip, limit } : { ip },
    });
  });
}

/** The operator behind a session cookie, or null if it is unknown, expired, revoked or disabled. */
export async function operatorForSession(db: Db, sessionToken: string): Promise<OperatorActor | null> {
  // Every request asks this: one statement, and only the columns an actor needs (never passwordHash).
  const [session] = await db.$queryRaw<SessionRow[]>`
    SELECT s.id, s."expiresAt", s."revokedAt", o.id AS "operatorId", o.email, o.name, o.role::text AS role,
           o."disabledAt"
      FROM "Session" s JOIN "Operator" o ON o.id = s."operatorId"
     WHERE s."tokenHash" = ${hashSecret(sessionToken)}`;
  if (!session || session.revokedAt || session.expiresAt <= new Date() || session.disabledAt) return null;
  return {
    kind: "OPERATOR",
    id: session.operatorId,
    email: session.email,
    name: session.name,
    role: session.role,
    sessionId: session.id,
    sessionExpiresAt: session.expiresAt,
  };
}

interface SessionRow {
  id: string;
  expiresAt: Date;
  revokedAt: Date | null;
  operatorId: string;
  email: string;
  name: string;
  role: Role;
  disabledAt: Date | null;
}

/**
 * An ADMIN ends every open session of an operator (a lost laptop, someone leaving); their websockets
 * close on every API instance after the commit. Returns the ended sessions' ids.
 */
export async function revokeOperatorSessions(
  deps: Pick<CoreDeps, "db" | "clock"> & EffectDeps,
  actor: OperatorActor,
  input: { operatorId: string },
): Promise<string[]> {
  const { operatorId } = input;
  assertOperatorCan(actor, "administer");
  const now = deps.clock();
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
    const operator = await tx.operator.findUnique({ where: { id: operatorId } });
    if (!operator) throw new NotFoundError("Operator", operatorId);
    const open = await tx.session.findMany({
      where: { operatorId, revokedAt: null, expiresAt: { gt: now } },
      select: { id: true },
    });
    const ids = open.map((session) => session.id);
    await tx.session.updateMany({ where: { id: { in: ids } }, data: { revokedAt: now } });
    await recordAudit(tx, actor, {
      action: "auth.sessions_revoked",
      targetType: "Operator",
      targetId: operatorId,
      after: { sessions: ids.length },
    });
    announceCredentialsChanged(unit, { sessionIds: ids });
    return ids;
  });
}

export async function logout(deps: Pick<CoreDeps, "db" | "clock"> & EffectDeps, actor: OperatorActor): Promise<void> {
  if (!actor.sessionId) return;
  const sessionId = actor.sessionId;
  await inTransaction(deps, async (unit) => {
    const { tx } = unit;
    await tx.session.update({ where: { id: sessionId }, data: { revokedAt: deps.clock() } });
    await recordAudit(tx, actor, { action: "auth.logout", targetType: "Session", targetId: sessionId });
    announceCredentialsChanged(unit, { sessionIds: [sessionId] });
  });
}
