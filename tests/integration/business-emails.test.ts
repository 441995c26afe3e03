// Emails to businesses beyond refunds, against real PostgreSQL, the SMTP sandbox and the API: a
// held charge accepted tells its business the placement now counts (featured, or #n in the queue
// with an ETA); the daily run reminds businesses whose placement ends within three days, once; an
// email given up on raises one alert per address; the business page lists every email with its
// delivery status.
import { systemActor } from "@steward/core/actor";
import { deliverEmails, emailPlacementsEndingSoon } from "@steward/core/businessEmails";
import { createMailSender } from "@steward/core/adapters/nodemailer";
import type { MailSender } from "@steward/core/ports/mail";
import { acceptHeldPayment } from "@steward/core/holds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSmtpSandbox, type SmtpSandbox } from "../../sandbox/src/smtp/server.ts";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";
import { quietDeps } from "../support/deps.ts";

const DAY = 86_400_000;
const TIME_ZONE = "Australia/Melbourne";
let api: TestApi;
let smtp: SmtpSandbox;
let sender: MailSender;
let operatorCookie: string;
let sequence = 0;

const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");

async function regionWith(slots: number) {
  const n = ++sequence;
  return api.database.db.region.create({ data: { slug: `mail-${n}`, name: `Mail Region ${n}`, featuredSlots: slots } });
}

async function business(regionId: string, name: string) {
  return api.database.db.business.create({
    data: { regionId, name, email: `${name.toLowerCase().replaceAll(" ", "-")}-${sequence}@biz.example` },
  });
}

interface EmailRow {
  kind: string;
  to: string;
  subject: string;
  status: string;
  attempts: number;
  lastError: string | null;
}

async function emailsOf(businessId: string): Promise<EmailRow[]> {
  const result = await api.graphql<{ business: { emails: EmailRow[] } }>(
    `query ($id: ID!) { business(id: $id) { emails { kind to subject status attempts lastError } } }`,
    { id: globalId("Business", businessId) },
    { cookie: operatorCookie },
  );
  return result.data?.business.emails ?? [];
}

beforeAll(async () => {
  api = await startTestApi();
  smtp = await startSmtpSandbox({ port: 0 });
  sender = createMailSender({ ...api.env, SMTP_HOST: smtp.host, SMTP_PORT: smtp.port });
  await createOperator(api.database.db, "OPERATOR", "opal@test.example");
  operatorCookie = await api.loginCookie("opal@test.example", TEST_PASSWORD);
});
afterAll(async () => {
  sender?.close();
  await smtp?.stop();
  await api?.stop();
});

describe("placement started late", () => {
  it("an accepted held charge emails its business: #2 in the queue with an ETA, once", async () => {
    const region = await regionWith(1);
    const featured = await business(region.id, "Already Featured");
    const waiting = await business(region.id, "First In Line");
    const late = await business(region.id, "Held Payer");
    const now = Date.now();
    await api.database.db.placement.create({
      data: {
        regionId: region.id,
        businessId: featured.id,
        status: "ACTIVE",
        purchasedAt: new Date(now - 5 * DAY),
        activatedAt: new Date(now - 5 * DAY),
        featuredUntil: new Date(now + 25 * DAY),
      },
    });
    await api.database.db.placement.create({
      data: { regionId: region.id, businessId: waiting.id, status: "QUEUED", purchasedAt: new Date(now - 4 * DAY) },
    });
    const held = await api.database.db.payment.create({
      data: {
        stripeChargeId: `ch_mail_${sequence}`,
        businessId: late.id,
        amountCents: 1000,
        currency: "aud",
        status: "SUCCEEDED",
        purchasedAt: new Date(now - 2 * DAY),
        holdReason: "PRICE_MISMATCH",
        holdDetail: "old price",
        heldAt: new Date(now - 2 * DAY),
        heldRegionId: region.id,
      },
    });

    await acceptHeldPayment(
      { ...quietDeps(api.database.db), env: { MARKETPLACE_TIME_ZONE: TIME_ZONE } },
      systemActor("test"),
      {
        paymentId: held.id,
        note: "old price honoured",
      },
    );

    const emails = await emailsOf(late.id);
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ kind: "email.placement_started", to: late.email, status: "QUEUED", attempts: 0 });
    expect(emails[0]?.subject).toBe(`Your featured placement in ${region.name}: #2 in the queue`);
    const message = await api.database.db.outboxMessage.findFirstOrThrow({ where: { businessId: late.id } });
    expect((message.payload as { text: string }).text).toMatch(
      /you are #2 in the queue, in order of payment\. It is expected to start around/,
    );
    // Nothing for the businesses that were not affected.
    expect(await emailsOf(waiting.id)).toEqual([]);
  });
});

describe("placement ending soon", () => {
  it("reminds a business three days before its placement ends, once, and not one ending later", async () => {
    const region = await regionWith(5);
    const soon = await business(region.id, "Ending Soon");
    const later = await business(region.id, "Ending Later");
    const now = new Date();
    for (const [owner, days] of [
      [soon, 2],
      [later, 10],
    ] as const)
      await api.database.db.placement.create({
        data: {
          regionId: region.id,
          businessId: owner.id,
          status: "ACTIVE",
          purchasedAt: new Date(now.getTime() - 20 * DAY),
          activatedAt: new Date(now.getTime() - 20 * DAY),
          featuredUntil: new Date(now.getTime() + days * DAY),
        },
      });

    expect(await emailPlacementsEndingSoon(api.database.db, TIME_ZONE, now)).toBeGreaterThanOrEqual(1);
    expect(await emailPlacementsEndingSoon(api.database.db, TIME_ZONE, now)).toBe(0);
    const emails = await emailsOf(soon.id);
    expect(emails.map((email) => email.kind)).toEqual(["email.placement_ending_soon"]);
    expect(emails[0]?.subject).toMatch(new RegExp(`^Your featured placement in ${region.name} ends on `));
    expect(await emailsOf(later.id)).toEqual([]);
  });
});

describe("delivery status and dead emails", () => {
  it("shows sent and dead emails on the business page; a dead one raises one alert per address", async () => {
    const region = await regionWith(5);
    const owner = await business(region.id, "Bouncing Mailbox");
    const now = new Date();
    await api.database.db.placement.create({
      data: {
        regionId: region.id,
        businessId: owner.id,
        status: "ACTIVE",
        purchasedAt: new Date(now.getTime() - 28 * DAY),
        activatedAt: new Date(now.getTime() - 28 * DAY),
        featuredUntil: new Date(now.getTime() + DAY),
      },
    });
    await emailPlacementsEndingSoon(api.database.db, TIME_ZONE, now);
    // Everything else due is delivered first, so only this business's email meets the refusal.
    smtp.failNext(1, 550);
    const onlyThis = await api.database.db.outboxMessage.updateMany({
      where: { status: "PENDING", NOT: { businessId: owner.id } },
      data: { status: "SENT" },
    });
    expect(onlyThis.count).toBeGreaterThanOrEqual(0);
    const report = await deliverEmails({ ...quietDeps(api.database.db), mail: sender }, { maxAttempts: 5 });
    expect(report).toMatchObject({ dead: 1, alerted: 1 });

    const [dead] = await emailsOf(owner.id);
    expect(dead).toMatchObject({ status: "DEAD", attempts: 1 });
    expect(dead?.lastError).toMatch(/550/);
    const alert = await api.database.db.alert.findUniqueOrThrow({
      where: { fingerprint: `email.dead:${owner.email}` },
    });
    expect(alert).toMatchObject({ ruleKey: "email.dead", severity: "YELLOW", status: "FIRING" });
    expect(alert.title).toBe(`Email to ${owner.email} could not be delivered`);
  });
});
