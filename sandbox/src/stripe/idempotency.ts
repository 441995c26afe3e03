/**
 * Idempotency-Key memory for POSTs: the first result for a key is kept (24 h by default)
 * and replayed byte for byte; reusing a key for another endpoint or other parameters is
 * refused with Stripe's idempotency_error.
 */
import { ApiError } from "./errors.ts";

export interface StoredResponse {
  status: number;
  body: string;
  requestId: string;
}

interface Entry {
  endpoint: string;
  fingerprint: string;
  response: StoredResponse;
  expiresAt: number;
}

export type IdempotencyLookup = { kind: "new" } | { kind: "replay"; response: StoredResponse };

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export class IdempotencyStore {
  // Map keeps insertion order, which is also expiry order: purging scans from the front.
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly ttlMs: number = IDEMPOTENCY_TTL_MS) {}

  get size(): number {
    return this.entries.size;
  }

  /** `scope` separates API keys; `endpoint` is "POST /v1/refunds". Throws on a mismatch. */
  lookup(scope: string, key: string, endpoint: string, fingerprint: string): IdempotencyLookup {
    this.purge(Date.now());
    const entry = this.entries.get(`${scope}\n${key}`);
    if (entry === undefined) return { kind: "new" };
    if (entry.endpoint !== endpoint) {
      throw new ApiError(
        400,
        {
          type: "idempotency_error",
          message: `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${entry.endpoint}' vs '${endpoint}'). Try using a key other than '${key}' if you meant to execute a different request.`,
        },
        { replayable: false },
      );
    }
    if (entry.fingerprint !== fingerprint) {
      throw new ApiError(
        400,
        {
          type: "idempotency_error",
          message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        },
        { replayable: false },
      );
    }
    return { kind: "replay", response: entry.response };
  }

  save(scope: string, key: string, endpoint: string, fingerprint: string, response: StoredResponse): void {
    this.entries.set(`${scope}\n${key}`, {
      endpoint,
      fingerprint,
      response,
      expiresAt: Date.now() + this.ttlMs,
    });
  }

  clear(): void {
    this.entries.clear();
  }

  private purge(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) break;
      this.entries.delete(key);
    }
  }
}
