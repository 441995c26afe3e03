// The autonomy rules (PRODUCT.md §8) enforced by the API: who may run a job now and read the audit
// log. A refused call changes nothing: no audit event, no job in the queue.
import { type BullJobQueues, createBullJobQueues } from "@steward/jobs/bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

const RUN_NOW = `mutation ($jobName: String!) {
  runJobNow(jobName: $jobName) {
    __typename
    ... on MutationRunJobNowSuccess { data }
    ... on NotFoundError { entity entityId }
    ... on Error { message }
  }
}`;
const AUDIT = `query ($first: Int!, $after: String, $filter: AuditFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id action actorId createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface RunNowResult {
  runJobNow: { __typename: string; data?: string; entity?: string; entityId?: string; message?: string };
}
interface AuditPage {
  auditEvents: {
    edges: { cursor: string; node: { id: string; action: string; actorId: string | null; createdAt: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

const globalId = (type: string, id: string): string => Buffer.from(`${type}:${id}`).toString("base64");

let api: TestApi;
/** The same queue the API enqueues on (same prefix), to see what was really added. */
let queue: BullJobQueues;
let operatorId: string;
let viewerCookie: string;
let operatorCookie: string;

async function queuedJobs(): Promise<number> {
  let total = 0;
  for (const byState of (await queue.counts()).values())
    total += Object.values(byState).reduce((sum, count) => sum + count, 0);
  return total;
}

beforeAll(async () => {
  api = await startTestApi();
  queue = createBullJobQueues({ redisUrl: api.env.REDIS_URL, prefix: api.env.REDIS_PREFIX });
  operatorId = (await createOperator(api.database.db, "OPERATOR", "olive@test.example")).id;
  await createOperator(api.database.db, "VIEWER", "vic@test.example");
  viewerCookie = await api.loginCookie("vic@test.example", TEST_PASSWORD);
  operatorCookie = await api.loginCookie("olive@test.example", TEST_PASSWORD);
});
afterAll(async () => {
  await queue.obliterate();
  await queue.close();
  await api.stop();
});

describe("runJobNow", () => {
  it("is FORBIDDEN to a VIEWER: no audit event, nothing enqueued", async () => {
    const result = await api.graphql<RunNowResult>(RUN_NOW, { jobName: "heartbeat" }, { cookie: viewerCookie });
    expect(result.data?.runJobNow).toBeUndefined();
    expect(result.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await api.database.db.auditEvent.count({ where: { action: "job.runNow" } })).toBe(0);
    expect(await queuedJobs()).toBe(0);
  });

  it("is UNAUTHENTICATED without a session, and FORBIDDEN to an unknown cookie's anonymous caller", async () => {
    const anonymous = await api.graphql<RunNowResult>(RUN_NOW, { jobName: "heartbeat" });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const forged = await api.graphql<RunNowResult>(
      RUN_NOW,
      { jobName: "heartbeat" },
      { cookie: "steward_session=sst_forged" },
    );
    expect(forged.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(await queuedJobs()).toBe(0);
  });

  it("lets an OPERATOR queue exactly one run, audited with the operator as actor", async () => {
    const result = await api.graphql<RunNowResult>(RUN_NOW, { jobName: "heartbeat" }, { cookie: operatorCookie });
    expect(result.data?.runJobNow.__typename).toBe("MutationRunJobNowSuccess");
    const queueJobId = result.data?.runJobNow.data;
    expect(queueJobId).toBeTruthy();

    expect(await queuedJobs()).toBe(1);
    const job = await queue.getJob(queueJobId!);
    expect(job?.name).toBe("heartbeat");
    expect(job?.data).toEqual({ trigger: "MANUAL", triggeredById: operatorId });

    const audit = await api.database.db.auditEvent.findMany({ where: { action: "job.runNow" } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actorKind: "OPERATOR",
      actorId: operatorId,
      actorLabel: "olive@test.example",
      targetType: "Job",
      targetId: "heartbeat",
    });
    expect(audit[0]!.after).toEqual({ queueJobId });
  });

  it("answers an unknown job with a typed NotFoundError and enqueues nothing", async () => {
    const jobsBefore = await queuedJobs();
    const auditBefore = await api.database.db.auditEvent.count();
    const result = await api.graphql<RunNowResult>(RUN_NOW, { jobName: "drop-all-tables" }, { cookie: operatorCookie });
    expect(result.data?.runJobNow).toMatchObject({
      __typename: "NotFoundError",
      entity: "Job",
      entityId: "drop-all-tables",
    });
    expect(await queuedJobs()).toBe(jobsBefore);
    expect(await api.database.db.auditEvent.count()).toBe(auditBefore);
  });

  it("answers an empty job name with a ValidationError and enqueues nothing", async () => {
    const jobsBefore = await queuedJobs();
    const result = await api.graphql<RunNowResult>(RUN_NOW, { jobName: "" }, { cookie: operatorCookie });
    expect(result.data?.runJobNow.__typename).toBe("ValidationError");
    expect(await queuedJobs()).toBe(jobsBefore);
  });
});

describe("reading job runs and the audit log", () => {
  it("refuses jobRuns to an anonymous caller with UNAUTHENTICATED", async () => {
    const result = await api.graphql(`{ jobRuns(first: 5) { edges { node { id } } } }`);
    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("refuses auditEvents to a VIEWER with FORBIDDEN", async () => {
    const result = await api.graphql(AUDIT, { first: 5 }, { cookie: viewerCookie });
    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("does not leak audit events or job runs through node(id:) to callers who may not list them", async () => {
    const event = await api.database.db.auditEvent.findFirstOrThrow();
    const run = await api.database.db.jobRun.create({
      data: {
        jobName: "heartbeat",
        queueJobId: "leak-check",
        trigger: "MANUAL",
        triggeredById: operatorId,
        attempt: 1,
        status: "SUCCEEDED",
      },
    });
    const NODE = `query ($id: ID!) { node(id: $id) { id ... on AuditEvent { action actorLabel } ... on JobRun { triggeredBy { email } } } }`;
    const NODES = `query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on AuditEvent { actorLabel } } }`;

    const anonymousAudit = await api.graphql<{ node: unknown }>(NODE, { id: globalId("AuditEvent", event.id) });
    expect(anonymousAudit.data?.node ?? null).toBeNull();
    expect(anonymousAudit.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");

    const anonymousNodes = await api.graphql<{ nodes: unknown[] }>(NODES, { ids: [globalId("AuditEvent", event.id)] });
    expect(anonymousNodes.data?.nodes?.[0] ?? null).toBeNull();
    expect(JSON.stringify(anonymousNodes)).not.toContain(event.actorLabel);

    const viewerAudit = await api.graphql<{ node: unknown }>(
      NODE,
      { id: globalId("AuditEvent", event.id) },
      { cookie: viewerCookie },
    );
    // Null, as for an id that does not exist: a viewer learns nothing about which events exist.
    expect(viewerAudit.data?.node ?? null).toBeNull();
    expect(viewerAudit.errors).toBeUndefined();

    const anonymousRun = await api.graphql<{ node: unknown }>(NODE, { id: globalId("JobRun", run.id) });
    expect(anonymousRun.data?.node ?? null).toBeNull();
    expect(JSON.stringify(anonymousRun)).not.toContain("olive@test.example");

    // Those allowed to list them still can fetch them by id.
    const operatorAudit = await api.graphql<{ node: { action: string } | null }>(
      NODE,
      { id: globalId("AuditEvent", event.id) },
      { cookie: operatorCookie },
    );
    expect(operatorAudit.data?.node?.action).toBe(event.action);
    const viewerRun = await api.graphql<{ node: { triggeredBy: { email: string } } | null }>(
      NODE,
      { id: globalId("JobRun", run.id) },
      { cookie: viewerCookie },
    );
    expect(viewerRun.data?.node?.triggeredBy.email).toBe("olive@test.example");
  });

  it("filters auditEvents by action prefix, newest first, in disjoint Relay pages", async () => {
    // More auth events: two failed logins and one more successful login.
    for (const password of ["wrong-1", "wrong-2"]) {
      await api.graphql(`mutation ($p: String!) { login(email: "olive@test.example", password: $p) { __typename } }`, {
        p: password,
      });
    }
    await api.loginCookie("vic@test.example", TEST_PASSWORD);

    const expected = await api.database.db.auditEvent.findMany({ where: { action: { startsWith: "auth." } } });
    expect(expected.length).toBeGreaterThanOrEqual(5);
    expect(
      await api.database.db.auditEvent.count({ where: { NOT: { action: { startsWith: "auth." } } } }),
    ).toBeGreaterThan(0);

    const seen: AuditPage["auditEvents"]["edges"][number]["node"][] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const result: { data?: AuditPage } = await api.graphql<AuditPage>(
        AUDIT,
        { first: 2, after, filter: { action: "auth." } },
        { cookie: operatorCookie },
      );
      const page = result.data!.auditEvents;
      expect(page.edges.length).toBeLessThanOrEqual(2);
      seen.push(...page.edges.map((edge) => edge.node));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      pages++;
    } while (after && pages < 20);

    expect(pages).toBe(Math.ceil(expected.length / 2));
    expect(seen.every((event) => event.action.startsWith("auth."))).toBe(true);
    // Disjoint pages that together are exactly the matching events.
    const ids = seen.map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(expected.length);
    // Newest first.
    const times = seen.map((event) => Date.parse(event.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });
});
