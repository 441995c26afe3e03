// A job's handler bound to its contract (@steward/jobs/contracts): the contract says what the job
// is, where it runs and what it takes; the handler here does it, by calling one core function.
import type { CoreDeps } from "@steward/core/deps";
import type { JobOutcome } from "@steward/core/jobRuns";
import type { SharedStore } from "@steward/core/ports/sharedStore";
import { defineContract, type JobContract, type JobSchedule } from "@steward/jobs/contract";
import type { z } from "zod";

/** What a handler is given beside its payload: it takes what it needs from `deps`. */
export interface JobContext {
  /** The worker's CoreDeps, built once per process; `logger` names this job and its run. */
  deps: CoreDeps;
  jobRunId: string;
  /** The worker's own Redis connection (health probes, the API's window summaries). */
  redis: SharedStore;
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
