// Imports each domain's types for their side effects, then builds the schema.
import { builder } from "../builder.ts";
import { withSynchronousNodeIds } from "./synchronousNodeIds.ts";
import "./errors.ts";
import "./auth.ts";
import "./audit.ts";
import "./jobs.ts";
import "./reviews.ts";
import "./payments.ts";
import "./placements.ts";
import "./reconciliation.ts";
import "./alerts.ts";
import "./health.ts";
import "./backups.ts";
import "./overview.ts";
import "./operatingMetrics.ts";
import "./checkups.ts";
import "./businesses.ts";
import "./incidents.ts";
import "./operators.ts";
import "./nodes.ts";
import "./catalog.ts";
import "./webhookEvents.ts";
import "./maintenance.ts";
import "./disputes.ts";
import "./marketplace.ts";

export const schema = withSynchronousNodeIds(builder.toSchema({ sortSchema: true }));
