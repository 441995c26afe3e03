// The database's p95 over 5 minutes, measured from the application's own queries (not a probe):
// every API and worker process times each query its Prisma client runs (the client's `query`
// events, see createPrismaClient's `onQuery`) into a sliding window, and every few seconds writes
// the window's summary into one Redis hash; the health check combines them (the slowest
// process's p95, a safe upper bound) and the `postgres.query_p95` rule judges it.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { SharedStore } from "./ports/sharedStore.ts";
import { RequestWindow, type WindowSummary, windowSummaryStore } from "./apiWindow.ts";

const PUBLISH_EVERY_MS = 5_000;
const store = windowSummaryStore("db-window");

/** What the health check reads: queries timed in the window by every live process, and their p95. */
export interface QueryLatencySummary {
  queries: number;
  p95Ms: number | null;
  /** Processes that reported in the last 30 s (API instances and workers). */
  processes: number;
}

/** A process's window of query durations; `record` is the Prisma client's `onQuery`. */
export class QueryLatencyWindow {
  private readonly window = new RequestWindow();

  readonly record = (durationMs: number, at = Date.now()): void => this.window.record(durationMs, false, at);

  summary(now = Date.now()): WindowSummary {
    return this.window.summary(now);
  }
}

/** Publishes the window every 5 s under this process's id; the returned stop removes it. */
export function publishQueryLatency(
  redis: SharedStore,
  prefix: string,
  role: "api" | "worker",
  window: QueryLatencyWindow,
): () => Promise<void> {
  const instanceId = `${role}:${hostname()}:${process.pid}:${randomUUID()}`;
  const publish = () => store.publish(redis, prefix, instanceId, window.summary()).catch(() => undefined);
  const timer = setInterval(() => void publish(), PUBLISH_EVERY_MS);
  timer.unref();
  // At once: the caller passes a connection that waits for Redis (commands queue while it
  // connects), so this first summary is not lost and the process counts from its first seconds.
  void publish();
  return async () => {
    clearInterval(timer);
    await store.remove(redis, prefix, instanceId).catch(() => undefined);
  };
}

/** Writes one summary now (tests and drills; processes use publishQueryLatency). */
export async function publishQueryLatencyOnce(
  redis: SharedStore,
  prefix: string,
  instanceId: string,
  summary: WindowSummary,
  now = Date.now(),
): Promise<void> {
  await store.publish(redis, prefix, instanceId, summary, now);
}

export async function readQueryLatency(
  redis: SharedStore,
  prefix: string,
  now = Date.now(),
): Promise<QueryLatencySummary> {
  const { requests, p95Ms, processes } = await store.read(redis, prefix, now);
  return { queries: requests, p95Ms, processes };
}
