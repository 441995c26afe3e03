// The API's own error rate and p95 latency over a 5-minute sliding window. Each API process
// measures its requests, and every few seconds writes its summary into one Redis hash (a field
// per process); the worker's health check reads and combines them. A process that stopped
// writing drops out after SUMMARY_STALE_MS.
import type { SharedStore } from "./ports/sharedStore.ts";

export const API_WINDOW_MS = 5 * 60_000;
export const SUMMARY_STALE_MS = 30_000;
// Bounded memory under a flood: beyond this many samples the oldest are dropped early.
const MAX_SAMPLES = 100_000;

export interface WindowSummary {
  requests: number;
  errors: number;
  /** Nearest-rank p95 of the durations in the window; null without requests. */
  p95Ms: number | null;
}

interface Sample {
  at: number;
  durationMs: number;
  error: boolean;
}

export class RequestWindow {
  private samples: Sample[] = [];

  constructor(private readonly windowMs = API_WINDOW_MS) {}

  record(durationMs: number, error: boolean, at = Date.now()): void {
    this.samples.push({ at, durationMs, error });
    if (this.samples.length > MAX_SAMPLES) this.samples.splice(0, this.samples.length - MAX_SAMPLES);
  }

  summary(now = Date.now()): WindowSummary {
    const cutoff = now - this.windowMs;
    const firstInside = this.samples.findIndex((sample) => sample.at > cutoff);
    this.samples = firstInside < 0 ? [] : this.samples.slice(firstInside);
    const durations = this.samples.map((sample) => sample.durationMs).sort((a, b) => a - b);
    const errors = this.samples.filter((sample) => sample.error).length;
    return { requests: durations.length, errors, p95Ms: percentile(durations, 0.95) };
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil(fraction * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}

/**
 * One Redis hash of per-process window summaries (a field per process), under `${prefix}:${name}`.
 * The API's request window and every process's database query window share it.
 */
export function windowSummaryStore(name: string) {
  const hashKey = (prefix: string) => `${prefix}:${name}`;
  return {
    async publish(redis: SharedStore, prefix: string, instanceId: string, summary: WindowSummary, now = Date.now()) {
      await redis.hset(hashKey(prefix), instanceId, JSON.stringify({ ...summary, at: now }));
    },
    async remove(redis: SharedStore, prefix: string, instanceId: string) {
      await redis.hdel(hashKey(prefix), instanceId);
    },
    /** All processes together: counts add up; p95 is the worst process's (a safe upper bound). */
    async read(redis: SharedStore, prefix: string, now = Date.now()): Promise<WindowSummary & { processes: number }> {
      const entries = await redis.hgetall(hashKey(prefix));
      const combined: WindowSummary & { processes: number } = { requests: 0, errors: 0, p95Ms: null, processes: 0 };
      const stale: string[] = [];
      for (const [instanceId, raw] of Object.entries(entries)) {
        const entry = parseEntry(raw);
        if (!entry || now - entry.at > SUMMARY_STALE_MS) {
          stale.push(instanceId);
          continue;
        }
        combined.processes++;
        combined.requests += entry.requests;
        combined.errors += entry.errors;
        if (entry.p95Ms !== null) combined.p95Ms = Math.max(combined.p95Ms ?? 0, entry.p95Ms);
      }
      if (stale.length > 0) await redis.hdel(hashKey(prefix), ...stale);
      return combined;
    },
  };
}

const apiWindowStore = windowSummaryStore("api-window");

export async function publishWindowSummary(
  redis: SharedStore,
  prefix: string,
  instanceId: string,
  summary: WindowSummary,
  now = Date.now(),
): Promise<void> {
  await apiWindowStore.publish(redis, prefix, instanceId, summary, now);
}

export async function removeWindowSummary(redis: SharedStore, prefix: string, instanceId: string): Promise<void> {
  await apiWindowStore.remove(redis, prefix, instanceId);
}

/** All API processes together: counts add up; p95 is the worst process's (a safe upper bound). */
export async function readWindowSummary(redis: SharedStore, prefix: string, now = Date.now()): Promise<WindowSummary> {
  const { requests, errors, p95Ms } = await apiWindowStore.read(redis, prefix, now);
  return { requests, errors, p95Ms };
}

function parseEntry(raw: string): (WindowSummary & { at: number }) | null {
  try {
    const value = JSON.parse(raw) as Partial<WindowSummary & { at: number }>;
    if (typeof value.at !== "number" || typeof value.requests !== "number" || typeof value.errors !== "number")
      return null;
    return {
      at: value.at,
      requests: value.requests,
      errors: value.errors,
      p95Ms: typeof value.p95Ms === "number" ? value.p95Ms : null,
    };
  } catch {
    return null;
  }
}
