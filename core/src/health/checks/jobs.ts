// Jobs: the job health alerts the worker raises as jobs run (failed all attempts, missed a run);
// the check is as bad as the worst of them.
import type { AlertRuleKey } from "../../alertRuleKeys.ts";
import { worst } from "../../severity.ts";
import type { HealthCheck } from "../check.ts";

/** Alert rule keys of the job health conditions (raised by the worker as jobs run). */
const JOB_RULE_KEYS: AlertRuleKey[] = ["jobs.failed_all_attempts", "jobs.missed_run"];

export const jobsCheck: HealthCheck = {
  name: "jobs",
  async measure({ db }) {
    const jobAlerts = await db.alert.findMany({
      where: { ruleKey: { in: JOB_RULE_KEYS }, status: { not: "RESOLVED" } },
      select: { severity: true, title: true },
    });
    return {
      result: {
        ok: jobAlerts.length === 0,
        latencyMs: null,
        value: jobAlerts.length,
        detail: jobAlerts.length === 0 ? "all jobs healthy" : jobAlerts.map((alert) => alert.title).join("; "),
        status: worst(jobAlerts.map((alert) => alert.severity)),
      },
    };
  },
};
