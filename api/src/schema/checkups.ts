// The weekly checkup's reports: the list (newest first), one report with its findings, and
// run-now. Core runs the checks, stores, audits and notifies.
import { type CheckupFinding, checkupDeps, runWeeklyCheckup } from "@steward/core/checkup";
import { worstFirst } from "@steward/core/severity";
import { builder } from "../builder.ts";
import { commonMutationErrors } from "./errors.ts";
import { JobTriggerEnum } from "./jobs.ts";
import { SeverityEnum } from "./severity.ts";

const FindingCategoryEnum = builder.enumType("CheckupFindingCategory", {
  values: ["REVENUE_PATH", "DATA_INTEGRITY", "KPI", "TABLE_GROWTH", "SECURITY"] as const,
});

const FindingType = builder.objectRef<CheckupFinding>("CheckupFinding").implement({
  fields: (t) => ({
    key: t.exposeString("key"),
    category: t.expose("category", { type: FindingCategoryEnum }),
    severity: t.expose("severity", { type: SeverityEnum }),
    title: t.exposeString("title"),
    detail: t.exposeString("detail"),
    data: t.expose("data", { type: "JSON", nullable: true }),
  }),
});

export const WeeklyCheckupNode = builder.prismaNode("CheckupReport", {
  name: "WeeklyCheckup",
  id: { field: "id" },
  // Reachable from `overview.lastCheckup`, which metrics tokens read.
  authScopes: { $any: { viewer: true, token: "metrics:read" } },
  fields: (t) => ({
    overall: t.expose("overall", { type: SeverityEnum }),
    summary: t.exposeString("summary"),
    trigger: t.expose("trigger", { type: JobTriggerEnum }),
    durationMs: t.exposeInt("durationMs", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    findings: t.field({
      type: [FindingType],
      description: "Worst first.",
      select: { findings: true },
      resolve: (report) => {
        const findings = Array.isArray(report.findings) ? (report.findings as unknown as CheckupFinding[]) : [];
        return [...findings].sort((a, b) => worstFirst(a.severity, b.severity));
      },
    }),
  }),
});

builder.queryFields((t) => ({
  weeklyCheckups: t.prismaConnection({
    type: "CheckupReport",
    cursor: "id",
    maxSize: 100,
    description: "Weekly checkup reports, newest first.",
    authScopes: { viewer: true },
    resolve: (query, _root, _args, { db }) => db.checkupReport.findMany({ ...query, orderBy: { id: "desc" } }),
  }),
  weeklyCheckup: t.prismaField({
    type: "CheckupReport",
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.globalID({ for: WeeklyCheckupNode }) },
    resolve: (query, _root, args, { db }) => db.checkupReport.findUnique({ ...query, where: { id: args.id.id } }),
  }),
}));

builder.mutationFields((t) => ({
  // t.field, not t.prismaField: a prisma mutation with `errors` fails when a caller selects only
  // `__typename` (an empty select), so core's stored row is returned as it is.
  runWeeklyCheckup: t.field({
    type: WeeklyCheckupNode,
    description: "Run the weekly checkup now: the report is stored and notified like the Sunday one.",
    authScopes: { operator: true },
    errors: { types: commonMutationErrors },
    resolve: async (_root, _args, { deps, actor }) =>
      (await runWeeklyCheckup(checkupDeps(deps), actor, "MANUAL")).report,
  }),
}));
