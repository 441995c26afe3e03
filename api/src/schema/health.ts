// Health status and history, alert rules (ADMIN tunes their thresholds) and feature flags
// (OPERATOR switches them with a reason). Resolvers validate their input and call core.
import { checkNames, listRules, type RuleState, type ThresholdBounds, updateAlertRule } from "@steward/core/alertRules";
import { type FlagState, flagHistory, getFlag, listFlags, setFeatureFlag } from "@steward/core/featureFlags";
import { InvalidInputError } from "@steward/core/errors";
import {
  type CheckStatus,
  type HealthOverview,
  type HealthPoint,
  healthHistory,
  healthWindows,
  type HealthWindow,
  latestHealth,
} from "@steward/core/health";
import type { FeatureFlagChange, HealthCheckResult } from "@steward/db/client";
import { z } from "zod";
import { builder } from "../builder.ts";
import { commonMutationErrors } from "./errors.ts";

// Named RagStatus (not Severity) so it never collides with the alerts' own enum; same values.
const RagStatusEnum = builder.enumType("RagStatus", {
  description: "Red / yellow / green.",
  values: ["GREEN", "YELLOW", "RED"] as const,
});
const HealthCheckNameEnum = builder.enumType("HealthCheckName", { values: checkNames });
const HealthWindowEnum = builder.enumType("HealthWindow", {
  values: Object.keys(healthWindows) as HealthWindow[],
});

const HealthCheckResultType = builder.objectRef<HealthCheckResult>("HealthCheckResult").implement({
  fields: (t) => ({
    ok: t.exposeBoolean("ok", { description: "The probe succeeded (or the measure could be taken)." }),
    status: t.expose("status", { type: RagStatusEnum }),
    latencyMs: t.exposeInt("latencyMs", { nullable: true }),
    value: t.exposeFloat("value", {
      nullable: true,
      description: "The measure: latency ms, failures, errors %, p95 ms, queued, refund %.",
    }),
    detail: t.exposeString("detail", { nullable: true }),
    checkedAt: t.expose("checkedAt", { type: "DateTime" }),
  }),
});

const HealthCheckType = builder.objectRef<CheckStatus>("HealthCheck").implement({
  fields: (t) => ({
    check: t.expose("check", { type: HealthCheckNameEnum }),
    latest: t.field({ type: HealthCheckResultType, nullable: true, resolve: (status) => status.latest }),
  }),
});

const HealthStatusType = builder.objectRef<HealthOverview>("HealthStatus").implement({
  fields: (t) => ({
    overall: t.expose("overall", { type: RagStatusEnum }),
    checkedAt: t.expose("checkedAt", { type: "DateTime", nullable: true }),
    stale: t.exposeBoolean("stale", {
      description: "No health-checks run for 5 minutes (the overall is then at least YELLOW).",
    }),
    checks: t.field({ type: [HealthCheckType], resolve: (overview) => overview.checks }),
  }),
});

const HealthPointType = builder.objectRef<HealthPoint>("HealthPoint").implement({
  fields: (t) => ({
    at: t.expose("at", { type: "DateTime" }),
    ok: t.exposeBoolean("ok"),
    value: t.exposeFloat("value", { nullable: true }),
    status: t.expose("status", { type: RagStatusEnum }),
  }),
});

interface ThresholdView {
  name: string;
  value: number;
  default: number;
  bounds: ThresholdBounds | undefined;
}

const ThresholdType = builder.objectRef<ThresholdView>("RuleThreshold").implement({
  fields: (t) => ({
    name: t.exposeString("name"),
    value: t.exposeFloat("value"),
    default: t.exposeFloat("default"),
    min: t.float({ nullable: true, resolve: (threshold) => threshold.bounds?.min ?? null }),
    minExclusive: t.boolean({
      description: "The minimum itself is not allowed.",
      resolve: (threshold) => threshold.bounds?.minExclusive ?? false,
    }),
    max: t.float({ nullable: true, resolve: (threshold) => threshold.bounds?.max ?? null }),
    integer: t.boolean({ resolve: (threshold) => threshold.bounds?.integer ?? false }),
  }),
});

const AlertRuleType = builder.objectRef<RuleState>("AlertRule").implement({
  fields: (t) => ({
    key: t.exposeString("key"),
    title: t.exposeString("title"),
    description: t.exposeString("description"),
    severity: t.expose("severity", { type: RagStatusEnum }),
    check: t.expose("check", { type: HealthCheckNameEnum }),
    tunable: t.exposeBoolean("tunable", {
      description: "False for conditions raised elsewhere (jobs, reconciliation).",
    }),
    enabled: t.exposeBoolean("enabled"),
    thresholds: t.field({
      type: [ThresholdType],
      resolve: (rule) =>
        Object.entries(rule.thresholds).map(([name, value]) => ({
          name,
          value,
          default: rule.defaults[name] ?? value,
          bounds: rule.bounds[name],
        })),
    }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", nullable: true }),
  }),
});

const ThresholdInput = builder.inputType("RuleThresholdInput", {
  fields: (t) => ({
    name: t.string({ validate: z.string().min(1).max(60) }),
    value: t.float(),
  }),
});

const FlagProposalType = builder
  .objectRef<{ value: string; reason: string; proposedAt: Date }>("FeatureFlagProposal")
  .implement({
    description: "A change the system suggests but does not make itself.",
    fields: (t) => ({
      value: t.exposeString("value"),
      reason: t.exposeString("reason"),
      proposedAt: t.expose("proposedAt", { type: "DateTime" }),
    }),
  });

const FlagChangeType = builder.objectRef<FeatureFlagChange>("FeatureFlagChange").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    flagKey: t.exposeString("flagKey"),
    fromValue: t.exposeString("fromValue"),
    toValue: t.exposeString("toValue"),
    reason: t.exposeString("reason"),
    actorKind: t.exposeString("actorKind", { description: "OPERATOR or SYSTEM (automation)." }),
    actorLabel: t.exposeString("actorLabel"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const FeatureFlagType = builder.objectRef<FlagState>("FeatureFlag").implement({
  fields: (t) => ({
    key: t.exposeString("key"),
    value: t.exposeString("value"),
    values: t.exposeStringList("values", { description: "The values this flag takes." }),
    description: t.exposeString("description"),
    updatedAt: t.expose("updatedAt", { type: "DateTime", nullable: true }),
    proposal: t.field({
      type: FlagProposalType,
      nullable: true,
      resolve: (flag) =>
        flag.proposedValue !== null && flag.proposalReason !== null && flag.proposedAt !== null
          ? { value: flag.proposedValue, reason: flag.proposalReason, proposedAt: flag.proposedAt }
          : null,
    }),
    history: t.field({
      type: [FlagChangeType],
      description: "Changes, newest first.",
      args: { limit: t.arg.int({ required: false, validate: z.number().int().min(1).max(200).nullish() }) },
      resolve: (flag, args, { db }) => flagHistory(db, flag.key, args.limit ?? 50),
    }),
  }),
});

/** On-call state: alert tools and metrics tools both read the current health. */
const healthReaders = { $any: { viewer: true, anyToken: ["alerts:read", "alerts:write", "metrics:read"] } } as const;

builder.queryFields((t) => ({
  healthStatus: t.field({
    type: HealthStatusType,
    description: "Overall red/yellow/green and each check with its latest result.",
    authScopes: healthReaders,
    resolve: (_root, _args, { db, deps }) => latestHealth(db, new Date(), deps.sql),
  }),
  healthHistory: t.field({
    type: [HealthPointType],
    description: "A check's results over a window, oldest first (at most 300 points), for charts.",
    authScopes: { viewer: true },
    args: {
      check: t.arg({ type: HealthCheckNameEnum }),
      window: t.arg({ type: HealthWindowEnum, required: false }),
    },
    resolve: (_root, args, { db }) => healthHistory(db, args.check, args.window ?? "LAST_HOUR"),
  }),
  alertRules: t.field({
    type: [AlertRuleType],
    authScopes: { viewer: true },
    resolve: (_root, _args, { db }) => listRules(db),
  }),
  featureFlags: t.field({
    type: [FeatureFlagType],
    authScopes: { viewer: true },
    resolve: (_root, _args, { db, env }) => listFlags(db, env),
  }),
  featureFlagHistory: t.field({
    type: [FlagChangeType],
    description: "A flag's changes, newest first.",
    authScopes: { viewer: true },
    errors: { types: [InvalidInputError] },
    args: {
      key: t.arg.string({ validate: z.string().min(1).max(100) }),
      limit: t.arg.int({ required: false, validate: z.number().int().min(1).max(200).nullish() }),
    },
    resolve: (_root, args, { db }) => flagHistory(db, args.key, args.limit ?? 50),
  }),
}));

builder.mutationFields((t) => ({
  setFeatureFlag: t.field({
    type: FeatureFlagType,
    description: "Switch a flag (OPERATOR); the reason goes into its history and the audit log.",
    authScopes: { operator: true },
    errors: { types: commonMutationErrors },
    args: {
      key: t.arg.string({ validate: z.string().min(1).max(100) }),
      value: t.arg.string({ validate: z.string().min(1).max(100) }),
      reason: t.arg.string({ validate: z.string().max(500) }),
    },
    resolve: async (_root, args, { db, deps, env, actor }) => {
      await setFeatureFlag(deps, actor, { key: args.key, value: args.value, reason: args.reason });
      return getFlag(db, env, args.key);
    },
  }),
  updateAlertRule: t.field({
    type: AlertRuleType,
    description: "Tune a rule's thresholds or switch it off (ADMIN); each threshold is range-checked per rule.",
    authScopes: { admin: true },
    errors: { types: commonMutationErrors },
    args: {
      ruleKey: t.arg.string({ validate: z.string().min(1).max(100) }),
      enabled: t.arg.boolean({ required: false }),
      thresholds: t.arg({ type: [ThresholdInput], required: false, validate: z.array(z.unknown()).max(20).nullish() }),
    },
    resolve: (_root, args, { deps, actor }) => {
      const thresholds = args.thresholds ? Object.fromEntries(args.thresholds.map((t) => [t.name, t.value])) : null;
      if (args.thresholds && Object.keys(thresholds ?? {}).length !== args.thresholds.length)
        throw new InvalidInputError("Each threshold may be named once", "thresholds");
      return updateAlertRule(deps, actor, { ruleKey: args.ruleKey, enabled: args.enabled ?? null, thresholds });
    },
  }),
}));

builder.subscriptionFields((t) => ({
  healthChanged: t.field({
    type: HealthStatusType,
    description: "A health-checks run finished (on any worker): the status as it is now.",
    authScopes: healthReaders,
    subscribe: (_root, _args, { events }) => events.subscribe("healthChanged"),
    resolve: (_event, _args, { db, deps }) => latestHealth(db, new Date(), deps.sql),
  }),
}));
