// One of everything an operator leaves a trace on, for authorization tests: every Node type has a
// row (so node(id:) has something real to refuse), and every row that can name an operator does
// (moderator, decision actor, refund decider, acknowledger, …), so a leak would show.
import { checkNames } from "@steward/core/alertRules";
import { createApiToken } from "@steward/core/apiTokens";
import type { ApiTokenScope } from "@steward/core/permissions";
import { apiTokenScopes } from "@steward/core/permissions";
import type { Db, Role } from "@steward/db/client";
import { createOperator } from "./fixtures.ts";

export interface World {
  operators: Record<Role, { id: string; email: string; name: string }>;
  /** One API token per scope: the secret to send as a bearer token, and its id. */
  tokens: Record<ApiTokenScope, { id: string; token: string }>;
  /** Another `reviews:write` integration: it submitted the seeded reviews. */
  otherSubmitter: { id: string; token: string };
  /** A row of each Node type, by type name (the raw id, not the global id). */
  nodeIds: Record<string, string>;
  approvedReviewId: string;
  pendingReviewId: string;
  /** Strings that must never reach a caller who may not read operators (emails, names, notes). */
  operatorSecrets: string[];
}

export const globalIdOf = (type: string, id: string): string => Buffer.from(`${type}:${id}`).toString("base64");

export async function seedWorld(db: Db): Promise<World> {
  const roles: Role[] = ["VIEWER", "OPERATOR", "ADMIN"];
  const operators = {} as World["operators"];
  for (const role of roles) {
    const row = await createOperator(db, role, `${role.toLowerCase()}.identity@test.example`);
    operators[role] = { id: row.id, email: row.email, name: row.name };
  }
  const admin = { kind: "OPERATOR" as const, ...operators.ADMIN, role: "ADMIN" as const };
  const tokens = {} as World["tokens"];
  for (const scope of apiTokenScopes) {
    tokens[scope] = await createApiToken({ db }, admin, { name: `only ${scope}`, scopes: [scope] });
  }
  const otherSubmitter = await createApiToken({ db }, admin, {
    name: "another marketplace",
    scopes: ["reviews:write"],
  });
  const adminId = operators.ADMIN.id;
  const moderatorNote = "Moderation note only operators see";

  const region = await db.region.create({ data: { slug: "world-north", name: "World North" } });
  const business = await db.business.create({
    data: { regionId: region.id, name: "World Dog School", email: "owner@world-dogs.example" },
  });
  const approved = await db.review.create({
    data: {
      businessId: business.id,
      rating: 5,
      body: "Published review body",
      source: "token:another marketplace",
      submittedByTokenId: otherSubmitter.id,
      status: "APPROVED",
      aiConfidence: 0.97,
      aiProvider: "primary",
      moderatorId: adminId,
      moderatorNote,
      decidedAt: new Date(),
      version: 1,
      scores: { create: { classifier: "primary", confidence: 0.97, signals: { spam: 0.01 } } },
      decisions: { create: { action: "APPROVE", note: moderatorNote, actorId: adminId } },
    },
  });
  const pending = await db.review.create({
    data: {
      businessId: business.id,
      rating: 2,
      body: "Pending review body, not yet moderated",
      source: "token:another marketplace",
      submittedByTokenId: otherSubmitter.id,
    },
  });
  const purchasedAt = new Date(Date.now() - 3_600_000);
  const payment = await db.payment.create({
    data: {
      stripeChargeId: "ch_world_1",
      businessId: business.id,
      amountCents: 2200,
      currency: "aud",
      status: "SUCCEEDED",
      purchasedAt,
    },
  });
  // A refund that went through, so the Metrics page's refunds by reason and by region have a row.
  const refundedPayment = await db.payment.create({
    data: {
      stripeChargeId: "ch_world_refunded",
      businessId: business.id,
      amountCents: 2200,
      refundedCents: 2200,
      currency: "aud",
      status: "REFUNDED",
      purchasedAt: new Date(Date.now() - 2 * 86_400_000),
    },
  });
  await db.refundRequest.create({
    data: {
      paymentId: refundedPayment.id,
      businessId: business.id,
      reason: "Bought the wrong region",
      requestedBy: `OPERATOR:${adminId}`,
      status: "APPROVED",
      decidedById: adminId,
      decidedAt: new Date(),
      idempotencyKey: "world-refund-approved",
    },
  });
  // The region has one featured business and two queued; this business is second in the queue.
  const featured = await db.business.create({
    data: { regionId: region.id, name: "Featured Dog School", email: "owner@featured-dogs.example" },
  });
  const ahead = await db.business.create({
    data: { regionId: region.id, name: "Early Dog School", email: "owner@early-dogs.example" },
  });
  await db.placement.create({
    data: {
      businessId: featured.id,
      regionId: region.id,
      status: "ACTIVE",
      purchasedAt: new Date(Date.now() - 3 * 3_600_000),
      activatedAt: new Date(Date.now() - 3 * 3_600_000),
      featuredUntil: new Date(Date.now() + 86_400_000),
    },
  });
  await db.placement.create({
    data: {
      businessId: ahead.id,
      regionId: region.id,
      status: "QUEUED",
      purchasedAt: new Date(Date.now() - 2 * 3_600_000),
    },
  });
  await db.placement.create({
    data: { businessId: business.id, regionId: region.id, paymentId: payment.id, status: "QUEUED", purchasedAt },
  });
  const refund = await db.refundRequest.create({
    data: {
      paymentId: payment.id,
      businessId: business.id,
      reason: "Changed my mind",
      requestedBy: `OPERATOR:${adminId}`,
      status: "DENIED",
      decidedById: adminId,
      decidedAt: new Date(),
      denialNote: "Outside what we can refund",
      failureMessage: "internal: stripe said no",
      idempotencyKey: "world-refund-1",
    },
  });
  const alert = await db.alert.create({
    data: {
      fingerprint: "world-alert",
      ruleKey: "world",
      severity: "RED",
      status: "ACKNOWLEDGED",
      title: "World alert",
      detail: "Something happened",
      // As a refund-rate alert names its repeat refunders (Alert.repeatRefunders reads them).
      labels: { repeatRefunders: `${business.id}:2` },
      acknowledgedById: adminId,
      acknowledgedAt: new Date(),
      events: { create: { kind: "ACKNOWLEDGED", actorKind: "OPERATOR", actorId: adminId, message: "taken" } },
      outbox: {
        create: {
          kind: "alert",
          dedupKey: "world-alert-trigger",
          payload: { event: "trigger" },
          status: "SENT",
          attempts: 1,
          attemptsLog: { create: { attempt: 1, ok: true, responseCode: 202 } },
        },
      },
    },
  });
  // An email to the business (its page lists it with its delivery status).
  await db.outboxMessage.create({
    data: {
      kind: "email.placement_started",
      dedupKey: "world-email",
      businessId: business.id,
      payload: { to: "world@biz.example", subject: "World email", text: "", html: "" },
      status: "SENT",
      attempts: 1,
    },
  });
  // An incident grouping the alert, with one message sent to the business.
  const incident = await db.incident.create({
    data: {
      title: "World incident",
      severity: "P1",
      impact: "Nothing real",
      alerts: { connect: { id: alert.id } },
      communications: {
        create: { template: "service_degraded", businessId: business.id, outboxMessageId: alert.id },
      },
    },
  });
  const audit = await db.auditEvent.create({
    data: { actorKind: "OPERATOR", actorId: adminId, actorLabel: operators.ADMIN.email, action: "world.seed" },
  });
  const jobRun = await db.jobRun.create({
    data: {
      jobName: "heartbeat",
      queueJobId: "world",
      trigger: "MANUAL",
      triggeredById: adminId,
      attempt: 1,
      status: "SUCCEEDED",
    },
  });
  const run = await db.reconciliationRun.create({
    data: {
      periodStart: new Date(Date.now() - 7 * 86_400_000),
      periodEnd: new Date(),
      status: "COMPLETED",
      trigger: "MANUAL",
      startedById: adminId,
    },
  });
  const discrepancy = await db.discrepancy.create({
    data: {
      runId: run.id,
      kind: "MISSING_IN_STRIPE",
      stripeChargeId: "ch_world_missing",
      resolution: "ACCEPTED",
      resolutionNote: "accepted by admin",
      resolvedById: adminId,
      resolvedAt: new Date(),
    },
  });
  const checkup = await db.checkupReport.create({
    data: {
      overall: "GREEN",
      trigger: "MANUAL",
      findings: [{ key: "world", category: "KPI", severity: "GREEN", title: "All good", detail: "Nothing to do" }],
    },
  });
  const webhookEvent = await db.stripeWebhookEvent.create({
    data: { id: "evt_world_1", type: "charge.succeeded", payload: {} },
  });
  const maintenanceWindow = await db.maintenanceWindow.create({
    data: { title: "World upgrade", startsAt: new Date(), endsAt: new Date(Date.now() + 3_600_000), ruleKeys: [] },
  });

  // Every check has a result, and the metrics are recomputed from this world (a snapshot taken
  // before it was seeded would show empty lists, which the walk cannot tell from a refusal).
  await db.healthCheckResult.createMany({
    data: checkNames.map((check) => ({ check, ok: true, latencyMs: 5, detail: "world" })),
  });
  await db.metricsSnapshot.deleteMany({});

  return {
    operators,
    tokens,
    otherSubmitter,
    nodeIds: {
      Alert: alert.id,
      ApiToken: tokens.read.id,
      AuditEvent: audit.id,
      Business: business.id,
      Discrepancy: discrepancy.id,
      Incident: incident.id,
      JobRun: jobRun.id,
      MaintenanceWindow: maintenanceWindow.id,
      Payment: payment.id,
      ReconciliationRun: run.id,
      RefundRequest: refund.id,
      Review: approved.id,
      StripeWebhookEvent: webhookEvent.id,
      WeeklyCheckup: checkup.id,
    },
    approvedReviewId: approved.id,
    pendingReviewId: pending.id,
    operatorSecrets: [...roles.flatMap((role) => [operators[role].email, operators[role].name]), moderatorNote],
  };
}
