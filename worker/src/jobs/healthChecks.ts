// Every minute: probe PostgreSQL, Redis, the AI provider and Stripe, measure webhooks, jobs, the
// API's error rate and p95, queue backlog and refund rate; store the results (the dashboard's
// time series), evaluate the alert rules, let the AI failover automation act, publish healthChanged.
import { runHealthRound } from "@steward/core/healthRound";
import { healthChecks } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const healthChecksJob = handle(healthChecks, ({ deps, redis }) => runHealthRound(deps, redis));
