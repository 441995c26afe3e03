import { auditWhere } from "@steward/core/audit";
import { z } from "zod";
import { builder } from "../builder.ts";

export const ActorKindEnum = builder.enumType("ActorKind", {
  values: ["OPERATOR", "API_TOKEN", "SYSTEM", "ANONYMOUS"] as const,
});

builder.prismaNode("AuditEvent", {
  id: { field: "id" },
  // Also guards node(id:)/nodes(ids:), which do not pass through auditEvents.
  authScopes: { operator: true },
  fields: (t) => ({
    actorKind: t.expose("actorKind", { type: ActorKindEnum }),
    actorId: t.exposeString("actorId", { nullable: true }),
    actorLabel: t.exposeString("actorLabel"),
    action: t.exposeString("action"),
    targetType: t.exposeString("targetType", { nullable: true }),
    targetId: t.exposeString("targetId", { nullable: true }),
    before: t.expose("before", { type: "JSON", nullable: true }),
    after: t.expose("after", { type: "JSON", nullable: true }),
    reason: t.exposeString("reason", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const AuditFilterInput = builder.inputType("AuditFilter", {
  fields: (t) => ({
    actorId: t.string({ required: false }),
    action: t.string({ required: false, description: "Matches actions starting with this, e.g. 'auth.'" }),
    targetType: t.string({ required: false }),
    targetId: t.string({ required: false }),
    from: t.field({ type: "DateTime", required: false }),
    to: t.field({ type: "DateTime", required: false }),
  }),
});

builder.queryFields((t) => ({
  auditEvents: t.prismaConnection({
    type: "AuditEvent",
    cursor: "id",
    maxSize: 200,
    description: "The append-only audit log, newest first.",
    authScopes: { operator: true },
    args: { filter: t.arg({ type: AuditFilterInput, required: false }) },
    // The parsed value replaces the args: passthrough keeps first/after/last/before for paging.
    validate: z
      .object({
        filter: z
          .object({ from: z.date().nullish(), to: z.date().nullish() })
          .passthrough()
          .nullish()
          .refine((f) => !f?.from || !f?.to || f.from < f.to, { message: "'from' must be before 'to'" }),
      })
      .passthrough(),
    resolve: (query, _root, args, { db }) =>
      db.auditEvent.findMany({
        ...query,
        where: auditWhere({
          actorId: args.filter?.actorId ?? undefined,
          action: args.filter?.action ?? undefined,
          targetType: args.filter?.targetType ?? undefined,
          targetId: args.filter?.targetId ?? undefined,
          from: args.filter?.from ?? undefined,
          to: args.filter?.to ?? undefined,
        }),
        orderBy: { id: "desc" },
      }),
  }),
}));
