/**
 * The Stripe-compatible /v1 endpoints: charges, refunds and events. Each handler gets
 * parsed parameters and returns the JSON body of a 200, or throws an ApiError.
 */
import { ApiError, invalidParam, missingParam, resourceMissing } from "./errors.ts";
import { Params } from "./forms.ts";
import type { FormObject } from "./forms.ts";
import { GENERIC_DECLINE } from "./store.ts";
import type { Decline, Page, PageQuery, RefundReason, RequestContext, StripeStore } from "./store.ts";

export interface ApiRequest {
  method: string;
  path: string;
  params: FormObject;
  ctx: RequestContext;
}

type Handler = (store: StripeStore, request: ApiRequest, id: string) => unknown;

interface Route {
  method: "GET" | "POST";
  pattern: RegExp;
  handler: Handler;
}

// Test-mode tokens with a known outcome, as in Stripe's testing docs.
const DECLINING_TOKENS = new Map<string, Decline>([
  ["tok_chargeDeclined", GENERIC_DECLINE],
  ["tok_visa_chargeDeclined", GENERIC_DECLINE],
  [
    "tok_chargeDeclinedInsufficientFunds",
    {
      code: "card_declined",
      declineCode: "insufficient_funds",
      message: "Your card has insufficient funds.",
    },
  ],
  [
    "tok_chargeDeclinedFraudulent",
    {
      code: "card_declined",
      declineCode: "fraudulent",
      message: "Your card was declined.",
    },
  ],
  ["tok_chargeDeclinedExpiredCard", { code: "expired_card", message: "Your card has expired." }],
  [
    "tok_chargeDeclinedIncorrectCvc",
    {
      code: "incorrect_cvc",
      message: "Your card's security code is incorrect.",
    },
  ],
  [
    "tok_chargeDeclinedProcessingError",
    {
      code: "processing_error",
      message: "An error occurred while processing your card. Try again in a little bit.",
    },
  ],
]);

const REFUND_REASONS: readonly RefundReason[] = ["duplicate", "fraudulent", "requested_by_customer"];

const routes: Route[] = [
  { method: "POST", pattern: /^\/v1\/charges$/, handler: createCharge },
  { method: "GET", pattern: /^\/v1\/charges$/, handler: listCharges },
  {
    method: "GET",
    pattern: /^\/v1\/charges\/([^/]+)$/,
    handler: retrieveCharge,
  },
  { method: "POST", pattern: /^\/v1\/refunds$/, handler: createRefund },
  { method: "GET", pattern: /^\/v1\/refunds$/, handler: listRefunds },
  {
    method: "GET",
    pattern: /^\/v1\/refunds\/([^/]+)$/,
    handler: retrieveRefund,
  },
  { method: "GET", pattern: /^\/v1\/events$/, handler: listEvents },
  { method: "GET", pattern: /^\/v1\/events\/([^/]+)$/, handler: retrieveEvent },
];

/** Runs the matching endpoint; unknown URLs answer like Stripe's 404. */
export function handleApi(store: StripeStore, request: ApiRequest): unknown {
  for (const route of routes) {
    if (route.method !== request.method) continue;
    const match = route.pattern.exec(request.path);
    if (match) return route.handler(store, request, decodeURIComponent(match[1] ?? ""));
  }
  throw new ApiError(
    404,
    {
      type: "invalid_request_error",
      message: `Unrecognized request URL (${request.method}: ${request.path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    },
    { replayable: false },
  );
}

// ---------------------------------------------------------------------------------
// Charges

function createCharge(store: StripeStore, request: ApiRequest): unknown {
  const p = new Params(request.params);
  const amount = p.integer("amount");
  if (amount === undefined) throw missingParam("amount");
  const currency = p.requiredString("currency").toLowerCase();
  if (!/^[a-z]{3}$/.test(currency))
    throw invalidParam("currency", `Invalid currency: ${currency}.`, "parameter_invalid_string");
  if (amount < 50) {
    throw new ApiError(
      400,
      {
        type: "invalid_request_error",
        code: "amount_too_small",
        param: "amount",
        message: `Amount must be at least 50 ${currency} minor units.`,
      },
      { replayable: false },
    );
  }
  const source = p.string("source");
  const customer = p.string("customer");
  const description = p.string("description");
  const receiptEmail = p.string("receipt_email");
  const metadata = p.metadata();
  if (p.boolean("capture") === false) {
    throw invalidParam("capture", "The sandbox only supports captured charges (capture=true).");
  }
  p.accept("expand", "statement_descriptor", "statement_descriptor_suffix", "transfer_group");
  p.rejectUnknown();

  // Without a token the charge succeeds, which keeps demo seeding short.
  let decline: Decline | undefined;
  if (source !== undefined) {
    decline = DECLINING_TOKENS.get(source);
    if (decline === undefined && !/^(tok|card|src|pm)_/.test(source))
      throw resourceMissing("source", source, "source", 400);
  }

  const input = {
    amount,
    currency,
    ...(customer === undefined ? {} : { customer }),
    ...(description === undefined ? {} : { description }),
    ...(receiptEmail === undefined ? {} : { receipt_email: receiptEmail }),
    ...(metadata === undefined ? {} : { metadata }),
  };
  if (decline !== undefined) {
    // Stripe stores the failed charge, emits charge.failed and answers 402 naming it.
    const failed = store.createCharge({ ...input, status: "failed", decline }, request.ctx);
    throw new ApiError(402, {
      type: "card_error",
      code: decline.code,
      ...(decline.declineCode === undefined ? {} : { decline_code: decline.declineCode }),
      message: decline.message,
      charge: failed.id,
    });
  }
  return store.createCharge(input, request.ctx);
}

function retrieveCharge(store: StripeStore, request: ApiRequest, id: string): unknown {
  acceptOnly(request, "expand");
  const charge = store.getCharge(id);
  if (charge === undefined) throw resourceMissing("charge", id, "id");
  return charge;
}

function listCharges(store: StripeStore, request: ApiRequest): unknown {
  const p = new Params(request.params);
  const query = pageQuery(p);
  const customer = p.string("customer");
  const paymentIntent = p.string("payment_intent");
  p.accept("expand", "transfer_group");
  p.rejectUnknown();
  const filter =
    customer === undefined && paymentIntent === undefined
      ? undefined
      : (c: { customer: string | null; payment_intent: string | null }) =>
          (customer === undefined || c.customer === customer) &&
          (paymentIntent === undefined || c.payment_intent === paymentIntent);
  return list("/v1/charges", store.charges.page(query, filter));
}

// ---------------------------------------------------------------------------------
// Refunds

function createRefund(store: StripeStore, request: ApiRequest): unknown {
  const p = new Params(request.params);
  const charge = p.string("charge");
  const paymentIntent = p.string("payment_intent");
  const amount = p.integer("amount", { min: 1 });
  const reason = p.string("reason");
  const metadata = p.metadata();
  p.accept("expand", "instructions_email", "refund_application_fee", "reverse_transfer");
  p.rejectUnknown();
  if (charge === undefined) {
    if (paymentIntent !== undefined) throw resourceMissing("payment_intent", paymentIntent, "payment_intent", 400);
    throw invalidParam(
      "charge",
      "One of the following params should be provided for this request: payment_intent or charge.",
      "parameter_missing",
    );
  }
  if (reason !== undefined && !isRefundReason(reason)) {
    throw invalidParam("reason", `Invalid reason: must be one of ${REFUND_REASONS.join(", ")}`);
  }
  return store.createRefund(
    {
      charge,
      ...(amount === undefined ? {} : { amount }),
      ...(reason === undefined ? {} : { reason }),
      ...(metadata === undefined ? {} : { metadata }),
    },
    request.ctx,
  );
}

function retrieveRefund(store: StripeStore, request: ApiRequest, id: string): unknown {
  acceptOnly(request, "expand");
  const refund = store.getRefund(id);
  if (refund === undefined) throw resourceMissing("refund", id, "id");
  return refund;
}

function listRefunds(store: StripeStore, request: ApiRequest): unknown {
  const p = new Params(request.params);
  const query = pageQuery(p);
  const charge = p.string("charge");
  const paymentIntent = p.string("payment_intent");
  p.accept("expand");
  p.rejectUnknown();
  const filter =
    charge === undefined && paymentIntent === undefined
      ? undefined
      : (r: { charge: string; payment_intent: string | null }) =>
          (charge === undefined || r.charge === charge) &&
          (paymentIntent === undefined || r.payment_intent === paymentIntent);
  return list("/v1/refunds", store.refunds.page(query, filter));
}

// ---------------------------------------------------------------------------------
// Events

function retrieveEvent(store: StripeStore, request: ApiRequest, id: string): unknown {
  acceptOnly(request, "expand");
  const event = store.getEvent(id);
  if (event === undefined) throw resourceMissing("event", id, "id");
  return event;
}

function listEvents(store: StripeStore, request: ApiRequest): unknown {
  const p = new Params(request.params);
  const query = pageQuery(p);
  const type = p.string("type");
  const types = p.stringList("types");
  p.accept("expand", "delivery_success");
  p.rejectUnknown();
  if (type !== undefined && types !== undefined) {
    throw invalidParam("types", "You may only specify one of these parameters: type, types.");
  }
  const wanted = type === undefined ? types : [type];
  // `charge.*` matches every charge event, like Stripe.
  const matchers = wanted?.map((t) =>
    t.endsWith(".*") ? (s: string) => s.startsWith(t.slice(0, -1)) : (s: string) => s === t,
  );
  const filter = matchers === undefined ? undefined : (e: { type: string }) => matchers.some((m) => m(e.type));
  return list("/v1/events", store.events.page(query, filter));
}

// ---------------------------------------------------------------------------------
// Helpers

function pageQuery(p: Params): PageQuery {
  const limit = p.integer("limit", { min: 1, max: 100 }) ?? 10;
  const startingAfter = p.string("starting_after");
  const endingBefore = p.string("ending_before");
  const created = p.createdRange();
  if (startingAfter !== undefined && endingBefore !== undefined) {
    throw invalidParam("ending_before", "You may only specify one of these parameters: ending_before, starting_after.");
  }
  return {
    limit,
    ...(startingAfter === undefined || startingAfter === "" ? {} : { startingAfter }),
    ...(endingBefore === undefined || endingBefore === "" ? {} : { endingBefore }),
    ...(created === undefined ? {} : { created }),
  };
}

function list<T>(url: string, page: Page<T>): unknown {
  return { object: "list", data: page.data, has_more: page.hasMore, url };
}

function acceptOnly(request: ApiRequest, ...names: string[]): void {
  const p = new Params(request.params);
  p.accept(...names);
  p.rejectUnknown();
}

function isRefundReason(value: string): value is RefundReason {
  return (REFUND_REASONS as readonly string[]).includes(value);
}
