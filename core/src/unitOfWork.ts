// One way to run a change and its consequences: the rows are written in one transaction, and what
// the change publishes (subscriptions) and enqueues (jobs) is collected while it runs and handed
// on only after it commits. A rolled-back change publishes and enqueues nothing; a job that cannot
// be queued after the commit (Redis down) is logged and left to the sweeps and schedules, which
// rebuild work from what PostgreSQL holds.
import type { DbTx, Prisma } from "@steward/db/client";
import type { JobName, JobPayload } from "@steward/jobs/contracts";
import type { EnqueueOptions } from "@steward/jobs/queue";
import type { CoreDeps } from "./deps.ts";
import type { EventPublisher, StewardEvents } from "./ports/events.ts";

/** What a change does once it has committed. */
export interface AfterCommit {
  publish<Topic extends keyof StewardEvents>(topic: Topic, ...payload: StewardEvents[Topic]): void;
  enqueue<Name extends JobName>(name: Name, payload: JobPayload<Name>, options?: EnqueueOptions): void;
  /** One run per payload, queued in one round trip. */
  enqueueMany<Name extends JobName>(name: Name, payloads: readonly JobPayload<Name>[], options?: EnqueueOptions): void;
}

export interface UnitOfWork extends AfterCommit {
  tx: DbTx;
}

/** Core only publishes: any publisher will do (the process's bus, or a test's recorder). */
export type EffectDeps = Pick<CoreDeps, "jobs" | "logger"> & { events: EventPublisher };

type Effect = () => Promise<void>;

/**
 * Runs `work`, which may run transactions of its own (a Stripe call between two of them, say),
 * collecting what it publishes and enqueues; flushes them once `work` has resolved, drops them if
 * it throws.
 */
export async function withAfterCommit<T>(deps: EffectDeps, work: (effects: AfterCommit) => Promise<T>): Promise<T> {
  const pending: Effect[] = [];
  const effects: AfterCommit = {
    publish(topic, ...payload) {
      pending.push(() => Promise.resolve(deps.events.publish(topic, ...payload)));
    },
    enqueue(name, payload, options) {
      pending.push(async () => {
        await deps.jobs.enqueue(name, payload, options);
      });
    },
    enqueueMany(name, payloads, options) {
      if (payloads.length === 0) return;
      pending.push(() => deps.jobs.enqueueMany(name, payloads, options));
    },
  };
  const result = await work(effects);
  await flush(deps, pending);
  return result;
}

/** Runs `work` in one transaction; its events and jobs go out after the commit. */
export function inTransaction<T>(
  deps: EffectDeps & Pick<CoreDeps, "db">,
  work: (unit: UnitOfWork) => Promise<T>,
  options?: { isolationLevel?: Prisma.TransactionIsolationLevel; timeout?: number },
): Promise<T> {
  return withAfterCommit(deps, (effects) => deps.db.$transaction((tx) => work({ ...effects, tx }), options));
}

async function flush(deps: EffectDeps, pending: readonly Effect[]): Promise<void> {
  for (const effect of pending) {
    try {
      await effect();
    } catch (error) {
      // Committed already: the caller's change stands. The schedules and sweeps pick the work up.
      deps.logger.warn({ err: error instanceof Error ? error.message : error }, "after-commit effect failed");
    }
  }
}
