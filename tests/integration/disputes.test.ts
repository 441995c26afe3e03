// Disputes through the API: flag and unflag a business with a note (audited, once under 30
// concurrent flags), the flagged list as the overview's disputes task, and the queue-position
// playbook: position, who is ahead, the FIFO check against payment times, and the email to the
// trainer (previewed, sent once).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

let api: TestApi;
let operatorCookie: string;
let viewerCookie: string;
let sequence = 0;

const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");
const DAY = 86_400_000;

async function region(slots = 1) {
  const n = ++sequence;
  return api.database.db.region.create({
    data: { slug: `dispute-${n}`, name: `Dispute Region ${n}`, featuredSlots: slots },
  });
}

async function business(regionId: string, name: string) {
  return api.database.db.business.create({
    data: { regionId, name, email: `${name.toLowerCase().replaceAll(" ", "-")}@biz.example` },
  });
}

async function placement(
  regionId: string,
  businessId: string,
  status: "ACTIVE" | "QUEUED",
  purchasedAt: Date,
): Promise<void> {
  await api.database.db.placement.create({
    data: {
      regionId,
      businessId,
      status,
      purchasedAt,
      ...(status === "ACTIVE"
        ? { activatedAt: purchasedAt, featuredUntil: new Date(purchasedAt.getTime() + 30 * DAY) }
        : {}),
    },
  });
}

const FLAG = `mutation ($id: ID!, $note: String!) { flagBusiness(id: $id, note: $note) {
  __typename ... on Error { message } ... on MutationFlagBusinessSuccess { data { id status flagNote flaggedAt } } } }`;
const UNFLAG = `mutation ($id: ID!, $note: String!) { unflagBusiness(id: $id, note: $note) {
  __typename ... on Error { message } ... on MutationUnflagBusinessSuccess { data { id status flagNote } } } }`;

interface FlagResult {
  __typename: string;
  message?: string;
  data?: { id: string; status: string; flagNote: string | null; flaggedAt?: string | null };
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

describe("flagging a business", () => {
  it("flags with a note, lists it as a dispute, and unflags with a settling note; both audited", async () => {
    const { id: regionId } = await region();
    const trainer = await business(regionId, "Pawsitive Steps");
    const id = globalId("Business", trainer.id);

    const flagged = await api.graphql<{ flagBusiness: FlagResult }>(
      FLAG,
      { id, note: "Says she paid first; check the queue" },
      { cookie: operatorCookie },
    );
    expect(flagged.data?.flagBusiness.data).toMatchObject({
      status: "FLAGGED_FOR_REVIEW",
      flagNote: "Says she paid first; check the queue",
    });

    const list = await api.graphql<{
      flaggedBusinesses: { totalCount: number; edges: { node: { id: string; flagNote: string } }[] };
    }>(`{ flaggedBusinesses(first: 20) { totalCount edges { node { id flagNote } } } }`, {}, { cookie: viewerCookie });
    expect(list.data?.flaggedBusinesses.edges.map((edge) => edge.node.id)).toContain(id);
    const overview = await api.graphql<{ overview: { pendingTasks: { kind: string; count: number; href: string }[] } }>(
      `{ overview { pendingTasks { kind count href } } }`,
      {},
      { cookie: viewerCookie },
    );
    const disputes = overview.data?.overview.pendingTasks.find((task) => task.kind === "DISPUTES");
    expect(disputes?.count).toBe(list.data?.flaggedBusinesses.totalCount);
    expect(disputes?.href).toBe("/disputes");

    const settled = await api.graphql<{ unflagBusiness: FlagResult }>(
      UNFLAG,
      { id, note: "Queue order checked against payments: correct; emailed her" },
      { cookie: operatorCookie },
    );
    expect(settled.data?.unflagBusiness.data).toMatchObject({ status: "ACTIVE", flagNote: null });
    const audit = await api.database.db.auditEvent.findMany({
      where: { targetId: trainer.id },
      orderBy: { createdAt: "asc" },
    });
    expect(audit.map((entry) => entry.action)).toEqual(["business.flag", "business.unflag"]);
    expect(audit[1]?.reason).toBe("Queue order checked against payments: correct; emailed her");
  });

  it("30 flags at once leave one flag and one audit entry", async () => {
    const { id: regionId } = await region();
    const trainer = await business(regionId, "Crowded Paws");
    const id = globalId("Business", trainer.id);
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        api.graphql<{ flagBusiness: FlagResult }>(FLAG, { id, note: "Repeat refunder" }, { cookie: operatorCookie }),
      ),
    );
    expect(results.every((result) => result.data?.flagBusiness.data?.status === "FLAGGED_FOR_REVIEW")).toBe(true);
    expect(await api.database.db.auditEvent.count({ where: { targetId: trainer.id, action: "business.flag" } })).toBe(
      1,
    );
  });

  it("refuses bad input with a typed error and changes nothing", async () => {
    const { id: regionId } = await region();
    const trainer = await business(regionId, "Quiet Tails");
    const id = globalId("Business", trainer.id);
    const tooShort = await api.graphql<{ flagBusiness: FlagResult }>(
      FLAG,
      { id, note: "  " },
      { cookie: operatorCookie },
    );
    expect(tooShort.data?.flagBusiness.__typename).toBe("InvalidInputError");
    const nul = await api.graphql<{ flagBusiness: FlagResult }>(
      FLAG,
      { id, note: `bad${String.fromCharCode(0)}note` },
      { cookie: operatorCookie },
    );
    // Refused at the edge for every operation (api/src/security/text-input.ts), before core runs.
    expect(nul.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const notFlagged = await api.graphql<{ unflagBusiness: FlagResult }>(
      UNFLAG,
      { id, note: "nothing to settle" },
      { cookie: operatorCookie },
    );
    expect(notFlagged.data?.unflagBusiness.__typename).toBe("ConflictError");
    const missing = await api.graphql<{ flagBusiness: FlagResult }>(
      FLAG,
      { id: globalId("Business", "00000000-0000-7000-8000-000000000000"), note: "who?" },
      { cookie: operatorCookie },
    );
    expect(missing.data?.flagBusiness.__typename).toBe("NotFoundError");
    const row = await api.database.db.business.findUniqueOrThrow({ where: { id: trainer.id } });
    expect(row.status).toBe("ACTIVE");
    expect(await api.database.db.auditEvent.count({ where: { targetId: trainer.id } })).toBe(0);
  });

  it("a viewer may read disputes but not flag", async () => {
    const { id: regionId } = await region();
    const trainer = await business(regionId, "Viewer Paws");
    const result = await api.graphql(
      FLAG,
      { id: globalId("Business", trainer.id), note: "not mine to flag" },
      { cookie: viewerCookie },
    );
    expect(result.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});

const DISPUTE = `query ($id: ID!) { business(id: $id) {
  queueDispute { regionName paidAt fifoHolds problems { businessName problem }
    queue { status position estimatedActivation businessesAhead { name purchasedAt } } }
  queuePositionEmail { to subject text } } }`;

interface DisputeAnswer {
  business: {
    queueDispute: {
      regionName: string;
      paidAt: string | null;
      fifoHolds: boolean;
      problems: { businessName: string; problem: string }[];
      queue: { status: string; position: number | null; businessesAhead: { name: string }[] };
    };
    queuePositionEmail: { to: string; subject: string; text: string } | null;
  };
}

describe("the queue-position dispute playbook", () => {
  it("shows position, who is ahead, the ETA and a FIFO check that holds; the email goes once", async () => {
    const now = Date.now();
    const { id: regionId, name: regionName } = await region(1);
    const featured = await business(regionId, "Early Bird Dogs");
    const ahead = await business(regionId, "Second Sit");
    const complainer = await business(regionId, "I Paid First");
    await placement(regionId, featured.id, "ACTIVE", new Date(now - 10 * DAY));
    await placement(regionId, ahead.id, "QUEUED", new Date(now - 5 * DAY));
    await placement(regionId, complainer.id, "QUEUED", new Date(now - 4 * DAY));

    const id = globalId("Business", complainer.id);
    const answer = await api.graphql<DisputeAnswer>(DISPUTE, { id }, { cookie: operatorCookie });
    const check = answer.data?.business.queueDispute;
    expect(check).toMatchObject({ regionName, fifoHolds: true, problems: [] });
    expect(check?.queue).toMatchObject({ status: "QUEUED", position: 2, businessesAhead: [{ name: "Second Sit" }] });
    const email = answer.data?.business.queuePositionEmail;
    expect(email?.to).toBe(complainer.email);
    expect(email?.subject).toContain("#2");
    expect(email?.text).toContain(`position #2 in the queue for ${regionName}`);

    const SEND = `mutation ($id: ID!) { emailQueuePosition(businessId: $id) {
      __typename ... on Error { message } ... on MutationEmailQueuePositionSuccess { data { queued } } } }`;
    const sends = await Promise.all(
      Array.from({ length: 10 }, () =>
        api.graphql<{ emailQueuePosition: { data?: { queued: boolean } } }>(SEND, { id }, { cookie: operatorCookie }),
      ),
    );
    expect(sends.filter((send) => send.data?.emailQueuePosition.data?.queued === true)).toHaveLength(1);
    const outbox = await api.database.db.outboxMessage.findMany({ where: { kind: "email.queue_position" } });
    expect(outbox.filter((message) => JSON.stringify(message.payload).includes(complainer.email))).toHaveLength(1);

    // A business that is not waiting has nothing to explain: no preview, and sending is a typed error.
    const notWaiting = await api.graphql<{ emailQueuePosition: { __typename: string } }>(
      SEND,
      { id: globalId("Business", featured.id) },
      { cookie: operatorCookie },
    );
    expect(notWaiting.data?.emailQueuePosition.__typename).toBe("ConflictError");
  });

  it("finds a queue out of payment order and someone featured who paid after a waiting business", async () => {
    const now = Date.now();
    const { id: regionId } = await region(1);
    const latePayer = await business(regionId, "Paid Late Featured");
    const waiting = await business(regionId, "Waiting Early");
    await placement(regionId, latePayer.id, "ACTIVE", new Date(now - 1 * DAY));
    await placement(regionId, waiting.id, "QUEUED", new Date(now - 3 * DAY));

    const answer = await api.graphql<DisputeAnswer>(
      DISPUTE,
      { id: globalId("Business", waiting.id) },
      { cookie: operatorCookie },
    );
    const check = answer.data?.business.queueDispute;
    expect(check?.fifoHolds).toBe(false);
    expect(check?.problems).toEqual([
      { businessName: "Paid Late Featured", problem: "featured although it paid after Waiting Early, who still waits" },
    ]);
  });
});
