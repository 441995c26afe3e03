// Deterministic demo data: the same ids-free content on every run (a seeded PRNG, fixed names),
// anchored to "now" so the demo always looks current. Safe to re-run: it only seeds an empty DB.
import { classifyReview } from "@steward/core/moderation/classifier";
import { hashPassword } from "@steward/core/passwords";
import { placePurchase } from "@steward/core/placements";
import { suggestionFor } from "@steward/core/reviews";
import { createPrismaClient, type Db } from "@steward/db/client";

export const DEMO_PASSWORD = "steward-demo-2026";
export const DEMO_OPERATORS = [
  { email: "admin@steward.test", name: "Ada Admin", role: "ADMIN" },
  { email: "operator@steward.test", name: "Olive Operator", role: "OPERATOR" },
  { email: "viewer@steward.test", name: "Vic Viewer", role: "VIEWER" },
] as const;

/** A featured placement's price in every demo region; the seeded charges pay exactly this. */
export const DEMO_PRICE_CENTS = 2200;
export const DEMO_CURRENCY = "aud";

const REGIONS = [
  ["melbourne", "City of Melbourne"],
  ["yarra", "City of Yarra"],
  ["port-phillip", "City of Port Phillip"],
  ["stonnington", "City of Stonnington"],
  ["boroondara", "City of Boroondara"],
  ["darebin", "City of Darebin"],
] as const;

/** A region with a single slot, so the demo shows a queue (its second buyer waits for the first to end). */
const DEMO_SLOTS: Partial<Record<(typeof REGIONS)[number][0], number>> = { darebin: 1 };

/** An open alert, so the overview and the Alerts page show one at work from the start. */
export const DEMO_ALERT = {
  fingerprint: "demo:refund-request-past-window",
  ruleKey: "demo",
  severity: "YELLOW",
  status: "FIRING",
  title: "A refund request is past the 3-day window",
  detail:
    "A business asked for a refund 4 days after buying. The rule is hard: deny it from the Refunds page (the email states the purchase date and the days elapsed), then acknowledge this alert.",
} as const;

const BUSINESS_WORDS = [
  "Pawsitive",
  "Good Dog",
  "Heel",
  "Sit Stay",
  "Bark Less",
  "Loose Lead",
  "Puppy",
  "Canine",
  "Recall",
  "Wag",
];
const BUSINESS_KINDS = ["Training", "Academy", "Dog School", "Behaviour Co", "K9 Coaching"];
const REVIEW_BODIES = [
  "Our rescue went from reactive to relaxed in six sessions. Patient, kind and clear trainer.",
  "Great puppy classes, our cavoodle now sits and waits at every door.",
  "Helpful advice on loose lead walking, though the sessions started late twice.",
  "Best trainer in the area. Highly recommend for recall training at the park.",
  "Cheap pills online visit http://spam.example now!!! best prices",
  "This is a terrible scam, total rubbish, do not waste your money.",
  "Does anyone know a good plumber around here? Unrelated but asking.",
  "Friendly team and the group class was well organised. Our kelpie loved it.",
];

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function seed(db: Db, now = new Date()): Promise<{ seeded: boolean }> {
  if ((await db.operator.count()) > 0) return { seeded: false };
  const random = prng(20261123);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000);

  const passwordHash = await hashPassword(DEMO_PASSWORD);
  for (const operator of DEMO_OPERATORS) {
    await db.operator.create({ data: { ...operator, passwordHash } });
  }

  const regions: { id: string; name: string }[] = [];
  // The marketplace's region ids are the slugs here; every demo charge pays this price.
  for (const [slug, name] of REGIONS)
    regions.push(
      await db.region.create({
        data: {
          slug,
          name,
          featuredSlots: DEMO_SLOTS[slug] ?? 5,
          externalId: slug,
          placementPriceCents: DEMO_PRICE_CENTS,
          placementCurrency: DEMO_CURRENCY,
        },
      }),
    );

  const businesses: { id: string }[] = [];
  for (let index = 0; index < 60; index++) {
    const region = regions[index % regions.length]!;
    const name = `${pick(BUSINESS_WORDS)} ${pick(BUSINESS_KINDS)} ${region.name.replace("City of ", "")} ${index + 1}`;
    businesses.push(
      await db.business.create({
        data: {
          regionId: region.id,
          externalId: `biz-${index + 1}`,
          name,
          email: `owner${index + 1}@trainers.example`,
          createdAt: hoursAgo(24 * (400 - index * 5)),
        },
      }),
    );
  }

  await db.review.createMany({
    data: Array.from({ length: 120 }, (_, index) => {
      const body = pick(REVIEW_BODIES);
      const looksBad = /spam|scam|plumber/i.test(body);
      // Low-confidence reviews carry the classifier's suggested reason and its signals, as a scored submission does.
      const suggestion = looksBad
        ? suggestionFor({ confidence: 0, signals: classifyReview({ body, rating: 1 }).signals })
        : null;
      return {
        ...(suggestion ? { suggestedReason: suggestion.reason, suggestedSignals: suggestion.signals } : {}),
        businessId: pick(businesses).id,
        rating: looksBad ? 1 : 3 + Math.floor(random() * 3),
        body,
        source: "seed",
        aiConfidence: looksBad ? 0.1 + random() * 0.3 : 0.75 + random() * 0.25,
        aiProvider: "deterministic",
        aiScoredAt: hoursAgo(200 - index),
        createdAt: hoursAgo(200 - index),
      };
    }),
  });

  // Each seeded score gets its history row, as a scored submission would.
  await db.$executeRaw`
    INSERT INTO "ReviewScore" (id, "reviewId", classifier, confidence, signals, "createdAt")
    SELECT gen_random_uuid(), id, 'deterministic', "aiConfidence", '[]'::jsonb, "aiScoredAt"
      FROM "Review" WHERE "aiConfidence" IS NOT NULL`;

  await seedPayments(db, businesses, now);
  await seedQueueDispute(db, now);
  await seedSearches(db, now);
  await db.alert.create({ data: { ...DEMO_ALERT, firstSeenAt: hoursAgo(3), lastSeenAt: hoursAgo(1) } });
  await seedHeldWebhookEvent(db, hoursAgo(5));

  return { seeded: true };
}

/** The business a held demo charge names: the marketplace sold it a placement before sending it to the catalog. */
export const DEMO_HELD_BUSINESS_REF = "biz-joining-soon";

/**
 * A webhook event held for the catalog, so the Webhooks page shows one: a charge for a business
 * the marketplace has not sent yet. It is processed when that business is imported.
 */
async function seedHeldWebhookEvent(db: Db, receivedAt: Date): Promise<void> {
  const chargeId = "ch_demo_held_for_catalog";
  const detail = `Charge ${chargeId} names business ${DEMO_HELD_BUSINESS_REF}, which is not in the catalog yet; it is processed when the business arrives`;
  await db.stripeWebhookEvent.create({
    data: {
      id: "evt_demo_held_for_catalog",
      type: "charge.succeeded",
      objectId: chargeId,
      payload: {
        id: "evt_demo_held_for_catalog",
        object: "event",
        type: "charge.succeeded",
        data: {
          object: {
            id: chargeId,
            object: "charge",
            amount: DEMO_PRICE_CENTS,
            currency: DEMO_CURRENCY,
            status: "succeeded",
            metadata: { business_id: DEMO_HELD_BUSINESS_REF },
          },
        },
      },
      status: "HELD",
      attempts: 1,
      lastError: detail,
      receivedAt,
      heldReason: "BUSINESS_UNKNOWN",
      heldBusinessRef: DEMO_HELD_BUSINESS_REF,
    },
  });
}

/** 60 days of marketplace searches (about 200–350 a day, busier on Mondays), for the search-volume trend. */
async function seedSearches(db: Db, now: Date): Promise<void> {
  await db.$executeRaw`
    INSERT INTO "SearchEvent" (id, "regionId", query, "resultCount", source, "occurredAt")
    SELECT uuid_generate_v7(), r.id, (ARRAY['puppy school', 'leash pulling', 'separation anxiety', 'recall'])[1 + n % 4],
           n % 12, 'seed', ${now}::timestamp - (d || ' days')::interval - ((n * 7) % 1440 || ' minutes')::interval
      FROM generate_series(0, 59) d
      CROSS JOIN LATERAL generate_series(1, 200 + (d * 37) % 150
        + CASE WHEN extract(isodow FROM ${now}::timestamp - (d || ' days')::interval) = 1 THEN 100 ELSE 0 END) n
      JOIN LATERAL (SELECT id FROM "Region" ORDER BY slug OFFSET n % 6 LIMIT 1) r ON true`;
}

// ── Payments and refund requests ──────────────────────────────────────────
// Seed data lives only in PostgreSQL, and the Stripe sandbox is in memory: the demo and the e2e
// stack call mirrorPaymentsToStripeSandbox once the sandbox is up, which creates the matching
// charges there (same ids, amounts and dates), so seeded payments can really be refunded.

/** Purchase ages (hours ago) of the seeded featured-placement payments, oldest first. */
const PAYMENT_AGES_HOURS = [600, 400, 300, 200, 130, 100, 80, 70, 62, 40, 20, 2] as const;
/** Which of those have a pending refund request: too late (100 h), expiring soon (62 h), fresh (20 h). */
const REFUND_REQUESTS: Record<number, string> = {
  100: "We booked the wrong region by mistake.",
  62: "Our business is closing for the summer.",
  20: "Charged twice for the same placement.",
};

export function demoChargeId(index: number): string {
  return `ch_demo${String(index + 1).padStart(17, "0")}`;
}

async function seedPayments(db: Db, businesses: readonly { id: string }[], now: Date): Promise<void> {
  for (const [index, hours] of PAYMENT_AGES_HOURS.entries()) {
    const business = await db.business.findUniqueOrThrow({ where: { id: businesses[index]!.id } });
    const purchasedAt = new Date(now.getTime() - hours * 3_600_000);
    await db.$transaction(async (tx) => {
      const payment = await tx.payment.create({
        data: {
          stripeChargeId: demoChargeId(index),
          businessId: business.id,
          amountCents: DEMO_PRICE_CENTS,
          currency: DEMO_CURRENCY,
          status: "SUCCEEDED",
          purchasedAt,
          createdAt: purchasedAt,
        },
      });
      // Activated when bought, as the webhook would have done then.
      await placePurchase(
        tx,
        { businessId: business.id, regionId: business.regionId, paymentId: payment.id, purchasedAt },
        purchasedAt,
      );
      const reason = REFUND_REQUESTS[hours];
      if (reason) {
        const request = await tx.refundRequest.create({
          data: {
            paymentId: payment.id,
            businessId: business.id,
            reason,
            requestedBy: "SYSTEM:seed",
            idempotencyKey: `refund-request-seed-${index}`,
            createdAt: new Date(purchasedAt.getTime() + 3_600_000),
          },
        });
        await tx.refundRequest.update({
          where: { id: request.id },
          data: { idempotencyKey: `refund-request-${request.id}` },
        });
      }
    });
  }
}

/** The note on the demo's flagged business: the seed's queue-position complaint (playbook 4). */
export const DEMO_DISPUTE_NOTE =
  "Emailed to say they paid first and ask why they are still waiting: check the queue against payment times.";

/** The business waiting in Darebin's single-slot queue complains about its position: flagged for review. */
async function seedQueueDispute(db: Db, now: Date): Promise<void> {
  const waiting = await db.placement.findFirst({ where: { status: "QUEUED" }, orderBy: { purchasedAt: "asc" } });
  if (!waiting) return;
  await db.business.update({
    where: { id: waiting.businessId },
    data: { status: "FLAGGED_FOR_REVIEW", flagNote: DEMO_DISPUTE_NOTE, flaggedAt: new Date(now.getTime() - 3_600_000) },
  });
}

/**
 * Creates a charge at the Stripe sandbox for every payment in the database (same id, amount,
 * currency, date and metadata; refunded ones refunded there too), without webhook events. Meant
 * for a freshly started sandbox: one that already holds charges is left alone.
 */
export async function mirrorPaymentsToStripeSandbox(
  db: Db,
  sandboxUrl: string,
  apiKey = "sk_test_steward_sandbox",
): Promise<number> {
  const state = (await (await fetch(`${sandboxUrl}/_sandbox/state`)).json()) as { charges?: number };
  if ((state.charges ?? 0) > 0) return 0;
  const missing = await db.payment.findMany({ include: { business: { select: { regionId: true } } } });
  if (missing.length === 0) return 0;
  const response = await fetch(`${sandboxUrl}/_sandbox/charges`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      emitEvents: false,
      charges: missing.map((payment) => ({
        id: payment.stripeChargeId,
        amount: payment.amountCents,
        currency: payment.currency,
        created: Math.floor(payment.purchasedAt.getTime() / 1000),
        status: payment.status === "FAILED" ? "failed" : payment.status === "PENDING" ? "pending" : "succeeded",
        metadata: { business_id: payment.businessId, region_id: payment.business.regionId },
      })),
    }),
  });
  if (!response.ok) throw new Error(`Stripe sandbox refused the demo charges: ${await response.text()}`);
  for (const payment of missing.filter((p) => p.refundedCents > 0)) {
    await fetch(`${sandboxUrl}/v1/refunds`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${apiKey}`,
        "content-type": "application/x-www-form-urlencoded",
        "idempotency-key": `demo-mirror-${payment.stripeChargeId}`,
      },
      body: new URLSearchParams({ charge: payment.stripeChargeId, amount: String(payment.refundedCents) }),
    });
  }
  return missing.length;
}

/**
 * The demo's reconciliation finding: a featured-placement charge at the Stripe sandbox whose
 * webhook never arrived (for a business without a placement, two days ago). Reconciliation lists
 * it as missing in our records; importing it records the payment and its placement.
 */
export async function seedMissedChargeInStripeSandbox(db: Db, sandboxUrl: string): Promise<string | null> {
  const business = await db.business.findFirst({ where: { placements: { none: {} } }, orderBy: { name: "asc" } });
  if (!business) return null;
  const response = await fetch(`${sandboxUrl}/_sandbox/charges`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      emitEvents: false,
      charges: [
        {
          amount: DEMO_PRICE_CENTS,
          currency: DEMO_CURRENCY,
          created: Math.floor(Date.now() / 1000) - 2 * 86_400,
          metadata: { business_id: business.id, region_id: business.regionId },
        },
      ],
    }),
  });
  if (!response.ok) throw new Error(`Stripe sandbox refused the missed charge: ${await response.text()}`);
  return ((await response.json()) as { ids: string[] }).ids[0] ?? null;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const db = createPrismaClient();
  const result = await seed(db);
  console.log(result.seeded ? "Seeded demo data." : "Database already has data; seed skipped.");
  await db.$disconnect();
}
