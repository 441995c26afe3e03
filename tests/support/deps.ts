// Core's dependencies for tests that call core without an API: the database they were given, the
// system clock, no subscribers, and a job queue that records what core handed it after commit.
import { systemClock } from "@steward/core/deps";
import type { CoreDeps } from "@steward/core/deps";
import { createLogger } from "@steward/core/logger";
import type { EventBus } from "@steward/core/ports/events";
import type { Db } from "@steward/db/client";
import type { JobName } from "@steward/jobs/contracts";
import type { JobQueue } from "@steward/jobs/queue";

export type QuietDeps = Pick<CoreDeps, "db" | "clock" | "events" | "jobs" | "logger"> & {
  /** What was queued, in order: the job name and its payload. */
  enqueued: { name: JobName; payload: unknown }[];
};

export function quietDeps(db: Db): QuietDeps {
  const enqueued: QuietDeps["enqueued"] = [];
  const jobs: JobQueue = {
    enqueue(name, payload) {
      enqueued.push({ name, payload });
      return Promise.resolve(name);
    },
    enqueueMany(name, payloads) {
      for (const payload of payloads) enqueued.push({ name, payload });
      return Promise.resolve();
    },
    isActive: () => Promise.resolve(false),
  };
  const events = { publish: () => undefined, subscribe: () => undefined } as unknown as EventBus;
  return { db, clock: systemClock, events, jobs, logger: createLogger("test", "silent"), enqueued };
}
