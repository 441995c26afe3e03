// Incidents through the API: every alert's P0–P3 level with response times, an incident opened
// from red alerts of one cause, its record and timeline, templated messages to businesses through
// the outbox (never twice), and the Markdown post-incident summary.
import type { AlertRuleKey } from "@steward/core/alertRuleKeys";
import { acknowledgeAlert, raiseAlert } from "@steward/core/alerts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.ts";
import { quietDeps } from "../support/deps.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

let api: TestApi;
let operatorCookie: string;
let viewerCookie: string;
let sequence = 0;

const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");

async function raise(ruleKey: AlertRuleKey, severity: "RED" | "YELLOW", firstSeenAt = new Date()) {
  const fingerprint = `${ruleKey}:${++sequence}`;
  await raiseAlert(
    quietDeps(api.database.db),
    { fingerprint, ruleKey, severity, title: `${ruleKey} ${sequence}`, detail: "detail" },
    firstSeenAt,
  );
  return api.database.db.alert.findUniqueOrThrow({ where: { fingerprint } });
}

async function business(name: string) {
  const region = await api.database.db.region.create({ data: { slug: `r-${name}`, name: `Region ${name}` } });
  return api.database.db.business.create({
    data: { regionId: region.id, name, email: `${name.toLowerCase()}@biz.example` },
  });
}

const ALERT_LEVEL = `query ($id: ID!) { alert(id: $id) { incidentSeverity ruleIncidentSeverity incidentSeverityOverridden
  timeToAcknowledgeSeconds timeToResolveSeconds responseOverdue respondBy } }`;

interface AlertLevel {
  incidentSeverity: string;
  ruleIncidentSeverity: string;
  incidentSeverityOverridden: boolean;
  timeToAcknowledgeSeconds: number | null;
  timeToResolveSeconds: number | null;
  responseOverdue: boolean;
}

const OPEN = `mutation ($alertIds: [ID!]!, $impact: String) { openIncident(alertIds: $alertIds, impact: $impact) {
  __typename ... on Error { message } ... on MutationOpenIncidentSuccess { data { id title severity status alerts { id } } } } }`;

interface OpenResult {
  openIncident: {
    __typename: string;
    message?: string;
    data?: { id: string; title: string; severity: string; status: string; alerts: { id: string }[] };
  };
}

beforeAll(async () => {
  api = await startTestApi();
  await createOperator(api.database.db, "OPERATOR", "opal@test.example");
  await createOperator(api.database.db, "VIEWER", "vera@test.example");
  operatorCookie = await api.loginCookie("opal@test.example", TEST_PASSWORD);
  viewerCookie = await api.loginCookie("vera@test.example", TEST_PASSWORD);
});
afterAll(async () => {
  await api?.stop();
});

describe("incident severity on alerts", () => {
  it("maps each rule to the playbook's level: database down P0, payments P1, other red P2, yellow P3", async () => {
    const cases = [
      ["postgres.latency", "RED", "P0"],
      ["database.query_p95", "RED", "P0"],
      ["backup.restore_failed", "RED", "P0"],
      ["stripe.webhook_failures", "RED", "P1"],
      ["refunds.rate_high", "RED", "P1"],
      ["api.latency_p95", "RED", "P2"],
      ["queue.backlog", "YELLOW", "P3"],
    ] as const;
    for (const [ruleKey, severity, expected] of cases) {
      const alert = await raise(ruleKey, severity);
      const result = await api.graphql<{ alert: AlertLevel }>(
        ALERT_LEVEL,
        { id: globalId("Alert", alert.id) },
        {
          cookie: viewerCookie,
        },
      );
      expect(result.data?.alert.incidentSeverity, ruleKey).toBe(expected);
    }
  });

  it("tracks time to acknowledge and flags a P0 not answered within 15 minutes", async () => {
    const twentyMinutesAgo = new Date(Date.now() - 20 * 60_000);
    const overdue = await raise("postgres.latency", "RED", twentyMinutesAgo);
    const late = await api.graphql<{ alert: AlertLevel }>(
      ALERT_LEVEL,
      { id: globalId("Alert", overdue.id) },
      {
        cookie: viewerCookie,
      },
    );
    expect(late.data?.alert).toMatchObject({ responseOverdue: true, timeToAcknowledgeSeconds: null });

    const operator = await api.database.db.operator.findUniqueOrThrow({ where: { email: "opal@test.example" } });
    await acknowledgeAlert(quietDeps(api.database.db), { kind: "OPERATOR", ...operator }, overdue.id);
    const acknowledged = await api.graphql<{ alert: AlertLevel }>(
      ALERT_LEVEL,
      { id: globalId("Alert", overdue.id) },
      {
        cookie: viewerCookie,
      },
    );
    expect(acknowledged.data?.alert.timeToAcknowledgeSeconds).toBeGreaterThanOrEqual(20 * 60 - 1);
    expect(acknowledged.data?.alert.responseOverdue).toBe(true);
  });

  it("lets an operator override the level (audited) and a viewer not", async () => {
    const alert = await raise("api.error_rate", "RED");
    const mutation = `mutation ($id: ID!, $severity: IncidentSeverity) { setAlertIncidentSeverity(id: $id, severity: $severity) {
      __typename ... on MutationSetAlertIncidentSeveritySuccess { data { incidentSeverity ruleIncidentSeverity incidentSeverityOverridden } } } }`;
    const denied = await api.graphql(
      mutation,
      { id: globalId("Alert", alert.id), severity: "P0" },
      { cookie: viewerCookie },
    );
    expect(denied.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");

    const set = await api.graphql<{ setAlertIncidentSeverity: { data: AlertLevel } }>(
      mutation,
      { id: globalId("Alert", alert.id), severity: "P0" },
      { cookie: operatorCookie },
    );
    expect(set.data?.setAlertIncidentSeverity.data).toEqual({
      incidentSeverity: "P0",
      ruleIncidentSeverity: "P2",
      incidentSeverityOverridden: true,
    });
    const audit = await api.database.db.auditEvent.findFirst({
      where: { action: "alert.incident_severity", targetId: alert.id },
    });
    expect(audit?.after).toMatchObject({ incidentSeverity: "P0", overridden: true });

    const reset = await api.graphql<{ setAlertIncidentSeverity: { data: AlertLevel } }>(
      mutation,
      { id: globalId("Alert", alert.id), severity: null },
      { cookie: operatorCookie },
    );
    expect(reset.data?.setAlertIncidentSeverity.data.incidentSeverity).toBe("P2");
  });
});

describe("incidents", () => {
  it("groups red alerts of one cause into one incident at the most severe level, and refuses what does not fit", async () => {
    const webhook = await raise("stripe.webhook_failures", "RED");
    const latency = await raise("api.latency_p95", "RED");
    const yellow = await raise("queue.backlog", "YELLOW");

    const onlyYellow = await api.graphql<OpenResult>(
      OPEN,
      { alertIds: [globalId("Alert", yellow.id)] },
      {
        cookie: operatorCookie,
      },
    );
    expect(onlyYellow.data?.openIncident.__typename).toBe("InvalidInputError");

    const opened = await api.graphql<OpenResult>(
      OPEN,
      { alertIds: [globalId("Alert", webhook.id), globalId("Alert", latency.id)], impact: "Payments not recorded" },
      { cookie: operatorCookie },
    );
    expect(opened.data?.openIncident.data).toMatchObject({ severity: "P1", status: "OPEN" });
    expect(opened.data?.openIncident.data?.alerts).toHaveLength(2);

    // An alert belongs to one incident only.
    const again = await api.graphql<OpenResult>(
      OPEN,
      { alertIds: [globalId("Alert", webhook.id)] },
      {
        cookie: operatorCookie,
      },
    );
    expect(again.data?.openIncident.__typename).toBe("ConflictError");
    expect(await api.database.db.incident.count()).toBe(1);
  });

  it("opens one incident when two operators group the same alert at once", async () => {
    const alert = await raise("stripe.unreachable", "RED");
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        api.graphql<OpenResult>(OPEN, { alertIds: [globalId("Alert", alert.id)] }, { cookie: operatorCookie }),
      ),
    );
    const kinds = results.map((result) => result.data?.openIncident.__typename).sort();
    expect(kinds.filter((kind) => kind === "MutationOpenIncidentSuccess")).toHaveLength(1);
    expect(kinds.filter((kind) => kind === "ConflictError")).toHaveLength(7);
  });

  it("records impact, root cause and follow-ups, emails businesses once per template, and exports the summary", async () => {
    const alert = await raise("stripe.unreachable", "RED");
    const opened = await api.graphql<OpenResult>(
      OPEN,
      { alertIds: [globalId("Alert", alert.id)] },
      {
        cookie: operatorCookie,
      },
    );
    const incidentId = opened.data?.openIncident.data?.id;
    expect(incidentId).toBeDefined();

    const update = await api.graphql(
      `mutation ($id: ID!) { updateIncident(id: $id, impact: "Featured placements not activated for 40 min",
        rootCause: "Stripe API key rotated without updating STRIPE_SECRET_KEY",
        followUps: ["Alert on 401 from Stripe", "Rotate keys with a checklist"]) { __typename } }`,
      { id: incidentId },
      { cookie: operatorCookie },
    );
    expect(update.data).toEqual({ updateIncident: { __typename: "MutationUpdateIncidentSuccess" } });

    const acme = await business("Acme");
    const bolt = await business("Bolt");
    const ids = [globalId("Business", acme.id), globalId("Business", bolt.id)];
    const preview = await api.graphql<{
      incidentCommunicationPreview: { data: { recipients: number; subject: string; text: string } };
    }>(
      `query ($id: ID!, $ids: [ID!]!) { incidentCommunicationPreview(incidentId: $id, template: service_degraded, businessIds: $ids) {
        ... on QueryIncidentCommunicationPreviewSuccess { data { recipients subject text } } } }`,
      { id: incidentId, ids },
      { cookie: viewerCookie },
    );
    expect(preview.data?.incidentCommunicationPreview.data.recipients).toBe(2);
    expect(preview.data?.incidentCommunicationPreview.data.text).toMatch(/^Hi Acme,/);
    expect(await api.database.db.outboxMessage.count({ where: { kind: { startsWith: "email.incident_" } } })).toBe(0);

    const SEND = `mutation ($id: ID!, $ids: [ID!]!) { sendIncidentCommunication(incidentId: $id, template: service_degraded, businessIds: $ids) {
      __typename ... on MutationSendIncidentCommunicationSuccess { data { sent alreadySent } } } }`;
    type Sent = { sendIncidentCommunication: { data: { sent: number; alreadySent: number } } };
    const [first, second] = await Promise.all([
      api.graphql<Sent>(SEND, { id: incidentId, ids }, { cookie: operatorCookie }),
      api.graphql<Sent>(SEND, { id: incidentId, ids }, { cookie: operatorCookie }),
    ]);
    const sentTotal =
      (first.data?.sendIncidentCommunication.data.sent ?? 0) + (second.data?.sendIncidentCommunication.data.sent ?? 0);
    expect(sentTotal).toBe(2);
    const emails = await api.database.db.outboxMessage.findMany({ where: { kind: "email.incident_service_degraded" } });
    expect(emails.map((email) => (email.payload as { to: string }).to).sort()).toEqual([
      "acme@biz.example",
      "bolt@biz.example",
    ]);

    const resolved = await api.graphql(
      `mutation ($id: ID!) { resolveIncident(id: $id) { __typename } }`,
      { id: incidentId },
      { cookie: operatorCookie },
    );
    expect(resolved.data).toEqual({ resolveIncident: { __typename: "MutationResolveIncidentSuccess" } });

    const record = await api.graphql<{
      incident: {
        status: string;
        communications: { template: string }[];
        timeline: { message: string }[];
        summaryMarkdown: string;
      };
    }>(
      `query ($id: ID!) { incident(id: $id) { status communications { template } timeline { message } summaryMarkdown } }`,
      { id: incidentId },
      { cookie: viewerCookie },
    );
    const incident = record.data?.incident;
    expect(incident?.status).toBe("RESOLVED");
    expect(incident?.communications).toHaveLength(2);
    expect(incident?.timeline.map((entry) => entry.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/incident\.open/), expect.stringMatching(/incident\.resolve/)]),
    );
    const markdown = incident?.summaryMarkdown ?? "";
    expect(markdown).toMatch(/^# Incident: stripe\.unreachable/);
    expect(markdown).toContain("**Severity:** P1");
    expect(markdown).toContain("Stripe API key rotated without updating STRIPE\\_SECRET\\_KEY");
    expect(markdown).toContain("- [ ] Alert on 401 from Stripe");
    expect(markdown).toMatch(/service_degraded to Acme/);
  });

  it("refuses unknown ids, bad input and viewers with typed errors, changing nothing", async () => {
    const alert = await raise("stripe.unreachable", "RED");
    const before = await api.database.db.incident.count();
    const unknown = await api.graphql<OpenResult>(
      OPEN,
      { alertIds: [globalId("Alert", "00000000-0000-7000-8000-000000000000")] },
      { cookie: operatorCookie },
    );
    expect(unknown.data?.openIncident.__typename).toBe("NotFoundError");
    const viewer = await api.graphql(OPEN, { alertIds: [globalId("Alert", alert.id)] }, { cookie: viewerCookie });
    expect(viewer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const tooLong = await api.graphql<OpenResult>(
      OPEN,
      { alertIds: [globalId("Alert", alert.id)], impact: "x".repeat(5000) },
      { cookie: operatorCookie },
    );
    expect(tooLong.data?.openIncident.__typename).toMatch(/Error$/);
    expect(await api.database.db.incident.count()).toBe(before);
  });
});
