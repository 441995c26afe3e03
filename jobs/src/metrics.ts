// Where each worker pushes its Prometheus registry (worker/src/metrics.ts) and how old an entry
// may be before the API's GET /metrics drops it: shared by the worker that writes and the API that reads.
export const WORKER_METRICS_PUSH_MS = 5_000;
export const WORKER_METRICS_STALE_MS = 60_000;

export const workerMetricsKey = (prefix: string): string => `${prefix}:worker-metrics`;
