// The worker's Prometheus metrics (job outcomes and durations). Rather than serve a port of its
// own, each worker pushes its registry's JSON into a Redis hash every few seconds and the API's
// GET /metrics merges them (prom-client's AggregatorRegistry sums counters and histograms across
// workers): one scrape target, no extra port to open, and a stopped worker drops out by age.
import { Counter, Histogram, Registry } from "prom-client";
import { WORKER_METRICS_PUSH_MS, workerMetricsKey } from "@steward/jobs/metrics";
import type { Redis } from "ioredis";

export interface WorkerMetrics {
  registry: Registry;
  jobRuns: Counter<"job" | "outcome">;
  jobDuration: Histogram<"job">;
  /** Starts pushing to Redis; returns a function that stops it and removes this worker's entry. */
  startPushing(redis: Redis, prefix: string, instanceId: string): () => Promise<void>;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  const jobRuns = new Counter({
    name: "steward_worker_job_runs_total",
    help: "Job attempts finished by the worker, by job and outcome (succeeded, failed, exhausted).",
    labelNames: ["job", "outcome"] as const,
    registers: [registry],
  });
  const jobDuration = new Histogram({
    name: "steward_worker_job_duration_seconds",
    help: "How long job attempts took.",
    labelNames: ["job"] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [registry],
  });
  return {
    registry,
    jobRuns,
    jobDuration,
    startPushing(redis, prefix, instanceId) {
      const push = async () => {
        const metrics = await registry.getMetricsAsJSON();
        await redis.hset(workerMetricsKey(prefix), instanceId, JSON.stringify({ at: Date.now(), metrics }));
      };
      const timer = setInterval(() => void push().catch(() => undefined), WORKER_METRICS_PUSH_MS);
      timer.unref();
      void push().catch(() => undefined);
      return async () => {
        clearInterval(timer);
        await redis.hdel(workerMetricsKey(prefix), instanceId).catch(() => undefined);
      };
    },
  };
}
