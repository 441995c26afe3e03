// What every job in the catalog declares: its name, schedule, payload schema and handler.
import type { Env } from "@steward/core/env";
import type { EventBus } from "@steward/core/ports/events";
import type { JobOutcome } from "@steward/core/jobRuns";
import type { Logger } from "@steward/core/logger";
import type { CopyIn } from "@steward/core/ports/copyIn";
import type { MailSender } from "@steward/core/ports/mail";
import type { PaymentsGateway } from "@steward/core/ports/payments";
import type { Db } from "@steward/db/client";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { z } from "zod";
import type { JobData } from "../queue.ts";

export interface JobContext {
  db: Db;
  env: Env;
  events: EventBus;
  logger: Logger;
  jobRunId: string;
  /** The worker's own Redis connection (health probes, the API's window summaries). */
  redis: Redis;
  /** Stripe, through the port (built once per worker process). */
  payments: PaymentsGateway;
  /** SMTP, through the port (built once per worker process). */
  mail: MailSender;
  /** Bulk loads by COPY (reconciliation's staging). */
  copyIn: CopyIn;
  /** The jobs queue, for sweeps that re-enqueue work PostgreSQL still holds as pending. */
  queue: Queue<JobData>;
}

export interface JobDefinition<Payload extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  /**
   * Cron pattern and time zone; omitted for jobs that only run on demand. `everyMinutes` is how
   * often it must succeed: missed-run detection alerts when it is late (job-health).
   */
  schedule?: { pattern: string; tz: string; everyMinutes?: number };
  /**
   * A sweep that turns PostgreSQL's pending rows back into work: run once at once when the worker
   * finds its schedules gone from Redis (flushed or replaced), since queued jobs went with them.
   */
  runOnRestore?: boolean;
  payload: Payload;
  handler(context: JobContext, payload: z.infer<Payload>): Promise<JobOutcome>;
}

export function defineJob<Payload extends z.ZodType>(definition: JobDefinition<Payload>): JobDefinition<Payload> {
  return definition;
}
