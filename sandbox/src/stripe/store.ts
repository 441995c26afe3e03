/**
 * In-memory Stripe state: charges, refunds and events, each kept in a list sorted by
 * (created, id) so that listing newest-first, cursors and `created` ranges are binary
 * searches rather than scans — the reconciliation benchmark seeds 100k+ charges.
 */
import { randomBytes } from "node:crypto";
import { ApiError, resourceMissing } from "./errors.ts";
import type { CreatedRange } from "./forms.ts";

export type Metadata = Record<string, string>;
export type ChargeStatus = "succeeded" | "failed" | "pending";
export type RefundReason = "duplicate" | "fraudulent" | "requested_by_customer";

export interface ChargeOutcome {
  network_status: "approved_by_network" | "declined_by_network" | null;
  reason: string | null;
  risk_level: "normal";
  seller_message: string;
  type: "authorized" | "issuer_declined" | "manual_review";
}

export interface Charge {
  id: string;
  object: "charge";
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  balance_transaction: string | null;
  captured: boolean;
  created: number;
  currency: string;
  customer: string | null;
  description: string | null;
  failure_code: string | null;
  failure_message: string | null;
  livemode: false;
  metadata: Metadata;
  outcome: ChargeOutcome | null;
  paid: boolean;
  payment_intent: string | null;
  receipt_email: string | null;
  refunded: boolean;
  status: ChargeStatus;
}

export interface Refund {
  id: string;
  object: "refund";
  amount: number;
  balance_transaction: string | null;
  charge: string;
  created: number;
  currency: string;
  metadata: Metadata;
  payment_intent: string | null;
  reason: RefundReason | null;
  receipt_number: string | null;
  status: "succeeded";
}

export type EventType = "charge.succeeded" | "charge.failed" | "charge.pending" | "charge.refunded" | "refund.created";

export interface StripeEvent {
  id: string;
  object: "event";
  api_version: string;
  created: number;
  data: { object: Charge | Refund; previous_attributes?: Partial<Charge> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: EventType;
}

/** The API request that caused a change; Stripe records it on the event. */
export interface RequestContext {
  requestId: string | null;
  idempotencyKey: string | null;
}

const NO_REQUEST: RequestContext = { requestId: null, idempotencyKey: null };

export interface Decline {
  code: string;
  message: string;
  declineCode?: string;
}

export interface ChargeInput {
  amount: number;
  currency: string;
  description?: string | null;
  metadata?: Metadata;
  customer?: string | null;
  receipt_email?: string | null;
  /** Default 'succeeded'; 'failed' uses `decline` (default generic card_declined). */
  status?: ChargeStatus;
  decline?: Decline;
  /** Unix seconds; default now. Lets seeds place charges in the past. */
  created?: number;
  /** A chosen id (must start with `ch_` and be unused); default generated. */
  id?: string;
}

export interface RefundInput {
  charge: string;
  amount?: number;
  reason?: RefundReason | null;
  metadata?: Metadata;
}

export interface PageQuery {
  limit: number;
  startingAfter?: string;
  endingBefore?: string;
  created?: CreatedRange;
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
}

export const GENERIC_DECLINE: Decline = {
  code: "card_declined",
  declineCode: "generic_decline",
  message: "Your card was declined.",
};

// ---------------------------------------------------------------------------------
// Ids

// ASCII order, so ids built from it sort the same way as the numbers they encode.
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
let sequence = 0;

/**
 * `ch_` + 24 characters like Stripe. The first 8 encode a process-wide counter so ids
 * created within the same second still list in creation order (newest first).
 */
export function newId(prefix: string): string {
  sequence += 1;
  let n = sequence;
  let head = "";
  for (let i = 0; i < 8; i += 1) {
    head = ALPHABET.charAt(n % 62) + head;
    n = Math.floor(n / 62);
  }
  let tail = "";
  for (const byte of randomBytes(16)) tail += ALPHABET.charAt(byte % 62);
  return `${prefix}_${head}${tail}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

// ---------------------------------------------------------------------------------
// Sorted list with Stripe pagination

interface Timed {
  id: string;
  created: number;
}

function compareTimed(a: Timed, b: Timed): number {
  if (a.created !== b.created) return a.created - b.created;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Items sorted ascending by (created, id): the newest is at the end, so appends are O(1). */
export class TimeOrderedList<T extends Timed> {
  private items: T[] = [];
  private readonly byId = new Map<string, T>();

  constructor(private readonly kind: string) {}

  get size(): number {
    return this.items.length;
  }

  get(id: string): T | undefined {
    return this.byId.get(id);
  }

  /** Oldest first. */
  values(): readonly T[] {
    return this.items;
  }

  insert(item: T): void {
    if (this.byId.has(item.id)) throw new Error(`duplicate ${this.kind} id ${item.id}`);
    this.byId.set(item.id, item);
    const last = this.items[this.items.length - 1];
    if (last === undefined || compareTimed(last, item) <= 0) {
      this.items.push(item);
    } else {
      this.items.splice(this.lowerBound(item), 0, item);
    }
  }

  /** Bulk insert: one sort instead of n splices (sorting a mostly sorted array is fast). */
  insertMany(items: readonly T[]): void {
    // Check first so a bad batch leaves the list untouched.
    const batch = new Set<string>();
    for (const item of items) {
      if (this.byId.has(item.id) || batch.has(item.id)) throw new Error(`duplicate ${this.kind} id ${item.id}`);
      batch.add(item.id);
    }
    for (const item of items) {
      this.byId.set(item.id, item);
      this.items.push(item);
    }
    this.items.sort(compareTimed);
  }

  clear(): void {
    this.items = [];
    this.byId.clear();
  }

  /**
   * One page, newest first, like Stripe's list endpoints: `starting_after` gives the
   * items older than the cursor, `ending_before` the ones just newer than it (still
   * returned newest first); `hasMore` says whether more exist in that direction.
   */
  page(query: PageQuery, filter?: (item: T) => boolean): Page<T> {
    let lo = 0;
    let hi = this.items.length;
    const range = query.created;
    if (range) {
      if (range.gte !== undefined) lo = Math.max(lo, this.firstCreatedAtLeast(range.gte));
      if (range.gt !== undefined) lo = Math.max(lo, this.firstCreatedAtLeast(range.gt + 1));
      if (range.lte !== undefined) hi = Math.min(hi, this.firstCreatedAtLeast(range.lte + 1));
      if (range.lt !== undefined) hi = Math.min(hi, this.firstCreatedAtLeast(range.lt));
    }
    const { limit } = query;
    const matches = (item: T): boolean => filter === undefined || filter(item);
    const found: T[] = [];

    if (query.endingBefore !== undefined) {
      lo = Math.max(lo, this.cursorIndex(query.endingBefore, "ending_before") + 1);
      // Walk towards newer items from the cursor; keep the `limit` closest to it.
      for (let i = lo; i < hi && found.length <= limit; i += 1) {
        const item = this.items[i];
        if (item !== undefined && matches(item)) found.push(item);
      }
      const hasMore = found.length > limit;
      return { data: found.slice(0, limit).reverse(), hasMore };
    }

    if (query.startingAfter !== undefined) {
      hi = Math.min(hi, this.cursorIndex(query.startingAfter, "starting_after"));
    }
    for (let i = hi - 1; i >= lo && found.length <= limit; i -= 1) {
      const item = this.items[i];
      if (item !== undefined && matches(item)) found.push(item);
    }
    const hasMore = found.length > limit;
    return { data: hasMore ? found.slice(0, limit) : found, hasMore };
  }

  private cursorIndex(id: string, param: string): number {
    const item = this.byId.get(id);
    if (item === undefined) throw resourceMissing(this.kind, id, param);
    return this.lowerBound(item);
  }

  /** First index whose item sorts at or after `probe`. */
  private lowerBound(probe: Timed): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const item = this.items[mid];
      if (item !== undefined && compareTimed(item, probe) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private firstCreatedAtLeast(created: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const item = this.items[mid];
      if (item !== undefined && item.created < created) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

// ---------------------------------------------------------------------------------
// The store

export interface StoreOptions {
  apiVersion: string;
  /** How many webhook endpoints will receive an event (0 or 1), for `pending_webhooks`. */
  pendingWebhooks: () => number;
}

export class StripeStore {
  readonly charges = new TimeOrderedList<Charge>("charge");
  readonly refunds = new TimeOrderedList<Refund>("refund");
  readonly events = new TimeOrderedList<StripeEvent>("event");
  private readonly listeners = new Set<(event: StripeEvent) => void>();

  constructor(private readonly options: StoreOptions) {}

  /** Called for every new event (webhook delivery subscribes here). */
  onEvent(listener: (event: StripeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  getCharge(id: string): Charge | undefined {
    return this.charges.get(id);
  }

  getRefund(id: string): Refund | undefined {
    return this.refunds.get(id);
  }

  getEvent(id: string): StripeEvent | undefined {
    return this.events.get(id);
  }

  /** Records a charge (succeeded, failed or pending) and its event. */
  createCharge(input: ChargeInput, ctx: RequestContext = NO_REQUEST): Charge {
    const charge = buildCharge(input);
    this.charges.insert(charge);
    this.emit(chargeEventType(charge.status), charge, ctx);
    return charge;
  }

  /** Bulk insert for seeding: one sort, and no events unless asked for. */
  seedCharges(inputs: readonly ChargeInput[], options: { emitEvents?: boolean } = {}): Charge[] {
    const charges = inputs.map(buildCharge);
    this.charges.insertMany(charges);
    if (options.emitEvents) {
      for (const charge of charges) this.emit(chargeEventType(charge.status), charge, NO_REQUEST);
    }
    return charges;
  }

  /** Full (no amount) or partial refund, with Stripe's refusals. */
  createRefund(input: RefundInput, ctx: RequestContext = NO_REQUEST): Refund {
    const charge = this.charges.get(input.charge);
    if (charge === undefined) throw resourceMissing("charge", input.charge, "charge", 400);
    if (charge.status !== "succeeded" || !charge.captured) {
      throw new ApiError(400, {
        type: "invalid_request_error",
        code: "charge_not_refundable",
        param: "charge",
        message: `Charge ${charge.id} cannot be refunded because its status is ${charge.status}.`,
      });
    }
    const remaining = charge.amount_captured - charge.amount_refunded;
    if (remaining <= 0) {
      throw new ApiError(400, {
        type: "invalid_request_error",
        code: "charge_already_refunded",
        message: `Charge ${charge.id} has already been refunded.`,
      });
    }
    const amount = input.amount ?? remaining;
    if (amount > remaining) {
      throw new ApiError(400, {
        type: "invalid_request_error",
        code: "amount_too_large",
        param: "amount",
        message: `Refund amount (${money(amount, charge.currency)}) is greater than unrefunded amount on charge (${money(remaining, charge.currency)})`,
      });
    }

    const refund: Refund = {
      id: newId("re"),
      object: "refund",
      amount,
      balance_transaction: null,
      charge: charge.id,
      created: nowSeconds(),
      currency: charge.currency,
      metadata: input.metadata ?? {},
      payment_intent: charge.payment_intent,
      reason: input.reason ?? null,
      receipt_number: null,
      status: "succeeded",
    };
    this.refunds.insert(refund);
    const previous: Partial<Charge> = {
      amount_refunded: charge.amount_refunded,
      refunded: charge.refunded,
    };
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded >= charge.amount_captured;
    // Stripe sends charge.refunded for partial refunds too.
    this.emit("charge.refunded", charge, ctx, previous);
    this.emit("refund.created", refund, ctx);
    return refund;
  }

  /** Clears all objects (ids keep counting, so old ids never come back). */
  reset(): void {
    this.charges.clear();
    this.refunds.clear();
    this.events.clear();
  }

  stats(): { charges: number; refunds: number; events: number } {
    return {
      charges: this.charges.size,
      refunds: this.refunds.size,
      events: this.events.size,
    };
  }

  private emit(type: EventType, object: Charge | Refund, ctx: RequestContext, previous?: Partial<Charge>): StripeEvent {
    const event: StripeEvent = {
      id: newId("evt"),
      object: "event",
      api_version: this.options.apiVersion,
      created: nowSeconds(),
      // A snapshot: later changes to the object must not rewrite history.
      data:
        previous === undefined
          ? { object: structuredClone(object) }
          : { object: structuredClone(object), previous_attributes: previous },
      livemode: false,
      pending_webhooks: this.options.pendingWebhooks(),
      request: { id: ctx.requestId, idempotency_key: ctx.idempotencyKey },
      type,
    };
    this.events.insert(event);
    for (const listener of this.listeners) listener(event);
    return event;
  }
}

function chargeEventType(status: ChargeStatus): EventType {
  return status === "succeeded" ? "charge.succeeded" : status === "failed" ? "charge.failed" : "charge.pending";
}

function buildCharge(input: ChargeInput): Charge {
  if (!Number.isSafeInteger(input.amount) || input.amount < 0) throw new Error(`invalid charge amount ${input.amount}`);
  if (!/^[a-z]{3}$/.test(input.currency)) throw new Error(`invalid currency ${input.currency}`);
  if (input.created !== undefined && !Number.isSafeInteger(input.created))
    throw new Error(`invalid created ${input.created}`);
  if (input.id !== undefined && !input.id.startsWith("ch_")) throw new Error(`charge ids start with ch_: ${input.id}`);
  const status = input.status ?? "succeeded";
  const decline = status === "failed" ? (input.decline ?? GENERIC_DECLINE) : null;
  const succeeded = status === "succeeded";
  return {
    id: input.id ?? newId("ch"),
    object: "charge",
    amount: input.amount,
    amount_captured: succeeded ? input.amount : 0,
    amount_refunded: 0,
    balance_transaction: succeeded ? newId("txn") : null,
    captured: succeeded,
    created: input.created ?? nowSeconds(),
    currency: input.currency,
    customer: input.customer ?? null,
    description: input.description ?? null,
    failure_code: decline?.code ?? null,
    failure_message: decline?.message ?? null,
    livemode: false,
    metadata: { ...input.metadata },
    outcome:
      status === "pending"
        ? null
        : decline === null
          ? {
              network_status: "approved_by_network",
              reason: null,
              risk_level: "normal",
              seller_message: "Payment complete.",
              type: "authorized",
            }
          : {
              network_status: "declined_by_network",
              reason: decline.declineCode ?? decline.code,
              risk_level: "normal",
              seller_message: "The bank did not return any further details with this decline.",
              type: "issuer_declined",
            },
    paid: succeeded,
    payment_intent: null,
    receipt_email: input.receipt_email ?? null,
    refunded: false,
    status,
  };
}

function money(amount: number, currency: string): string {
  return `${currency.toUpperCase()} ${(amount / 100).toFixed(2)}`;
}
