// Who may call each root field: THE table the authorization matrix test checks the API against,
// and that the README's "Who may call what" table is generated from (`npx tsx scripts/access-table.ts`).
// A new query, mutation or subscription needs one line here, or the matrix test fails.
//   roles:  anyone | viewer (VIEWER, OPERATOR, ADMIN) | operator (OPERATOR, ADMIN) | admin | none
//   tokens: API token scopes that may call it too
import type { ApiTokenScope } from "@steward/core/permissions";

export type RoleLevel = "anyone" | "viewer" | "operator" | "admin" | "none";
export interface Access {
  roles: RoleLevel;
  tokens?: readonly ApiTokenScope[];
  /** Why, where it is not obvious. */
  note?: string;
}

export const accessTable: Record<string, Access> = {
  "Query.alert": { roles: "viewer" },
  "Query.alertRules": { roles: "viewer" },
  "Query.alerts": { roles: "viewer" },
  "Query.apiTokens": { roles: "admin" },
  "Query.auditEvents": { roles: "operator" },
  "Query.bulkApprovableCount": { roles: "viewer" },
  "Query.business": { roles: "viewer" },
  "Query.businesses": { roles: "viewer", tokens: ["read"] },
  "Query.featureFlagHistory": { roles: "viewer" },
  "Query.featureFlags": { roles: "viewer" },
  "Query.healthHistory": { roles: "viewer" },
  "Query.heldPayments": { roles: "viewer" },
  "Query.healthStatus": { roles: "viewer" },
  "Query.jobRuns": { roles: "viewer" },
  "Query.jobs": { roles: "viewer" },
  "Query.me": { roles: "anyone", note: "null when not signed in" },
  "Query.metrics": { roles: "viewer" },
  "Query.node": { roles: "anyone", note: "the node's own type decides who sees it" },
  "Query.nodes": { roles: "anyone", note: "the node's own type decides who sees it" },
  "Query.notificationChannels": { roles: "admin", note: "secrets are never returned" },
  "Query.overview": { roles: "viewer" },
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
  "Query.reviewQueueStats": { roles: "viewer" },
  "Query.reviews": { roles: "viewer" },
  "Query.webhookEvents": { roles: "viewer" },
  "Query.weeklyCheckup": { roles: "viewer" },
  "Query.weeklyCheckups": { roles: "viewer" },
  "Mutation.acceptHeldPayment": { roles: "operator" },
  "Mutation.acknowledgeAlert": { roles: "operator" },
  "Mutation.approveRefund": { roles: "operator" },
  "Mutation.approveReview": { roles: "operator" },
  "Mutation.archiveBusiness": { roles: "admin", tokens: ["catalog:write"] },
  "Mutation.bulkApproveReviews": { roles: "operator" },
  "Mutation.createApiToken": { roles: "admin" },
  "Mutation.denyRefund": { roles: "operator" },
  "Mutation.importCatalog": {
    roles: "admin",
    tokens: ["catalog:write"],
    note: "larger catalogs: npm run steward -- import",
  },
  "Mutation.login": { roles: "anyone" },
  "Mutation.logout": { roles: "viewer" },
  "Mutation.pauseJob": { roles: "operator" },
  "Mutation.refundHeldPayment": { roles: "operator" },
  "Mutation.recordSearch": { roles: "none", tokens: ["searches:write"] },
  "Mutation.rejectReview": { roles: "operator" },
  "Mutation.reopenReview": { roles: "operator" },
  "Mutation.requestRefund": { roles: "operator", tokens: ["refunds:write"] },
  "Mutation.resolveAlert": { roles: "operator" },
  "Mutation.resolveDiscrepancy": { roles: "operator" },
  "Mutation.resumeJob": { roles: "operator" },
  "Mutation.revokeApiToken": { roles: "admin" },
  "Mutation.revokeOperatorSessions": { roles: "admin" },
  "Mutation.runJobNow": { roles: "operator" },
  "Mutation.runWeeklyCheckup": { roles: "operator" },
  "Mutation.setFeatureFlag": { roles: "operator" },
  "Mutation.setRegionPrice": { roles: "admin" },
  "Mutation.setRegionSlots": { roles: "admin" },
  "Mutation.silenceAlert": { roles: "operator" },
  "Mutation.startReconciliation": { roles: "operator" },
  "Mutation.submitReview": { roles: "none", tokens: ["reviews:write"] },
  "Mutation.testNotificationChannel": { roles: "admin" },
  "Mutation.updateAlertRule": { roles: "admin" },
  "Mutation.upsertBusiness": { roles: "admin", tokens: ["catalog:write"] },
  "Mutation.upsertNotificationChannel": { roles: "admin" },
  "Mutation.upsertRegion": { roles: "admin", tokens: ["catalog:write"] },
  "Subscription.alertChanged": { roles: "viewer" },
  "Subscription.healthChanged": { roles: "viewer" },
  "Subscription.jobRunRecorded": { roles: "viewer" },
  "Subscription.metricsUpdated": { roles: "viewer" },
  "Subscription.reconciliationRunUpdated": { roles: "viewer" },
  "Subscription.refundRequestChanged": { roles: "viewer" },
  "Subscription.reviewQueueChanged": { roles: "viewer" },
};

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

export function accessTableMarkdown(principals: readonly Principal[]): string {
  const [header, ...rows] = accessTableRows(principals);
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header!), line(header!.map(() => "---")), ...rows.map(line)].join("\n");
}
