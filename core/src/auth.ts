// Operator login, sessions and their rate limits.
import type { Db } from "@steward/db/client";
import type { OperatorActor } from "./actor.ts";
import { ANONYMOUS } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { InvalidCredentialsError, TooManyAttemptsError } from "./errors.ts";
import { burnPasswordCheck, verifyPassword } from "./passwords.ts";
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
}

export interface LoginResult {
  sessionToken: string;
  expiresAt: Date;
  operator: OperatorActor;
}

export async function login(db: Db, settings: AuthSettings, input: LoginInput): Promise<LoginResult> {
  const email = input.email.trim().toLowerCase();
  const windowStart = new Date(Date.now() - settings.failureWindowMinutes * 60_000);

  const [accountFailures, addressFailures] = await Promise.all([
    db.loginAttempt.count({ where: { email, succeeded: false, createdAt: { gte: windowStart } } }),
    db.loginAttempt.count({ where: { ip: input.ip, succeeded: false, createdAt: { gte: windowStart } } }),
  ]);
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
  const session = await db.session.findUnique({
    where: { tokenHash: hashSecret(sessionToken) },
    include: { operator: true },
  });
  if (!session || session.revokedAt || session.expiresAt <= new Date() || session.operator.disabledAt) return null;
  return {
    kind: "OPERATOR",
    id: session.operator.id,
    email: session.operator.email,
    name: session.operator.name,
    role: session.operator.role,
    sessionId: session.id,
    sessionExpiresAt: session.expiresAt,
  };
}

export async function logout(db: Db, operator: OperatorActor): Promise<void> {
  if (!operator.sessionId) return;
  const sessionId = operator.sessionId;
  await db.$transaction(async (tx) => {
    await tx.session.update({ where: { id: sessionId }, data: { revokedAt: new Date() } });
    await recordAudit(tx, operator, { action: "auth.logout", targetType: "Session", targetId: sessionId });
  });
}
