/**
 * Webhook delivery like Stripe's: each event is POSTed as JSON with a
 * `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256("<t>.<payload>")>` header (re-signed
 * on every attempt), retried with exponential backoff on non-2xx or network errors.
 * Fault switches reproduce what real receivers must survive: duplicates, out-of-order
 * delivery, missed events and manual resends.
 */
import { createHmac } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { StripeEvent } from "./store.ts";
import { nowSeconds } from "./store.ts";

export function signatureHeader(payload: string, secret: string, timestamp: number = nowSeconds()): string {
  const signature = createHmac("sha256", secret).update(`${timestamp}.${payload}`, "utf8").digest("hex");
  return `t=${timestamp},v1=${signature}`;
}

export interface WebhookRetryOptions {
  /** Delay before the 2nd attempt; doubles each time (Stripe: hours, here milliseconds). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Total attempts per delivery, the first included. */
  maxAttempts: number;
  /** How long to wait for the receiver's answer. */
  timeoutMs: number;
}

export const DEFAULT_WEBHOOK_RETRY: WebhookRetryOptions = {
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  maxAttempts: 5,
  timeoutMs: 10_000,
};

export interface WebhookFaultInput {
  /** The next N events are each delivered twice (the second after the first finishes). */
  duplicate?: number;
  /** The next N events are held back and sent after the following event (or after holdMs). */
  outOfOrder?: number;
  /** The next N events are never delivered (they stay retrievable via the API). */
  drop?: number;
  /** Longest time an out-of-order event is held when no later event comes. */
  holdMs?: number;
}

export type WebhookFaultState = Required<WebhookFaultInput>;

export type DeliveryReason = "event" | "retry" | "duplicate" | "resend" | "held";

export interface DeliveryRecord {
  eventId: string;
  type: string;
  reason: DeliveryReason;
  attempt: number;
  /** Unix ms. */
  at: number;
  outcome: "delivered" | "failed" | "dropped";
  status: number | null;
  error: string | null;
}

const DELIVERY_LOG_LIMIT = 10_000;

export class WebhookDispatcher {
  private url: string | null;
  private secret: string;
  private retry: WebhookRetryOptions;
  private faults: WebhookFaultState = {
    duplicate: 0,
    outOfOrder: 0,
    drop: 0,
    holdMs: 2_000,
  };
  private held: Array<{
    event: StripeEvent;
    release: (deliver: boolean) => void;
  }> = [];
  private readonly log: DeliveryRecord[] = [];
  private pending = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  private readonly inFlight = new Set<http.ClientRequest>();
  private stopped = false;

  constructor(options: { url?: string | undefined; secret: string; retry?: Partial<WebhookRetryOptions> | undefined }) {
    this.url = options.url ?? null;
    this.secret = options.secret;
    this.retry = { ...DEFAULT_WEBHOOK_RETRY, ...options.retry };
  }

  get endpointUrl(): string | null {
    return this.url;
  }

  get signingSecret(): string {
    return this.secret;
  }

  configure(options: { url?: string | null; secret?: string; retry?: Partial<WebhookRetryOptions> }): void {
    if (options.url !== undefined) this.url = options.url;
    if (options.secret !== undefined) this.secret = options.secret;
    if (options.retry !== undefined) this.retry = { ...this.retry, ...options.retry };
  }

  setFaults(input: WebhookFaultInput): WebhookFaultState {
    for (const [key, value] of Object.entries(input)) {
      if (!(key in this.faults)) throw new Error(`unknown webhook fault ${key}`);
      if (!Number.isInteger(value) || (value as number) < 0) throw new Error(`${key} must be a non-negative integer`);
    }
    this.faults = { ...this.faults, ...input };
    return this.getFaults();
  }

  getFaults(): WebhookFaultState {
    return { ...this.faults };
  }

  deliveries(): readonly DeliveryRecord[] {
    return this.log;
  }

  /** Entry point for every new event. */
  dispatch(event: StripeEvent): void {
    if (this.url === null || this.stopped) return;
    if (this.faults.drop > 0) {
      this.faults.drop -= 1;
      this.record(event, "event", 1, {
        outcome: "dropped",
        status: null,
        error: "dropped by fault injection",
      });
      return;
    }
    if (this.faults.outOfOrder > 0) {
      this.faults.outOfOrder -= 1;
      this.hold(event);
      return;
    }
    const duplicate = this.faults.duplicate > 0;
    if (duplicate) this.faults.duplicate -= 1;
    this.track(async () => {
      // Held events go out once a later event has had its first attempt: out of order.
      await this.deliver(event, "event", () => this.releaseHeld());
      if (duplicate) await this.deliver(event, "duplicate");
    });
  }

  /** Sends an existing event again (Stripe dashboard's "Resend"). */
  resend(event: StripeEvent): boolean {
    if (this.url === null || this.stopped) return false;
    this.track(() => this.deliver(event, "resend"));
    return true;
  }

  /** Sends every held (out-of-order) event now. */
  releaseHeld(): number {
    return this.flushHeld(true);
  }

  /** Resolves once no delivery, retry or held event is outstanding. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Forgets faults, held events and the log; keeps the endpoint configuration. */
  reset(): void {
    this.faults = {
      duplicate: 0,
      outOfOrder: 0,
      drop: 0,
      holdMs: this.faults.holdMs,
    };
    this.flushHeld(false);
    this.log.length = 0;
  }

  stop(): void {
    this.stopped = true;
    this.flushHeld(false);
    for (const [timer, wake] of this.sleepers) {
      clearTimeout(timer);
      wake();
    }
    this.sleepers.clear();
    for (const request of this.inFlight) request.destroy();
  }

  private flushHeld(deliver: boolean): number {
    const held = this.held;
    this.held = [];
    for (const entry of held) entry.release(deliver);
    return held.length;
  }

  private hold(event: StripeEvent): void {
    this.track(
      () =>
        new Promise<void>((resolve) => {
          let released = false;
          const release = (deliver: boolean): void => {
            if (released) return;
            released = true;
            clearTimeout(timer);
            this.held = this.held.filter((h) => h.event !== event);
            // Delivered as its own tracked job, so idle() waits for it too.
            if (deliver && !this.stopped) this.track(() => this.deliver(event, "held"));
            resolve();
          };
          const timer = setTimeout(() => release(true), this.faults.holdMs);
          this.held.push({ event, release });
        }),
    );
  }

  /** One delivery: the first attempt plus retries with backoff. */
  private async deliver(event: StripeEvent, reason: DeliveryReason, afterFirstAttempt?: () => void): Promise<void> {
    for (let attempt = 1; attempt <= this.retry.maxAttempts; attempt += 1) {
      if (this.stopped || this.url === null) return;
      const result = await this.post(this.url, event);
      this.record(event, attempt === 1 ? reason : "retry", attempt, result);
      if (attempt === 1) afterFirstAttempt?.();
      if (result.outcome === "delivered") return;
      if (attempt < this.retry.maxAttempts) {
        await this.sleep(Math.min(this.retry.baseDelayMs * 2 ** (attempt - 1), this.retry.maxDelayMs));
      }
    }
  }

  private post(url: string, event: StripeEvent): Promise<Pick<DeliveryRecord, "outcome" | "status" | "error">> {
    // Stripe pretty-prints payloads; receivers must verify the raw bytes, not re-serialised JSON.
    const payload = JSON.stringify(event, null, 2);
    const target = new URL(url);
    const client = target.protocol === "https:" ? https : http;
    return new Promise((resolve) => {
      const request = client.request(
        target,
        {
          method: "POST",
          agent: false,
          timeout: this.retry.timeoutMs,
          headers: {
            "Content-Type": "application/json; charset=utf-8",
            "Content-Length": Buffer.byteLength(payload),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": signatureHeader(payload, this.secret),
          },
        },
        (response) => {
          response.resume();
          response.on("end", () => {
            this.inFlight.delete(request);
            const status = response.statusCode ?? 0;
            const ok = status >= 200 && status < 300;
            resolve({
              outcome: ok ? "delivered" : "failed",
              status,
              error: ok ? null : `HTTP ${status}`,
            });
          });
        },
      );
      request.on("timeout", () => request.destroy(new Error(`timed out after ${this.retry.timeoutMs} ms`)));
      request.on("error", (error) => {
        this.inFlight.delete(request);
        resolve({ outcome: "failed", status: null, error: error.message });
      });
      this.inFlight.add(request);
      request.end(payload);
    });
  }

  private record(
    event: StripeEvent,
    reason: DeliveryReason,
    attempt: number,
    result: Pick<DeliveryRecord, "outcome" | "status" | "error">,
  ): void {
    this.log.push({
      eventId: event.id,
      type: event.type,
      reason,
      attempt,
      at: Date.now(),
      ...result,
    });
    if (this.log.length > DELIVERY_LOG_LIMIT) this.log.splice(0, this.log.length - DELIVERY_LOG_LIMIT);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleepers.delete(timer);
        resolve();
      }, ms);
      this.sleepers.set(timer, resolve);
    });
  }

  private track(job: () => Promise<void>): void {
    this.pending += 1;
    job()
      .catch(() => undefined)
      .finally(() => {
        this.pending -= 1;
        if (this.pending === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const wake of waiters) wake();
        }
      });
  }
}
