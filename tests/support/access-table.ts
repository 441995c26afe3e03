// Who may call each root field: THE table the authorization matrix test checks the API against,
// and that the README's "Who may call what" table is generated from (`npx tsx scripts/access-table.ts`).
// A new query, mutation or subscription needs one line here, or the matrix test fails.
//   roles:  anyone | viewer (VIEWER, OPERATOR, ADMIN) | operator (OPERATOR, ADMIN) | admin | none
//   tokens: API token scopes that may call it too
import { type ApiTokenScope, apiTokenScopes } from "@steward/core/permissions";

export type RoleLevel = "anyone" | "viewer" | "operator" | "admin" | "none";
export interface Access {
  roles: RoleLevel;
  tokens?: readonly ApiTokenScope[];
  /** Why, where it is not obvious. */
  note?: string;
}

export const accessTable: Record<string, Access> = {
  "Query.alert": { roles: "viewer", tokens: ["alerts:read", "alerts:write"] },
  "Query.alertRules": { roles: "viewer" },
  "Query.alerts": { roles: "viewer", tokens: ["alerts:read", "alerts:write"] },
  "Query.backups": { roles: "viewer" },
  "Query.apiTokens": { roles: "admin" },
  "Query.auditEvents": { roles: "operator" },
  "Query.bulkApprovableCount": { roles: "viewer" },
  "Query.bulkReviewDecisionPreview": { roles: "viewer" },
  "Query.business": { roles: "viewer" },
  "Query.businesses": { roles: "viewer", tokens: ["read"] },
  "Query.featureFlagHistory": { roles: "viewer" },
  "Query.featureFlags": { roles: "viewer" },
  "Query.flaggedBusinesses": { roles: "viewer" },
  "Query.healthHistory": { roles: "viewer" },
  "Query.heldPayments": { roles: "viewer" },
  "Query.healthStatus": { roles: "viewer", tokens: ["alerts:read", "alerts:write", "metrics:read"] },
  "Query.incident": { roles: "viewer" },
  "Query.incidentCommunicationPreview": { roles: "viewer" },
  "Query.incidents": { roles: "viewer" },
  "Query.jobRuns": { roles: "viewer" },
  "Query.jobs": { roles: "viewer" },
  "Query.maintenanceWindows": { roles: "viewer", note: "the overview shows the active ones" },
  "Query.marketplace": { roles: "anyone", note: "its time zone and locale; the sign-in pages show times too" },
  "Query.me": { roles: "anyone", note: "null when not signed in" },
  "Query.metrics": { roles: "viewer", tokens: ["metrics:read"] },
  "Query.operatingMetrics": { roles: "viewer", tokens: ["metrics:read"] },
  "Query.node": {
    roles: "viewer",
    tokens: apiTokenScopes,
    note: "any signed-in caller; the node's own type decides (null when it may not be read)",
  },
  "Query.nodes": {
    roles: "viewer",
    tokens: apiTokenScopes,
    note: "at most 100 ids; the node's own type decides (null for each it may not read)",
  },
  "Query.notificationChannels": { roles: "admin", note: "secrets are never returned" },
  "Query.operatorInvites": { roles: "admin" },
  "Query.operatorLink": { roles: "anyone", note: "holding the one-time link is the credential" },
  "Query.operators": { roles: "admin" },
  "Query.overview": { roles: "viewer", tokens: ["metrics:read"] },
  "Query.payment": { roles: "viewer", tokens: ["refunds:write"] },
  "Query.payments": { roles: "viewer" },
  "Query.publishedReviews": { roles: "viewer", tokens: ["read"] },
  "Query.queuePosition": { roles: "viewer", tokens: ["read"] },
  "Query.reconciliationRun": { roles: "viewer" },
  "Query.reconciliationRuns": { roles: "viewer" },
  "Query.refundRequest": { roles: "viewer", tokens: ["refunds:write"] },
  "Query.refundRequests": { roles: "viewer" },
  "Query.region": { roles: "viewer", tokens: ["read"] },
  "Query.regions": { roles: "viewer", tokens: ["read"] },
  "Query.review": { roles: "viewer" },
  "Query.reviewCount": { roles: "viewer" },
  "Query.reviewQueueStats": { roles: "viewer" },
  "Query.reviews": { roles: "viewer" },
  "Query.webhookEvents": { roles: "viewer" },
  "Query.weeklyCheckup": { roles: "viewer" },
  "Query.weeklyCheckups": { roles: "viewer" },
  "Mutation.acceptHeldPayment": { roles: "operator" },
  "Mutation.acceptInvite": { roles: "anyone", note: "holding the one-time link is the credential" },
  "Mutation.acknowledgeAlert": { roles: "operator", tokens: ["alerts:write"] },
  "Mutation.approveRefund": { roles: "operator" },
  "Mutation.endMaintenanceWindow": { roles: "admin" },
  "Mutation.replayWebhookEvents": { roles: "operator", note: "re-fetched from Stripe; idempotent, audited per event" },
  "Mutation.scheduleMaintenanceWindow": { roles: "admin" },
  "Mutation.approveReview": { roles: "operator" },
  "Mutation.emailQueuePosition": { roles: "operator" },
  "Mutation.flagBusiness": { roles: "operator" },
  "Mutation.unflagBusiness": { roles: "operator" },
  "Mutation.archiveBusiness": { roles: "admin", tokens: ["catalog:write"] },
  "Mutation.bulkApproveReviews": { roles: "operator" },
  "Mutation.changeOperatorRole": { roles: "admin" },
  "Mutation.changePassword": { roles: "viewer", note: "their own; needs the current password" },
  "Mutation.createApiToken": { roles: "admin" },
  "Mutation.decideReviewsInBulk": { roles: "operator" },
  "Mutation.denyRefund": { roles: "operator" },
  "Mutation.disableOperator": { roles: "admin" },
  "Mutation.enableOperator": { roles: "admin" },
  "Mutation.importCatalog": {
    roles: "admin",
    tokens: ["catalog:write"],
    note: "larger catalogs: npm run steward -- import",
  },
  "Mutation.inviteOperator": { roles: "admin" },
  "Mutation.login": { roles: "anyone" },
  "Mutation.logout": { roles: "viewer" },
  "Mutation.pauseJob": { roles: "operator" },
  "Mutation.refundHeldPayment": { roles: "operator" },
  "Mutation.recordSearch": { roles: "none", tokens: ["searches:write"] },
  "Mutation.rejectReview": { roles: "operator" },
  "Mutation.reopenReview": { roles: "operator" },
  "Mutation.requestRefund": { roles: "operator", tokens: ["refunds:write"] },
  "Mutation.resetPassword": { roles: "anyone", note: "holding the one-time link is the credential" },
  "Mutation.resolveAlert": { roles: "operator", tokens: ["alerts:write"] },
  "Mutation.resolveDiscrepancy": { roles: "operator" },
  "Mutation.resumeJob": { roles: "operator" },
  "Mutation.revokeApiToken": { roles: "admin" },
  "Mutation.revokeOperatorInvite": { roles: "admin" },
  "Mutation.revokeOperatorSessions": { roles: "admin" },
  "Mutation.runJobNow": { roles: "operator" },
  "Mutation.runWeeklyCheckup": { roles: "operator" },
  "Mutation.sendPasswordReset": { roles: "admin" },
  "Mutation.setFeatureFlag": { roles: "operator" },
  "Mutation.setRegionPrice": { roles: "admin" },
  "Mutation.setRegionSlots": { roles: "admin" },
  "Mutation.silenceAlert": { roles: "operator" },
  "Mutation.openIncident": { roles: "operator" },
  "Mutation.resolveIncident": { roles: "operator" },
  "Mutation.sendIncidentCommunication": { roles: "operator" },
  "Mutation.setAlertIncidentSeverity": { roles: "operator" },
  "Mutation.updateIncident": { roles: "operator" },
  "Mutation.startReconciliation": { roles: "operator" },
  "Mutation.submitReview": { roles: "none", tokens: ["reviews:write"] },
  "Mutation.testNotificationChannel": { roles: "admin" },
  "Mutation.updateAlertRule": { roles: "admin" },
  "Mutation.upsertBusiness": { roles: "admin", tokens: ["catalog:write"] },
  "Mutation.upsertNotificationChannel": { roles: "admin" },
  "Mutation.upsertRegion": { roles: "admin", tokens: ["catalog:write"] },
  "Subscription.alertChanged": { roles: "viewer", tokens: ["alerts:read", "alerts:write"] },
  "Subscription.healthChanged": { roles: "viewer", tokens: ["alerts:read", "alerts:write", "metrics:read"] },
  "Subscription.jobRunRecorded": { roles: "viewer" },
  "Subscription.metricsUpdated": { roles: "viewer", tokens: ["metrics:read"] },
  "Subscription.reconciliationRunUpdated": { roles: "viewer" },
  "Subscription.refundRequestChanged": { roles: "viewer" },
  "Subscription.reviewQueueChanged": { roles: "viewer" },
};

// ───────────────────────────── Object types and their fields ─────────────────────────────
// Who may read each object type, wherever it appears (a field that returns it, node(id:)), and
// the fields narrower than their type. THE place to add a rule for a new type: the matrix test
// walks the schema and fails, naming the type, when one has no row here.
//   - a role level and token scopes, as for root fields; `ownTokens`: scopes that read only the
//     objects they created (a reviews:write token, its own reviews);
//   - "parent": nothing personal or internal of its own, so whoever may read the field that
//     returns it may read it (totals, eligibility, …);
//   - `fields`: for a type API tokens may read, EVERY field, each "type" (as the type) or its own
//     narrower rule, so a new field is decided on, not leaked by default. Other types list only
//     their narrower fields.
// Not listed, because their shape says what they are: connections and their edges (as the field
// that returns them), PageInfo, mutation/query `…Success` payloads and `Error` types ("parent").

export interface TypeAccess extends Access {
  ownTokens?: readonly ApiTokenScope[];
  fields?: Record<string, Access | "type">;
}
export type TypeRule = TypeAccess | "parent";

/** Operators (any role), never API tokens nor anonymous callers. */
const operatorsOnly: Access = { roles: "viewer" };
const viewer: TypeAccess = { roles: "viewer" };

export const typeAccess: Record<string, TypeRule> = {
  AiUptimeMetric: "parent",
  AiProviderMetric: {
    roles: "viewer",
    tokens: ["metrics:read"],
    fields: {
      budgetCents: "type",
      callsThisMonth: "type",
      costSource: "type",
      costThisMonthCents: "type",
      health: "type",
      mode: "type",
    },
  },
  Alert: {
    roles: "viewer",
    tokens: ["alerts:read", "alerts:write"],
    note: "on-call tools read alerts; who acknowledged and the incident record stay with operators",
    fields: {
      acknowledgedAt: "type",
      acknowledgedBy: "type",
      conditionStillHolds: "type",
      count: "type",
      deliveries: "type",
      detail: "type",
      fingerprint: "type",
      firstSeenAt: "type",
      id: "type",
      incident: operatorsOnly,
      incidentSeverity: "type",
      incidentSeverityOverridden: "type",
      labels: "type",
      lastSeenAt: "type",
      resolutionNote: "type",
      resolvedAt: "type",
      respondBy: "type",
      responseOverdue: "type",
      repeatRefunders: { roles: "viewer", note: "businesses to flag: operators only" },
      ruleIncidentSeverity: "type",
      ruleKey: "type",
      severity: "type",
      silenced: "type",
      silencedUntil: "type",
      status: "type",
      timeToAcknowledgeSeconds: "type",
      timeToResolveSeconds: "type",
      timeline: "type",
      title: "type",
    },
  },
  AlertEvent: {
    roles: "viewer",
    tokens: ["alerts:read", "alerts:write"],
    fields: { actorKind: "type", createdAt: "type", id: "type", kind: "type", message: "type" },
  },
  AlertRule: viewer,
  ApiToken: { roles: "admin" },
  AuditEvent: { roles: "operator" },
  Backup: viewer,
  BusinessUpsertResult: "parent",
  CatalogImportReport: "parent",
  CatalogLineError: "parent",
  RegionUpsertResult: "parent",
  BulkReviewDecisionOutcome: "parent",
  BulkReviewDecisionPreview: "parent",
  Business: {
    roles: "viewer",
    tokens: ["read"],
    fields: {
      externalId: "type",
      archivedAt: operatorsOnly,
      id: "type",
      name: "type",
      region: "type",
      email: operatorsOnly,
      status: operatorsOnly,
      flagNote: operatorsOnly,
      createdAt: operatorsOnly,
      payments: operatorsOnly,
      placements: operatorsOnly,
      refundRequests: operatorsOnly,
      reviews: operatorsOnly,
      queuePosition: operatorsOnly,
      flaggedAt: operatorsOnly,
      emails: operatorsOnly,
      queueDispute: operatorsOnly,
      queuePositionEmail: { roles: "operator", note: "the email an operator may send" },
    },
  },
  BusinessEmail: "parent",
  BusinessAhead: { roles: "viewer", tokens: ["read"], fields: { name: "type", purchasedAt: "type" } },
  ChannelTestResult: { roles: "admin" },
  CheckupFinding: {
    roles: "viewer",
    tokens: ["metrics:read"],
    fields: { category: "type", data: "type", detail: "type", key: "type", severity: "type", title: "type" },
  },
  CreatedApiToken: { roles: "admin", note: "the secret, shown once to the admin who created it" },
  DayValue: "parent",
  DeliveryAttempt: {
    roles: "viewer",
    tokens: ["alerts:read", "alerts:write"],
    fields: { attempt: "type", createdAt: "type", error: "type", ok: "type", responseCode: "type" },
  },
  Discrepancy: viewer,
  FeatureFlag: viewer,
  FeatureFlagChange: viewer,
  FeatureFlagProposal: viewer,
  EndedEarlyMetric: "parent",
  FeaturedAdoption: "parent",
  FieldIssue: "parent",
  HealthCheck: {
    roles: "viewer",
    tokens: ["alerts:read", "alerts:write", "metrics:read"],
    fields: { check: "type", latest: "type" },
  },
  HealthCheckResult: {
    roles: "viewer",
    tokens: ["alerts:read", "alerts:write", "metrics:read"],
    fields: { checkedAt: "type", detail: "type", latencyMs: "type", ok: "type", status: "type", value: "type" },
  },
  HealthCheckState: {
    roles: "viewer",
    tokens: ["metrics:read"],
    fields: { check: "type", checkedAt: "type", detail: "type", latencyMs: "type", state: "type" },
  },
  HealthPoint: viewer,
  HealthStatus: {
    roles: "viewer",
    tokens: ["alerts:read", "alerts:write", "metrics:read"],
    fields: { checkedAt: "type", checks: "type", overall: "type", stale: "type" },
  },
  Incident: viewer,
  IncidentCommunication: viewer,
  IncidentCommunicationPreview: "parent",
  IncidentCommunicationSent: "parent",
  IncidentTimelineEntry: "parent",
  Job: viewer,
  JobDue: { roles: "viewer", tokens: ["metrics:read"], fields: { lastSuccessAt: "type", name: "type", state: "type" } },
  JobRun: viewer,
  JobStatusMetric: {
    roles: "viewer",
    tokens: ["metrics:read"],
    fields: { jobName: "type", startedAt: "type", status: "type" },
  },
  JobsMetric: { roles: "viewer", tokens: ["metrics:read"], fields: { failing: "type", latest: "type" } },
  LoginPayload: {
    roles: "anyone",
    note: "the answer to a successful login, to the operator signing in",
    fields: { operator: "type", session: "type" },
  },
  MetricCount: "parent",
  Metrics: {
    roles: "viewer",
    tokens: ["metrics:read"],
    fields: {
      aiProvider: "type",
      computedAt: "type",
      featuredAdoption: "type",
      jobs: "type",
      queueBacklog: "type",
      refundRate: "type",
      revenue: "type",
      searchVolume: "type",
      stripe: "type",
      timeZone: "type",
      today: "type",
    },
  },
  NotificationChannel: { roles: "admin", note: "secrets are never returned" },
  NotificationDelivery: {
    roles: "viewer",
    tokens: ["alerts:read", "alerts:write"],
    fields: {
      attemptLog: "type",
      attempts: "type",
      channelKind: "type",
      channelName: "type",
      createdAt: "type",
      event: "type",
      id: "type",
      lastError: "type",
      nextAttemptAt: "type",
      sentAt: "type",
      status: "type",
    },
  },
  Marketplace: "parent",
  RepeatRefunder: "parent",
  Operator: {
    roles: "viewer",
    note: "operators' identities never reach API tokens; login's answer shows the operator signing in",
    fields: { createdAt: { roles: "admin" }, disabledAt: { roles: "admin" }, openSessions: { roles: "admin" } },
  },
  OperatorInvite: { roles: "admin" },
  OperatorLinkInfo: "parent",
  Overview: {
    roles: "viewer",
    tokens: ["metrics:read"],
    fields: {
      health: "type",
      jobsDue: "type",
      lastCheckup: "type",
      metrics: "type",
      openAlerts: "type",
      pendingTasks: "type",
      recentAlerts: "type",
      status: "type",
      statusCauses: "type",
    },
  },
  OverviewAlert: {
    roles: "viewer",
    tokens: ["metrics:read"],
    fields: {
      count: "type",
      detail: "type",
      firstSeenAt: "type",
      id: "type",
      lastSeenAt: "type",
      severity: "type",
      status: "type",
      title: "type",
    },
  },
  Payment: {
    roles: "viewer",
    tokens: ["refunds:write"],
    fields: {
      holdReason: "type",
      holdDetail: "type",
      heldAt: "type",
      holdResolution: "type",
      holdResolvedAt: "type",
      id: "type",
      stripeChargeId: "type",
      business: "type",
      amountCents: "type",
      refundedCents: "type",
      currency: "type",
      status: "type",
      purchasedAt: "type",
      createdAt: "type",
      placement: "type",
      refundRequests: "type",
      refundEligibility: "type",
    },
  },
  PendingTask: {
    roles: "viewer",
    tokens: ["metrics:read"],
    fields: {
      count: "type",
      estimatedMinutes: "type",
      href: "type",
      kind: "type",
      label: "type",
      minutesEach: "type",
      priority: "type",
    },
  },
  PeriodAmount: "parent",
  Placement: {
    roles: "viewer",
    tokens: ["read"],
    fields: {
      endReason: "type",
      id: "type",
      business: "type",
      status: "type",
      purchasedAt: "type",
      activatedAt: "type",
      featuredUntil: "type",
    },
  },
  QueueDisputeCheck: "parent",
  QueueEmailPreview: "parent",
  QueueEmailSent: "parent",
  QueueOrderProblem: "parent",
  OperatingMetrics: {
    roles: "viewer",
    tokens: ["metrics:read"],
    fields: {
      aiUptime: "type",
      computedAt: "type",
      endedEarly: "type",
      paymentFailureRate: "type",
      queueVelocity: "type",
      queueWait: "type",
      refundsByReason: "type",
      refundsByRegion: "type",
      timeZone: "type",
      topSearchTerms: "type",
    },
  },
  PaymentFailureMetric: "parent",
  QueueBacklog: { roles: "viewer", tokens: ["metrics:read"], fields: { regions: "type", total: "type" } },
  QueueVelocityMetric: "parent",
  QueueWaitMetric: "parent",
  QueuePosition: {
    roles: "viewer",
    tokens: ["read"],
    fields: {
      status: "type",
      position: "type",
      businessesAhead: "type",
      featuredUntil: "type",
      estimatedActivation: "type",
    },
  },
  ReasonCount: "parent",
  ReconciliationRun: viewer,
  ReconciliationTotals: "parent",
  RefundEligibility: "parent",
  RefundRate: {
    roles: "viewer",
    tokens: ["metrics:read"],
    fields: { payments: "type", rate: "type", refunded: "type", threshold: "type", windowDays: "type" },
  },
  RefundRequest: {
    roles: "viewer",
    tokens: ["refunds:write"],
    fields: {
      id: "type",
      status: "type",
      reason: "type",
      payment: "type",
      business: "type",
      amountCents: "type",
      currency: "type",
      purchasedAt: "type",
      eligibility: "type",
      decidedAt: "type",
      denialNote: "type",
      stripeRefundId: "type",
      createdAt: "type",
      requestedBy: { ...operatorsOnly, note: "names an operator or a token" },
      decidedBy: operatorsOnly,
      failureMessage: { ...operatorsOnly, note: "Stripe's internal detail" },
    },
  },
  Region: {
    roles: "viewer",
    tokens: ["read"],
    fields: {
      externalId: "type",
      placementPriceCents: "type",
      placementCurrency: "type",
      id: "type",
      slug: "type",
      name: "type",
      featuredSlots: "type",
      activePlacements: "type",
      queue: "type",
    },
  },
  RegionBacklog: {
    roles: "viewer",
    tokens: ["metrics:read"],
    fields: { active: "type", name: "type", queued: "type", regionId: "type", slots: "type" },
  },
  RejectedCount: "parent",
  RevenueMetric: {
    roles: "viewer",
    tokens: ["metrics:read"],
    fields: { currency: "type", daily: "type", ltm: "type", mtd: "type", projectedMonthEndCents: "type", wtd: "type" },
  },
  Review: {
    roles: "viewer",
    tokens: ["read"],
    ownTokens: ["reviews:write"],
    note: "read: approved reviews only; reviews:write: only the reviews it submitted",
    fields: {
      id: "type",
      business: "type",
      rating: "type",
      body: "type",
      status: "type",
      createdAt: "type",
      decidedAt: "type",
      source: { ...operatorsOnly, note: "names the submitting token or operator" },
      aiConfidence: operatorsOnly,
      aiProvider: operatorsOnly,
      rejectionReason: operatorsOnly,
      moderatorNote: operatorsOnly,
      suggestedReason: operatorsOnly,
      suggestedSignals: operatorsOnly,
      moderator: operatorsOnly,
      version: operatorsOnly,
      scores: operatorsOnly,
      decisions: operatorsOnly,
    },
  },
  ReviewDecision: viewer,
  ReviewQueueStats: viewer,
  ReviewScore: viewer,
  RuleThreshold: viewer,
  SearchEvent: {
    roles: "viewer",
    tokens: ["searches:write"],
    fields: { id: "type", query: "type", resultCount: "type", occurredAt: "type" },
  },
  SearchVolume: {
    roles: "viewer",
    tokens: ["metrics:read"],
    fields: { averagePerDay: "type", change: "type", daily: "type", today: "type" },
  },
  Session: { roles: "anyone", note: "login's answer: when the new session expires", fields: { expiresAt: "type" } },
  StripeMetric: { roles: "viewer", tokens: ["metrics:read"], fields: { api: "type", webhooks: "type" } },
  StripeWebhookEvent: viewer,
  MaintenanceWindow: viewer,
  WebhookReplay: "parent",
  SuggestionOverrides: "parent",
  WeeklyCheckup: {
    roles: "viewer",
    tokens: ["metrics:read"],
    fields: {
      createdAt: "type",
      durationMs: "type",
      findings: "type",
      id: "type",
      overall: "type",
      summary: "type",
      trigger: "type",
    },
  },
};

/** Whether a type's rule lets API tokens read some of it: then every field needs its own row. */
export function tokensMayRead(rule: TypeRule): rule is TypeAccess {
  return (
    rule !== "parent" && (rule.roles === "anyone" || (rule.tokens ?? []).length + (rule.ownTokens ?? []).length > 0)
  );
}

/** A field's rule: its own row, else its type's. */
export function fieldAccess(rule: TypeAccess, field: string): Access {
  const own = rule.fields?.[field];
  return own === undefined || own === "type" ? rule : own;
}

export const roles = ["VIEWER", "OPERATOR", "ADMIN"] as const;
export type Principal = "anonymous" | (typeof roles)[number] | `token:${ApiTokenScope}`;

const rolesAllowed: Record<RoleLevel, readonly string[]> = {
  anyone: ["anonymous", ...roles],
  viewer: roles,
  operator: ["OPERATOR", "ADMIN"],
  admin: ["ADMIN"],
  none: [],
};

export function allowed(access: Access, principal: Principal): boolean {
  if (principal.startsWith("token:")) {
    return access.roles === "anyone" || (access.tokens ?? []).some((scope) => principal === `token:${scope}`);
  }
  return rolesAllowed[access.roles].includes(principal);
}

/** The README's table: one row per field, ✓ where the principal may call it. */
export function accessTableRows(principals: readonly Principal[]): string[][] {
  return [
    ["field", ...principals.map((principal) => principal.replace("token:", "token "))],
    ...Object.entries(accessTable).map(([field, access]) => [
      `\`${field}\``,
      ...principals.map((principal) => (allowed(access, principal) ? "✓" : "–")),
    ]),
  ];
}

/** The README's second table: each type, then each of its fields narrower than the type. */
export function typeAccessTableRows(principals: readonly Principal[]): string[][] {
  const cell = (access: Access, own: readonly ApiTokenScope[], principal: Principal) =>
    allowed(access, principal) ? "✓" : own.some((scope) => principal === `token:${scope}`) ? "own" : "–";
  const rows: string[][] = [["type / field", ...principals.map((principal) => principal.replace("token:", "token "))]];
  for (const [type, rule] of Object.entries(typeAccess)) {
    if (rule === "parent") {
      rows.push([`\`${type}\``, ...principals.map(() => "·")]);
      continue;
    }
    rows.push([`\`${type}\``, ...principals.map((principal) => cell(rule, rule.ownTokens ?? [], principal))]);
    for (const [field, access] of Object.entries(rule.fields ?? {})) {
      if (access === "type") continue;
      rows.push([`\`${type}.${field}\``, ...principals.map((principal) => cell(access, [], principal))]);
    }
  }
  return rows;
}

export function markdownTable([header, ...rows]: string[][]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header!), line(header!.map(() => "---")), ...rows.map(line)].join("\n");
}

export function accessTableMarkdown(principals: readonly Principal[]): string {
  const [header, ...rows] = accessTableRows(principals);
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header!), line(header!.map(() => "---")), ...rows.map(line)].join("\n");
}
