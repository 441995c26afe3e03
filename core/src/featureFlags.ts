// Feature flags: what the running system obeys, switchable by an operator with a reason, with
// a full history (FeatureFlagChange, plus the audit log). The environment only gives each flag
// its initial value; once a flag has a row, the row is the truth (AI_MODE in scoring included).
import type { Db, DbTx, FeatureFlag, FeatureFlagChange } from "@steward/db/client";
import { z } from "zod";
import { type Actor, actorId, actorKind, actorLabel } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import type { Env } from "./env.ts";
import { InvalidInputError } from "./errors.ts";
import { assertOperatorCan } from "./permissions.ts";
import type { CoreDeps } from "./deps.ts";

interface FlagDefinition {
  description: string;
  values: readonly [string, ...string[]];
  initial(env: Pick<Env, "AI_MODE">): string;
}

export const flagCatalog = {
  AI_MODE: {
    description:
      "How reviews are scored: 'provider' asks the AI provider (deterministic fallback per review when it fails), 'deterministic' uses only the keyword/heuristic classifier.",
    values: ["provider", "deterministic"],
    initial: (env) => env.AI_MODE,
  },
  AI_FAILOVER: {
    description:
      "Whether the system may switch AI_MODE to 'deterministic' by itself when the AI provider has been down too long ('auto'), or only alert ('alert-only').",
    values: ["auto", "alert-only"],
    initial: () => "auto",
  },
} as const satisfies Record<string, FlagDefinition>;

export type FlagKey = keyof typeof flagCatalog;
export type FlagValue<Key extends FlagKey> = (typeof flagCatalog)[Key]["values"][number];

export const flagKeys = Object.keys(flagCatalog) as FlagKey[];

export function isFlagKey(key: string): key is FlagKey {
  return Object.hasOwn(flagCatalog, key);
}

const reasonSchema = z
  .string()
  .trim()
  .min(3, "Say why (at least 3 characters)")
  .max(500, "Keep the reason under 500 characters");

export interface FlagState {
  key: FlagKey;
  value: string;
  values: readonly string[];
  description: string;
  updatedAt: Date | null;
  proposedValue: string | null;
  proposalReason: string | null;
  proposedAt: Date | null;
}

function stateOf(key: FlagKey, row: FeatureFlag | undefined, env: Pick<Env, "AI_MODE">): FlagState {
  const definition: FlagDefinition = flagCatalog[key];
  return {
    key,
    value: row?.value ?? definition.initial(env),
    values: definition.values,
    description: definition.description,
    updatedAt: row?.updatedAt ?? null,
    proposedValue: row?.proposedValue ?? null,
    proposalReason: row?.proposalReason ?? null,
    proposedAt: row?.proposedAt ?? null,
  };
}

export async function listFlags(db: Db, env: Pick<Env, "AI_MODE">): Promise<FlagState[]> {
  const rows = await db.featureFlag.findMany({ where: { key: { in: flagKeys } } });
  const byKey = new Map(rows.map((row) => [row.key, row]));
  return flagKeys.map((key) => stateOf(key, byKey.get(key), env));
}

export async function getFlag(db: Db | DbTx, env: Pick<Env, "AI_MODE">, key: string): Promise<FlagState> {
  if (!isFlagKey(key)) throw new InvalidInputError(`Unknown flag '${key}'`, "key");
  const row = await db.featureFlag.findUnique({ where: { key } });
  return stateOf(key, row ?? undefined, env);
}

/** The scoring mode reviews obey now. */
export async function currentAiMode(db: Db, env: Pick<Env, "AI_MODE">): Promise<FlagValue<"AI_MODE">> {
  const { value } = await getFlag(db, env, "AI_MODE");
  return value === "provider" ? "provider" : "deterministic";
}

/** Switching or proposing: the flag's initial value comes from the env's AI_MODE. */
export type FlagDeps = Pick<CoreDeps, "db"> & { env: Pick<Env, "AI_MODE"> };

export interface SetFlagOptions {
  /** The automation's clock (the health run's `now`), so its history lines up with its results. */
  now?: Date;
}

/**
 * Switches a flag (OPERATOR/ADMIN, or the system's own automation). Unknown keys, values the
 * flag does not take, a missing reason or a value it already has are refused and change nothing.
 */
export async function setFeatureFlag(
  deps: FlagDeps,
  actor: Actor,
  input: { key: string; value: string; reason: string },
  options: SetFlagOptions = {},
): Promise<FeatureFlagChange> {
  const { db, env } = deps;
  assertOperatorCan(actor, "operate");
  const { key, value } = input;
  if (!isFlagKey(key)) throw new InvalidInputError(`Unknown flag '${key}'; known flags: ${flagKeys.join(", ")}`, "key");
  const definition: FlagDefinition = flagCatalog[key];
  if (!definition.values.includes(value))
    throw new InvalidInputError(`${key} takes ${definition.values.map((v) => `'${v}'`).join(" or ")}`, "value");
  const reason = reasonSchema.safeParse(input.reason);
  if (!reason.success) throw new InvalidInputError(reason.error.issues[0]?.message ?? "Say why", "reason");

  return db.$transaction(async (tx) => {
    // Create the row at its initial value, then lock it: two operators switching at once are
    // serialized, and each change records the value it really replaced.
    await tx.featureFlag.upsert({
      where: { key },
      create: { key, value: definition.initial(env), description: definition.description },
      update: {},
    });
    await tx.$queryRaw`SELECT 1 FROM "FeatureFlag" WHERE key = ${key} FOR UPDATE`;
    const current = await tx.featureFlag.findUniqueOrThrow({ where: { key } });
    if (current.value === value) throw new InvalidInputError(`${key} is already '${value}'`, "value");
    await tx.featureFlag.update({
      where: { key },
      data: {
        value,
        updatedById: actorId(actor),
        // A decision was taken: any pending suggestion is answered.
        proposedValue: null,
        proposalReason: null,
        proposedAt: null,
      },
    });
    const change = await tx.featureFlagChange.create({
      data: {
        flagKey: key,
        fromValue: current.value,
        toValue: value,
        reason: reason.data,
        actorKind: actorKind(actor),
        actorId: actorId(actor),
        actorLabel: actorLabel(actor),
        ...(options.now ? { createdAt: options.now } : {}),
      },
    });
    await recordAudit(tx, actor, {
      action: "flag.set",
      targetType: "FeatureFlag",
      targetId: key,
      before: { value: current.value },
      after: { value },
      reason: reason.data,
    });
    return change;
  });
}

/** The system suggests a change it may not (or should not) make itself; a person decides. */
export async function proposeFlagValue(
  deps: FlagDeps,
  actor: Actor,
  input: { key: FlagKey; value: string; reason: string },
  now = new Date(),
): Promise<void> {
  const { db, env } = deps;
  const { key, value, reason } = input;
  const definition: FlagDefinition = flagCatalog[key];
  await db.$transaction(async (tx) => {
    await tx.featureFlag.upsert({
      where: { key },
      create: { key, value: definition.initial(env), description: definition.description },
      update: {},
    });
    await tx.featureFlag.update({
      where: { key },
      data: { proposedValue: value, proposalReason: reason, proposedAt: now },
    });
    await recordAudit(tx, actor, {
      action: "flag.propose",
      targetType: "FeatureFlag",
      targetId: key,
      after: { proposedValue: value },
      reason,
    });
  });
}

/** Withdraws a pending suggestion (its reason no longer holds). */
export async function withdrawFlagProposal(
  deps: Pick<CoreDeps, "db">,
  actor: Actor,
  input: { key: FlagKey; reason: string },
): Promise<boolean> {
  const { key, reason } = input;
  return deps.db.$transaction(async (tx) => {
    const withdrawn = await tx.featureFlag.updateMany({
      where: { key, proposedValue: { not: null } },
      data: { proposedValue: null, proposalReason: null, proposedAt: null },
    });
    if (withdrawn.count === 0) return false;
    await recordAudit(tx, actor, { action: "flag.withdrawProposal", targetType: "FeatureFlag", targetId: key, reason });
    return true;
  });
}

export async function flagHistory(db: Db, key: string, limit = 50): Promise<FeatureFlagChange[]> {
  if (!isFlagKey(key)) throw new InvalidInputError(`Unknown flag '${key}'`, "key");
  return db.featureFlagChange.findMany({ where: { flagKey: key }, orderBy: { id: "desc" }, take: limit });
}
