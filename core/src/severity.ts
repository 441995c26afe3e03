// Severity order, once: GREEN < YELLOW < RED. Health checks, the overview, the weekly checkup and
// the API's "worst first" lists all rank by it.
import type { Severity } from "@steward/db/client";

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { GREEN: 0, YELLOW: 1, RED: 2 };

/** The worst of the severities; GREEN when there are none. */
export function worst(severities: Iterable<Severity>): Severity {
  let result: Severity = "GREEN";
  for (const severity of severities) if (SEVERITY_RANK[severity] > SEVERITY_RANK[result]) result = severity;
  return result;
}

/** Orders worst first (RED, YELLOW, GREEN), for `Array.prototype.sort`. */
export const worstFirst = (a: Severity, b: Severity): number => SEVERITY_RANK[b] - SEVERITY_RANK[a];
