// What a benchmark calling core directly hands it: the database, the events' publisher, a silent
// logger, and a job queue that refuses (the paths measured queue no job; one that did would fail
// loudly instead of being measured without its follow-up).
import { createLogger } from "@steward/core/logger";
import type { EventPublisher } from "@steward/core/ports/events";
import type { Db } from "@steward/db/client";
import type { JobQueue } from "@steward/jobs/queue";

const refuse = () => Promise.reject(new Error("this benchmark queues no job"));
const noJobs: JobQueue = { enqueue: refuse, enqueueMany: refuse, isActive: () => Promise.resolve(false) };

export function benchCoreDeps(db: Db, events: EventPublisher = { publish: () => undefined }) {
  return { db, events, jobs: noJobs, logger: createLogger("bench", "silent") };
}
