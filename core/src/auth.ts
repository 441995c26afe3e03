// Operator login, sessions and their rate limits.
import type { Db, Role } from "@steward/db/client";
import type { OperatorActor } from "./actor.ts";
import { ANONYMOUS } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { InvalidCredentialsError, NotFoundError, TooManyAttemptsError } from "./errors.ts";
import { burnPasswordCheck, verifyPassword } from "./passwords.ts";
import { assertOperatorCan } from "./permissions.ts";
import { hashSecret, newSecret } from "./secrets.ts";

export const SESSION_COOKIE = "steward_session";

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

export async function login(db: Db, settings: AuthSettings, input: LoginInput): Promise<LoginResult> {
  const email = input.email.trim().toLowerCase();
  const windowStart = new Date(Date.now() - settings.failureWindowMinutes * 60_000);

  const { accountFailures, addressFailures } = await recentFailures(db, email, input.ip, windowStart);
  if (accountFailures >= settings.maxFailuresPerAccount || addressFailures >= settings.maxFailuresPerAddress) {
    await recordFailure(db, email, input.ip, "rate_limited");
    throw new TooManyAttemptsError(settings.failureWindowMinutes * 60);
  }

  const operator = await db.operator.findUnique({ where: { email } });
  const passwordOk = operator
    ? operator.disabledAt === null && (await verifyPassword(operator.passwordHash, input.password))
    : (await burnPasswordCheck(input.password), false);
  if (!operator || !passwordOk) {
    await recordFailure(db, email, input.ip, operator ? "wrong_password" : "unknown_email");
    throw new InvalidCredentialsError();
  }

  const sessionToken = newSecret("sst_");
  const expiresAt = new Date(Date.now() + settings.sessionTtlHours * 3_600_000);
  const actor: OperatorActor = {
    kind: "OPERATOR",
    id: operator.id,
    email: operator.email,
    name: operator.name,
    role: operator.role,
  };
  await db.$transaction(async (tx) => {
    // Rotation: whatever session id the browser held before is never the signed-in one.
    if (input.previousSessionId) {
      await tx.session.updateMany({
        where: { id: input.previousSessionId, revokedAt: null },
        data: { revokedAt: new Date() },
      });
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

/**
 * Failed logins in the window that still count: a failure followed by a successful login to the
 * same account no longer does, for that account or for the address (an operator who mistyped and
 * then got in is not an attacker, and an office behind one address is not punished for it).
 */
async function recentFailures(
  db: Db,
  email: string,
  ip: string,
  windowStart: Date,
): Promise<{ accountFailures: number; addressFailures: number }> {
  const [row] = await db.$queryRaw<{ account: bigint; address: bigint }[]>`
    SELECT
      count(*) FILTER (WHERE failure.email = ${email}) AS account,
      count(*) FILTER (WHERE failure.ip = ${ip}) AS address
    FROM "LoginAttempt" failure
    WHERE failure."succeeded" = false
      AND failure."createdAt" >= ${windowStart}
      AND (failure.email = ${email} OR failure.ip = ${ip})
      AND NOT EXISTS (
        SELECT 1 FROM "LoginAttempt" success
        WHERE success."succeeded" = true AND success.email = failure.email AND success."createdAt" > failure."createdAt"
      )`;
  return { accountFailures: Number(row?.account ?? 0), addressFailures: Number(row?.address ?? 0) };
}

async function recordFailure(db: Db, email: string, ip: string, reason: string): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.loginAttempt.create({ data: { email, ip, succeeded: false, reason } });
    await recordAudit(tx, ANONYMOUS, {
      action: "auth.login_failed",
      targetType: "Operator",
      targetId: email,
      reason,
      after: { ip },
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
 * An ADMIN ends every open session of an operator (a lost laptop, someone leaving). Returns the
 * ended sessions' ids, so the caller can close their websockets on every API instance.
 */
export async function revokeOperatorSessions(db: Db, actor: OperatorActor, operatorId: string): Promise<string[]> {
  assertOperatorCan(actor, "administer");
  return db.$transaction(async (tx) => {
    const operator = await tx.operator.findUnique({ where: { id: operatorId } });
    if (!operator) throw new NotFoundError("Operator", operatorId);
    const open = await tx.session.findMany({
      where: { operatorId, revokedAt: null, expiresAt: { gt: new Date() } },
      select: { id: true },
    });
    const ids = open.map((session) => session.id);
    await tx.session.updateMany({ where: { id: { in: ids } }, data: { revokedAt: new Date() } });
    await recordAudit(tx, actor, {
      action: "auth.sessions_revoked",
      targetType: "Operator",
      targetId: operatorId,
      after: { sessions: ids.length },
    });
    return ids;
  });
}

export async function logout(db: Db, operator: OperatorActor): Promise<void> {
  if (!operator.sessionId) return;
  const sessionId = operator.sessionId;
  await db.$transaction(async (tx) => {
    await tx.session.update({ where: { id: sessionId }, data: { revokedAt: new Date() } });
    await recordAudit(tx, operator, { action: "auth.logout", targetType: "Session", targetId: sessionId });
  });
}
