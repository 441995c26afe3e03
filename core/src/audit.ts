// The one way to record a state-changing action. Call it inside the same transaction as the
// change, so the log and the data never disagree.
import { Prisma, type DbTx } from "@steward/db/client";
import { type Actor, actorId, actorKind, actorLabel } from "./actor.ts";

export interface AuditEntry {
  action: string;
  targetType?: string;
  targetId?: string;
  before?: Prisma.InputJsonValue;
  after?: Prisma.InputJsonValue;
  reason?: string;
}

export async function recordAudit(db: DbTx, actor: Actor, entry: AuditEntry): Promise<void> {
  await db.auditEvent.create({ data: auditRow(actor, entry) });
}

function auditRow(actor: Actor, entry: AuditEntry): Prisma.AuditEventUncheckedCreateInput {
  return {
    actorKind: actorKind(actor),
    actorId: actorId(actor),
    actorLabel: actorLabel(actor),
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    before: entry.before ?? Prisma.DbNull,
    after: entry.after ?? Prisma.DbNull,
    reason: entry.reason ?? null,
  };
}

export interface AuditFilter {
  actorId?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
}

export function auditWhere(filter: AuditFilter): Prisma.AuditEventWhereInput {
  return {
    ...(filter.actorId ? { actorId: filter.actorId } : {}),
    ...(filter.action ? { action: { startsWith: filter.action } } : {}),
    ...(filter.targetType ? { targetType: filter.targetType } : {}),
    ...(filter.targetId ? { targetId: filter.targetId } : {}),
    ...(filter.from || filter.to
      ? { createdAt: { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lt: filter.to } : {}) } }
      : {}),
  };
}
