// The API measures itself: a Yoga plugin times every GraphQL HTTP request and marks the ones that
// failed unexpectedly (HTTP 5xx, or an error that is not the client's: not a sign-in, permission
// or validation error; typed domain errors are data, not errors). Each measurement feeds
//   - prom-client metrics for GET /metrics (with the worker's metrics merged in from Redis, and
//     the job queue's sizes read at scrape time), and
//   - the 5-minute sliding window whose summary goes to Redis for the health checks.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { publishWindowSummary, removeWindowSummary, RequestWindow } from "@steward/core/apiWindow";
import type { BullJobQueues } from "@steward/jobs/bullmq";
import { WORKER_METRICS_STALE_MS, workerMetricsKey } from "@steward/jobs/metrics";
import type { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Redis } from "ioredis";
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

const CLIENT_ERROR_CODES = new Set([
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "BAD_USER_INPUT",
  "GRAPHQL_VALIDATION_FAILED",
  "GRAPHQL_PARSE_FAILED",
  "PERSISTED_QUERY_NOT_FOUND",
]);
const WINDOW_PUBLISH_MS = 5_000;

export interface ApiMetrics {
  plugin: Plugin;
  /** One refused Stripe webhook delivery, by why (a wrong secret shows as bad_signature). */
  webhookRejected(reason: string): void;
  /** Prometheus text: the API's metrics, the queue's sizes and every live worker's metrics. */
  render(): Promise<{ contentType: string; body: string }>;
  stop(): Promise<void>;
}

export function createApiMetrics(options: { redis: Redis; prefix: string; jobs: BullJobQueues }): ApiMetrics {
  const { redis, prefix, jobs } = options;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "steward_api_" });
  const requests = new Counter({
    name: "steward_api_requests_total",
    help: "GraphQL HTTP requests, by outcome (ok or error).",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "steward_api_request_duration_seconds",
    help: "GraphQL HTTP request latency.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: "steward_queue_jobs",
    help: "Jobs in the worker's queues, by workload queue and state.",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      const counts = await jobs.counts("waiting", "active", "delayed", "failed", "prioritized");
      for (const [queue, byState] of counts)
        for (const [state, count] of Object.entries(byState)) this.set({ queue, state }, count);
    },
  });

  const webhookRejections = new Counter({
    name: "steward_stripe_webhook_rejected_total",
    help: "Stripe webhook deliveries refused, by reason (unsigned, bad_signature, stale, malformed, rate_limited, too_large).",
    labelNames: ["reason"] as const,
    registers: [registry],
  });

  const window = new RequestWindow();
  const started = new WeakMap<Request, number>();
  const failed = new WeakSet<Request>();
  const instanceId = `${hostname()}:${process.pid}:${randomUUID()}`;
  const publish = () => publishWindowSummary(redis, prefix, instanceId, window.summary()).catch(() => undefined);
  const timer = setInterval(() => void publish(), WINDOW_PUBLISH_MS);
  timer.unref();

  const plugin: Plugin = {
    onRequest({ request }) {
      started.set(request, performance.now());
    },
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      return {
        onExecuteDone({ result }) {
          if (!request || !("errors" in result) || !Array.isArray(result.errors)) return;
          const errors = result.errors as readonly GraphQLError[];
          const unexpected = errors.some((error) => {
            const code = error.extensions?.["code"];
            return typeof code !== "string" || !CLIENT_ERROR_CODES.has(code);
          });
          if (unexpected) failed.add(request);
        },
      };
    },
    onResponse({ request, response }) {
      const start = started.get(request);
      if (start === undefined) return;
      const seconds = (performance.now() - start) / 1000;
      const error = response.status >= 500 || failed.has(request);
      requests.inc({ outcome: error ? "error" : "ok" });
      duration.observe(seconds);
      window.record(seconds * 1000, error);
    },
  };

  return {
    plugin,
    webhookRejected: (reason) => webhookRejections.inc({ reason }),
    async render() {
      const entries = await redis.hgetall(workerMetricsKey(prefix)).catch(() => ({}));
      const workers = Object.values(entries).flatMap((raw) => {
        try {
          const entry = JSON.parse(raw) as { at: number; metrics: Awaited<ReturnType<Registry["getMetricsAsJSON"]>> };
          return Date.now() - entry.at <= WORKER_METRICS_STALE_MS ? [entry.metrics] : [];
        } catch {
          return [];
        }
      });
      const merged = workers.length > 0 ? AggregatorRegistry.aggregate(workers) : null;
      const body = (await registry.metrics()) + (merged ? `\n${await merged.metrics()}` : "");
      return { contentType: registry.contentType, body };
    },
    async stop() {
      clearInterval(timer);
      await removeWindowSummary(redis, prefix, instanceId).catch(() => undefined);
    },
  };
}
