// Maintenance windows: ADMINs declare them; everyone signed in sees them (the overview shows the
// active ones). Resolvers validate and call core (core/src/maintenanceWindows.ts).
import {
  endMaintenanceWindow,
  listMaintenanceWindows,
  MAX_WINDOW_MS,
  maintenanceWindowState,
  scheduleMaintenanceWindow,
} from "@steward/core/maintenanceWindows";
import { z } from "zod";
import { builder } from "../builder.ts";
import { commonMutationErrors } from "./errors.ts";

const MaintenanceWindowStateEnum = builder.enumType("MaintenanceWindowState", {
  values: ["SCHEDULED", "ACTIVE", "ENDED", "CANCELLED"] as const,
});

const MaintenanceWindowNode = builder.prismaNode("MaintenanceWindow", {
  id: { field: "id" },
  authScopes: { viewer: true },
  description:
    "Planned work: alerts of the listed rules are still raised and shown, but notify no channel between startsAt and endsAt.",
  fields: (t) => ({
    title: t.exposeString("title"),
    startsAt: t.expose("startsAt", { type: "DateTime" }),
    endsAt: t.expose("endsAt", { type: "DateTime" }),
    ruleKeys: t.exposeStringList("ruleKeys", { description: "Alert rules it mutes; empty: every rule." }),
    state: t.field({
      type: MaintenanceWindowStateEnum,
      select: { startsAt: true, endsAt: true, cancelledAt: true },
      resolve: (window) => maintenanceWindowState(window),
    }),
    cancelledAt: t.expose("cancelledAt", { type: "DateTime", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const MaintenanceWindowInput = builder.inputType("MaintenanceWindowInput", {
  fields: (t) => ({
    title: t.string({ validate: z.string().trim().min(3).max(200) }),
    startsAt: t.field({ type: "DateTime" }),
    endsAt: t.field({ type: "DateTime", description: `At most ${MAX_WINDOW_MS / 86_400_000} days after startsAt.` }),
    ruleKeys: t.stringList({
      description: "Alert rule keys (see alertRules); empty: every rule.",
      validate: z.array(z.string().max(100)).max(50),
    }),
  }),
});

builder.queryFields((t) => ({
  maintenanceWindows: t.prismaField({
    type: ["MaintenanceWindow"],
    description: "Scheduled and active windows (soonest first), then those ended in the last 7 days.",
    authScopes: { viewer: true },
    args: { activeOnly: t.arg.boolean({ required: false }) },
    resolve: (_query, _root, args, { db }) => listMaintenanceWindows(db, { activeOnly: args.activeOnly ?? false }),
  }),
}));

builder.mutationFields((t) => ({
  scheduleMaintenanceWindow: t.field({
    type: MaintenanceWindowNode,
    description: "Declare a window in advance. Audited.",
    authScopes: { admin: true },
    errors: { types: commonMutationErrors },
    args: { input: t.arg({ type: MaintenanceWindowInput }) },
    resolve: (_root, { input }, { deps, actor }) =>
      scheduleMaintenanceWindow(deps, actor, {
        title: input.title,
        startsAt: input.startsAt,
        endsAt: input.endsAt,
        ruleKeys: input.ruleKeys,
      }),
  }),
  endMaintenanceWindow: t.field({
    type: MaintenanceWindowNode,
    description: "Cancel a window not yet started, or end a running one now. Audited.",
    authScopes: { admin: true },
    errors: { types: commonMutationErrors },
    args: { id: t.arg.globalID({ for: MaintenanceWindowNode }) },
    resolve: (_root, args, { deps, actor }) => endMaintenanceWindow(deps, actor, { id: args.id.id }),
  }),
}));
