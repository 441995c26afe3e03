// The health checks, in display order. A new check is one file in checks/ and one line here
// (plus its name in CheckName, and a rule in alertRules.ts if an alert should watch it).
import type { HealthCheck } from "./check.ts";
import { aiProviderCheck } from "./checks/aiProvider.ts";
import { databaseLatencyCheck } from "./checks/databaseLatency.ts";
import { apiErrorRateCheck } from "./checks/apiErrorRate.ts";
import { apiLatencyP95Check } from "./checks/apiLatencyP95.ts";
import { jobsCheck } from "./checks/jobs.ts";
import { postgresCheck } from "./checks/postgres.ts";
import { queueBacklogCheck } from "./checks/queueBacklog.ts";
import { redisCheck } from "./checks/redis.ts";
import { refundRateCheck } from "./checks/refundRate.ts";
import { stripeCheck } from "./checks/stripe.ts";
import { webhooksCheck } from "./checks/webhooks.ts";

export const healthChecks: readonly HealthCheck[] = [
  postgresCheck,
  redisCheck,
  aiProviderCheck,
  stripeCheck,
  webhooksCheck,
  jobsCheck,
  apiErrorRateCheck,
  apiLatencyP95Check,
  queueBacklogCheck,
  refundRateCheck,
  databaseLatencyCheck,
];
