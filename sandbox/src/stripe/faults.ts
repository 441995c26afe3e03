/**
 * Fault injection and test-mode rate limiting for the /v1 API, so callers can prove
 * their retries, timeouts and idempotency keys against a misbehaving "Stripe".
 */

export type FaultMode = "none" | "error500" | "rateLimit429" | "timeout";

export interface FaultInput {
  mode?: FaultMode;
  /** How many matching requests are affected; omitted = every matching request until cleared. */
  count?: number;
  /** For 'timeout': how long the response is held back (default 30 s). */
  delayMs?: number;
  /** Path prefixes the fault applies to, e.g. ['/v1/refunds']; omitted = all /v1 paths. */
  paths?: string[];
  /** HTTP methods the fault applies to, e.g. ['POST']; omitted = all. */
  methods?: string[];
  /** Latency added to every /v1 request, independent of `mode`. */
  slowMs?: number;
}

export interface ActiveFault {
  mode: Exclude<FaultMode, "none">;
  remaining: number | null;
  delayMs: number;
  paths: string[] | null;
  methods: string[] | null;
}

export interface FaultSnapshot {
  active: ActiveFault | null;
  slowMs: number;
  /** How many requests each fault mode has hit since the last reset. */
  injected: Record<Exclude<FaultMode, "none">, number>;
}

export const DEFAULT_TIMEOUT_DELAY_MS = 30_000;
const FAULT_MODES: readonly FaultMode[] = ["none", "error500", "rateLimit429", "timeout"];

export class FaultController {
  private active: ActiveFault | null = null;
  private slow = 0;
  private injected = { error500: 0, rateLimit429: 0, timeout: 0 };

  /** Sets the fault rule (replacing the previous one) and/or the latency. */
  set(input: FaultInput): FaultSnapshot {
    validateFaultInput(input);
    if (input.slowMs !== undefined) this.slow = input.slowMs;
    if (input.mode !== undefined) {
      this.active =
        input.mode === "none"
          ? null
          : {
              mode: input.mode,
              remaining: input.count ?? null,
              delayMs: input.delayMs ?? DEFAULT_TIMEOUT_DELAY_MS,
              paths: input.paths ?? null,
              methods: input.methods?.map((m) => m.toUpperCase()) ?? null,
            };
    }
    return this.snapshot();
  }

  get slowMs(): number {
    return this.slow;
  }

  clear(): void {
    this.active = null;
    this.slow = 0;
    this.injected = { error500: 0, rateLimit429: 0, timeout: 0 };
  }

  /** The fault to apply to this request, if any; consumes one from its count. */
  take(method: string, path: string): ActiveFault | null {
    const fault = this.active;
    if (fault === null) return null;
    if (fault.methods !== null && !fault.methods.includes(method)) return null;
    if (
      fault.paths !== null &&
      !fault.paths.some((p) => path === p || path.startsWith(p.endsWith("/") ? p : `${p}/`))
    ) {
      return null;
    }
    if (fault.remaining !== null) {
      fault.remaining -= 1;
      if (fault.remaining <= 0) this.active = null;
    }
    this.injected[fault.mode] += 1;
    return { ...fault };
  }

  snapshot(): FaultSnapshot {
    return {
      active: this.active === null ? null : { ...this.active },
      slowMs: this.slow,
      injected: { ...this.injected },
    };
  }
}

/** Throws a readable Error for a bad control payload (the server maps it to a 400). */
export function validateFaultInput(input: FaultInput): void {
  if (input.mode !== undefined && !FAULT_MODES.includes(input.mode)) {
    throw new Error(`mode must be one of ${FAULT_MODES.join(", ")}`);
  }
  for (const key of ["count", "delayMs", "slowMs"] as const) {
    const value = input[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 0))
      throw new Error(`${key} must be a non-negative integer`);
  }
  for (const key of ["paths", "methods"] as const) {
    const value = input[key];
    if (value !== undefined && (!Array.isArray(value) || value.some((v) => typeof v !== "string"))) {
      throw new Error(`${key} must be an array of strings`);
    }
  }
}

/**
 * Sliding one-second window per API key, like Stripe test mode's 25 requests/s.
 * Rejected requests do not count, so a client that backs off gets through.
 */
export class RateLimiter {
  private readonly windows = new Map<string, number[]>();

  constructor(private perSecond: number | false) {}

  get limit(): number | false {
    return this.perSecond;
  }

  setLimit(perSecond: number | false): void {
    if (perSecond !== false && (!Number.isInteger(perSecond) || perSecond < 1)) {
      throw new Error("rateLimitPerSecond must be a positive integer or false");
    }
    this.perSecond = perSecond;
    this.windows.clear();
  }

  tryAcquire(key: string, nowMs = Date.now()): boolean {
    if (this.perSecond === false) return true;
    let window = this.windows.get(key);
    if (window === undefined) {
      window = [];
      this.windows.set(key, window);
    }
    const cutoff = nowMs - 1000;
    let expired = 0;
    while (expired < window.length && (window[expired] ?? 0) <= cutoff) expired += 1;
    if (expired > 0) window.splice(0, expired);
    if (window.length >= this.perSecond) return false;
    window.push(nowMs);
    return true;
  }

  reset(): void {
    this.windows.clear();
  }
}
