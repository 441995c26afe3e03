// Data retention: what Steward records about its own operation (job runs, sessions, login
// attempts, delivered outbox messages, search events, health results, webhook payloads) is kept
// for a set number of days per table (RETENTION_*_DAYS; 0 keeps forever), then removed by the
// scheduled `data-retention` job. Removal goes in batches, each its own short statement
// (an id range of n eligible rows at a time), so no lock is held for long and the API and
// worker keep writing meanwhile. Financial records (payments, refunds, placements,
// reconciliation) and the audit log are not in the list and cannot be named: the targets are a
// closed set of SQL written here, never built from input.
import { Prisma, type Db } from "@steward/db/client";
import { systemActor } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import type { Env } from "./env.ts";

export type RetentionTarget =
  "jobRuns" | "sessions" | "loginAttempts" | "outboxMessages" | "searchEvents" | "healthResults" | "webhookPayloads";

interface TargetDefinition {
  table: string;
  /** The primary key's type: batches walk it in order (uuid v7 ids are time-ordered). */
  idType: "uuid" | "text";
  /** What is removed: "rows", or "payloads" when rows stay (webhook ids are how duplicates are ignored). */
  removes: "rows" | "payloads";
  /** Rows old enough to go, given the cutoff (only ever finished, ended or delivered ones). */
  eligible(cutoff: Date): Prisma.Sql;
}

const TARGETS: Record<RetentionTarget, TargetDefinition> = {
  jobRuns: {
    table: "JobRun",
    idType: "uuid",
    removes: "rows",
    eligible: (cutoff) => Prisma.sql`"startedAt" < ${cutoff} AND status <> 'RUNNING'`,
  },
  sessions: {
    table: "Session",
    idType: "uuid",
    removes: "rows",
    // Ended (expired or revoked) before the cutoff: a live session is never removed.
    eligible: (cutoff) => Prisma.sql`("expiresAt" < ${cutoff} OR "revokedAt" < ${cutoff})`,
  },
  loginAttempts: {
    table: "LoginAttempt",
    idType: "uuid",
    removes: "rows",
    eligible: (cutoff) => Prisma.sql`"createdAt" < ${cutoff}`,
  },
  outboxMessages: {
    table: "OutboxMessage",
    idType: "uuid",
    removes: "rows",
    // Only settled messages (their delivery attempts go with them, ON DELETE CASCADE).
    eligible: (cutoff) => Prisma.sql`"createdAt" < ${cutoff} AND status IN ('SENT', 'DEAD')`,
  },
  searchEvents: {
    table: "SearchEvent",
    idType: "uuid",
    removes: "rows",
    eligible: (cutoff) => Prisma.sql`"occurredAt" < ${cutoff}`,
  },
  healthResults: {
    table: "HealthCheckResult",
    idType: "uuid",
    removes: "rows",
    eligible: (cutoff) => Prisma.sql`"checkedAt" < ${cutoff}`,
  },
  webhookPayloads: {
    table: "StripeWebhookEvent",
    idType: "text",
    removes: "payloads",
    eligible: (cutoff) => Prisma.sql`"receivedAt" < ${cutoff} AND status = 'PROCESSED' AND payload <> '{}'::jsonb`,
  },
};

export const retentionTargets = Object.keys(TARGETS) as RetentionTarget[];

export type RetentionSettings = Record<RetentionTarget, number>;

/** Days kept per target, from the environment (0: kept forever). */
export function retentionSettings(env: Env): RetentionSettings {
  return {
    jobRuns: env.RETENTION_JOB_RUNS_DAYS,
    sessions: env.RETENTION_SESSIONS_DAYS,
    loginAttempts: env.RETENTION_LOGIN_ATTEMPTS_DAYS,
    outboxMessages: env.RETENTION_OUTBOX_MESSAGES_DAYS,
    searchEvents: env.RETENTION_SEARCH_EVENTS_DAYS,
    healthResults: env.RETENTION_HEALTH_RESULTS_DAYS,
    webhookPayloads: env.RETENTION_WEBHOOK_PAYLOADS_DAYS,
  };
}

export interface PurgeOptions {
  batchSize: number;
  /** Stop after this many batches per target; the next run continues (a backlog never runs for hours). */
  maxBatches?: number;
}

export interface PurgeResult {
  target: RetentionTarget;
  table: string;
  removes: "rows" | "payloads";
  keptDays: number;
  removed: number;
  batches: number;
  /** The slowest single batch, in ms: the longest any row lock was held. */
  longestBatchMs: number;
  /** Eligible rows were left for the next run (maxBatches reached). */
  more: boolean;
}

const DAY = 86_400_000;

/** Removes one target's rows older than `keptDays`, batch by batch, each batch its own statement. */
export async function purgeTarget(
  db: Db,
  target: RetentionTarget,
  keptDays: number,
  options: PurgeOptions,
  now = new Date(),
): Promise<PurgeResult> {
  const definition = TARGETS[target];
  const result: PurgeResult = {
    target,
    table: definition.table,
    removes: definition.removes,
    keptDays,
    removed: 0,
    batches: 0,
    longestBatchMs: 0,
    more: false,
  };
  if (keptDays <= 0) return result;
  const cutoff = new Date(now.getTime() - keptDays * DAY);
  const table = Prisma.raw(`"${definition.table}"`);
  const maxBatches = options.maxBatches ?? 1000;
  // Batches walk the primary key (uuid v7 ids are time-ordered): each finds the id `batchSize`
  // eligible rows on, then removes the eligible rows up to it by an index range. A batch never
  // rescans the index entries its predecessors deleted (vacuum has not removed them yet), and
  // needs no join. Only finished, ended or settled rows are eligible, so nobody else is writing
  // them and a batch does not wait on anyone's lock.
  const key = (id: string) => (definition.idType === "uuid" ? Prisma.sql`${id}::uuid` : Prisma.sql`${id}`);
  let after: string | null = null;
  for (;;) {
    if (result.batches >= maxBatches) {
      result.more = true;
      break;
    }
    const from: Prisma.Sql = after === null ? Prisma.empty : Prisma.sql`AND id > ${key(after)}`;
    const eligible: Prisma.Sql = Prisma.sql`${definition.eligible(cutoff)} ${from}`;
    const started = performance.now();
    const [edge]: { boundary: string }[] = await db.$queryRaw<{ boundary: string }[]>`
      SELECT id::text AS boundary FROM ${table} WHERE ${eligible} ORDER BY id OFFSET ${options.batchSize - 1} LIMIT 1`;
    const upTo = edge ? Prisma.sql`AND id <= ${key(edge.boundary)}` : Prisma.empty;
    const count =
      definition.removes === "rows"
        ? await db.$executeRaw`DELETE FROM ${table} WHERE ${eligible} ${upTo}`
        : await db.$executeRaw`UPDATE ${table} SET payload = '{}'::jsonb WHERE ${eligible} ${upTo}`;
    result.longestBatchMs = Math.max(result.longestBatchMs, performance.now() - started);
    result.batches++;
    result.removed += count;
    if (!edge) break;
    after = edge.boundary;
  }
  result.longestBatchMs = Math.round(result.longestBatchMs * 10) / 10;
  return result;
}

/** One retention run over every target; audited when anything was removed. */
export async function applyRetention(
  db: Db,
  settings: RetentionSettings,
  options: PurgeOptions,
  now = new Date(),
): Promise<PurgeResult[]> {
  const results: PurgeResult[] = [];
  for (const target of retentionTargets) results.push(await purgeTarget(db, target, settings[target], options, now));
  const removed = results.filter((result) => result.removed > 0);
  if (removed.length > 0)
    await recordAudit(db, systemActor("data-retention"), {
      action: "retention.purge",
      targetType: "Retention",
      after: Object.fromEntries(removed.map((result) => [result.target, result.removed])),
      reason: removed.map((result) => `${result.table}: older than ${result.keptDays} days`).join("; "),
    });
  return results;
}

export function describeRetention(results: readonly PurgeResult[]): string {
  const removed = results.filter((result) => result.removed > 0);
  if (removed.length === 0) return "nothing past its retention";
  return removed
    .map(
      (result) =>
        `${result.table}: ${result.removed} ${result.removes === "payloads" ? "payloads cleared" : "removed"} (> ${result.keptDays} d${result.more ? ", more next run" : ""})`,
    )
    .join("; ");
}
