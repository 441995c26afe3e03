// The API's p95 response time over its 5-minute sliding window (api.latency_p95).
import type { HealthCheck } from "../check.ts";

export const apiLatencyP95Check: HealthCheck = {
  name: "api_latency_p95",
  async measure({ apiWindow }) {
    const api = await apiWindow();
    const apiSummary = api ?? { requests: 0, errors: 0, p95Ms: null };
    return {
      result: {
        ok: api !== null,
        latencyMs: null,
        value: apiSummary.p95Ms,
        detail:
          apiSummary.p95Ms === null
            ? "no requests in the last 5 min"
            : `p95 ${Math.round(apiSummary.p95Ms)} ms over ${apiSummary.requests} requests`,
      },
    };
  },
};
