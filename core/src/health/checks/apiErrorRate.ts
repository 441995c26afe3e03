// The API's error rate over its 5-minute sliding window (api.error_rate); it also puts the window
// into the snapshot for the latency rule.
import type { HealthCheck } from "../check.ts";

export const apiErrorRateCheck: HealthCheck = {
  name: "api_error_rate",
  async measure({ apiWindow }) {
    const api = await apiWindow();
    const apiSummary = api ?? { requests: 0, errors: 0, p95Ms: null };
    return {
      snapshot: { api: apiSummary },
      result: {
        ok: api !== null,
        latencyMs: null,
        value: apiSummary.requests > 0 ? (apiSummary.errors / apiSummary.requests) * 100 : 0,
        detail:
          api === null
            ? "the API's window summary could not be read"
            : `${apiSummary.errors} errors in ${apiSummary.requests} requests (last 5 min)`,
      },
    };
  },
};
