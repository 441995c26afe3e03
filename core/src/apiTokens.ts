// API tokens for integrations: shown once, stored hashed, scoped, revocable.
import type { Db } from "@steward/db/client";
import type { ApiTokenActor, OperatorActor } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { InvalidInputError, NotFoundError } from "./errors.ts";
import { apiTokenScopes, assertOperatorCan } from "./permissions.ts";
import { hashSecret, newSecret } from "./secrets.ts";
import { announceCredentialsChanged } from "./auth.ts";
import type { CoreDeps } from "./deps.ts";
import { type EffectDeps, inTransaction } from "./unitOfWork.ts";

export interface CreatedApiToken {
  id: string;
  /** The only time the secret is visible. */
  token: string;
}

export async function createApiToken(
  deps: Pick<CoreDeps, "db">,
  actor: OperatorActor,
  input: { name: string; scopes: readonly string[] },
): Promise<CreatedApiToken> {
  const { db } = deps;
  assertOperatorCan(actor, "administer");
  const name = input.name.trim();
  if (name.length < 2 || name.length > 80) throw new InvalidInputError("Name must be 2–80 characters", "name");
  const unknown = input.scopes.filter((scope) => !(apiTokenScopes as readonly string[]).includes(scope));
  if (unknown.length > 0 || input.scopes.length === 0) {
    throw new InvalidInputError(`Scopes must be some of: ${apiTokenScopes.join(", ")}`, "scopes");
  }
  const token = newSecret("stw_");
  const created = await db.$transaction(async (tx) => {
    const row = await tx.apiToken.create({
      data: {
        name,
        tokenHash: hashSecret(token),
        prefix: token.slice(0, 10),
        scopes: [...new Set(input.scopes)],
        createdById: actor.id,
      },
    });
    await recordAudit(tx, actor, {
      action: "apiToken.create",
      targetType: "ApiToken",
      targetId: row.id,
      after: { name, scopes: row.scopes },
    });
    return row;
  });
  return { id: created.id, token };
}

/** Every API instance stops accepting the token after the commit (its cached use is dropped). */
export async function revokeApiToken(
  deps: Pick<CoreDeps, "db" | "clock"> & EffectDeps,
  actor: OperatorActor,
  input: { tokenId: string },
): Promise<void> {
  const { tokenId } = input;
  assertOperatorCan(actor, "administer");
  await inTransaction(deps, async (unit) => {
    const { tx } = unit;
    const token = await tx.apiToken.findUnique({ where: { id: tokenId } });
    if (!token) throw new NotFoundError("ApiToken", tokenId);
    announceCredentialsChanged(unit, { apiTokenIds: [tokenId] });
    if (token.revokedAt) return;
    await tx.apiToken.update({ where: { id: tokenId }, data: { revokedAt: deps.clock() } });
    await recordAudit(tx, actor, { action: "apiToken.revoke", targetType: "ApiToken", targetId: tokenId });
  });
}

/** A live token's actor, and when its use was last recorded (kept by a cache to record it again). */
export interface ApiTokenUse {
  actor: ApiTokenActor;
  lastUsedAt: Date | null;
}

/** The actor behind a token's secret, or null if it is unknown or revoked. */
export async function apiTokenForSecret(db: Db, token: string): Promise<ApiTokenUse | null> {
  const row = await db.apiToken.findUnique({
    where: { tokenHash: hashSecret(token) },
    select: { id: true, name: true, scopes: true, lastUsedAt: true, revokedAt: true },
  });
  if (!row || row.revokedAt) return null;
  return { actor: { kind: "API_TOKEN", id: row.id, name: row.name, scopes: row.scopes }, lastUsedAt: row.lastUsedAt };
}

/** Records the token's use, best effort and at most once a minute: a write per request would sit on the hot path. */
export function recordApiTokenUse(db: Db, use: ApiTokenUse, now = new Date()): void {
  if (use.lastUsedAt && now.getTime() - use.lastUsedAt.getTime() <= 60_000) return;
  use.lastUsedAt = now;
  void db.apiToken.update({ where: { id: use.actor.id }, data: { lastUsedAt: now } }).catch(() => undefined);
}

export async function actorForApiToken(db: Db, token: string): Promise<ApiTokenActor | null> {
  const use = await apiTokenForSecret(db, token);
  if (!use) return null;
  recordApiTokenUse(db, use);
  return use.actor;
}
