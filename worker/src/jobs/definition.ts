// A job's handler bound to its contract (@steward/jobs/contracts): the contract says what the job
// is, where it runs and what it takes; the handler here does it, by calling one core function.
import type { CoreDeps } from "@steward/core/deps";
import type { Env } from "@steward/core/env";
import type { EventBus } from "@steward/core/ports/events";
import type { JobOutcome } from "@steward/core/jobRuns";
import type { Logger } from "@steward/core/logger";
import type { CopyIn } from "@steward/core/ports/copyIn";
import type { MailSender } from "@steward/core/ports/mail";
import type { PaymentsGateway } from "@steward/core/ports/payments";
import type { Db } from "@steward/db/client";
import type { BullJobQueues } from "@steward/jobs/bullmq";
import { defineContract, type JobContract, type JobSchedule } from "@steward/jobs/contract";
import type { Redis } from "ioredis";
import type { z } from "zod";

export interface JobContext {
  /** The worker's CoreDeps, built once per process. */
  deps: CoreDeps;
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
  /** The queues, for sweeps that re-enqueue work PostgreSQL still holds as pending. */
  jobs: BullJobQueues;
}

export type JobHandler<Payload extends z.ZodType = z.ZodType> = (
  context: JobContext,
  payload: z.output<Payload>,
) => Promise<JobOutcome>;

export interface JobBinding<Payload extends z.ZodType = z.ZodType> {
  contract: JobContract<string, Payload>;
  // Method syntax: a binding of any payload is a binding of the catalog (the worker parses the
  // payload with the binding's own contract before calling it).
  handler(context: JobContext, payload: z.output<Payload>): Promise<JobOutcome>;
}

/** Binds `handler` to `contract`; the registry lists every binding once. */
export function handle<Payload extends z.ZodType>(
  contract: JobContract<string, Payload>,
  handler: JobHandler<Payload>,
): JobBinding<Payload> {
  return { contract, handler };
}

/** A contract and its handler in one, for jobs outside the catalog (tests). */
export function defineJob<Payload extends z.ZodType>(
  definition: Omit<JobContract<string, Payload>, "schedule" | "queue"> & {
    queue?: JobContract["queue"];
    schedule?: JobSchedule;
    handler: JobHandler<Payload>;
  },
): JobBinding<Payload> {
  const { handler, schedule, queue, ...contract } = definition;
  return handle(
    defineContract({ ...contract, queue: queue ?? "maintenance", ...(schedule ? { schedule: () => schedule } : {}) }),
    handler,
  );
}
