// The payments port: the Stripe operations core uses, and nothing more. Stripe is the source of
// truth for charges, so the shapes keep Stripe's field names (snake_case, amounts in cents, times
// in Unix seconds). The implementation is core/src/adapters/stripe.ts; tests may pass a fake.

export interface GatewayCharge {
  id: string;
  amount: number;
  amount_refunded: number;
  currency: string;
  /** "succeeded", "pending" or "failed" (Stripe may add more). */
  status: string;
  refunded: boolean;
  /** Unix seconds. */
  created: number;
  metadata: Record<string, string> | null;
}

export interface GatewayRefund {
  id: string;
  amount: number;
  currency: string;
  /** "pending", "succeeded", "failed"...; a failed refund moved no money. */
  status?: string | null;
  /** The refunded charge: its id, or the charge itself when expanded. */
  charge: string | { id: string } | null;
  metadata: Record<string, string> | null;
}

/** What the webhook receiver relies on (checked again with zod before use). */
export interface GatewayEvent {
  id: string;
  type: string;
  data: { object: object };
}

export interface ChargeListParams {
  /** Unix seconds: from `gte` (inclusive) to `lt` (exclusive). */
  created?: { gte?: number; lt?: number };
  limit: number;
  /** Resume after this charge id (the last one read). */
  starting_after?: string;
}

export interface RefundCreateParams {
  charge: string;
  amount: number;
  reason?: "requested_by_customer" | "duplicate" | "fraudulent";
  metadata: Record<string, string>;
}

export interface PaymentsGateway {
  charges: {
    retrieve(id: string): Promise<GatewayCharge>;
    /** One page. */
    list(params: ChargeListParams): Promise<{ data: GatewayCharge[]; has_more: boolean }>;
    /** Every matching charge, newest first, fetching page after page as it is read. */
    iterate(params: ChargeListParams): AsyncIterable<GatewayCharge>;
  };
  refunds: {
    /** The same idempotency key replays the same refund (Stripe keeps keys 24 h). */
    create(params: RefundCreateParams, options: { idempotencyKey: string }): Promise<GatewayRefund>;
    retrieve(id: string): Promise<GatewayRefund>;
    list(params: { charge: string; limit: number }): Promise<{ data: GatewayRefund[] }>;
  };
  events: {
    /** Stripe's own copy of an event (the webhook replay re-fetches it before re-processing). */
    retrieve(id: string): Promise<GatewayEvent>;
  };
  webhooks: {
    /** Verifies the signature over the raw body (HMAC, `toleranceSeconds` old at most); throws why not. */
    constructEvent(rawBody: Buffer | string, signature: string, secret: string, toleranceSeconds: number): GatewayEvent;
  };
}

/**
 * What a gateway call that reached Stripe (or failed to) rejects with. `transient`: worth
 * retrying later with the same idempotency key (network, 409 in flight, 429, 5xx).
 */
export class PaymentsGatewayError extends Error {
  readonly transient: boolean;
  /** Stripe's error code, e.g. "resource_missing", "charge_already_refunded". */
  readonly code: string | null;
  readonly statusCode: number | null;
  constructor(
    message: string,
    details: { transient: boolean; code: string | null; statusCode: number | null; cause?: unknown },
  ) {
    super(message, { cause: details.cause });
    this.name = "PaymentsGatewayError";
    this.transient = details.transient;
    this.code = details.code;
    this.statusCode = details.statusCode;
  }
}

export function isTransientPaymentsError(error: unknown): boolean {
  return error instanceof PaymentsGatewayError && error.transient;
}

/** Stripe answered and refused (invalid request, card, auth...): retrying the same call will not help. */
export function isPermanentPaymentsError(error: unknown): boolean {
  return error instanceof PaymentsGatewayError && !error.transient;
}

export function paymentsErrorCode(error: unknown): string | null {
  return error instanceof PaymentsGatewayError ? error.code : null;
}
