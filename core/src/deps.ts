// Everything core needs from the outside world, built once per process (the API in
// api/src/app.ts, the worker in worker/src/worker.ts) and handed to core functions as their first
// argument: `(deps, actor, input)`. Tests build their own with fakes.
import type { Db } from "@steward/db/client";
import type { JobQueue } from "@steward/jobs/queue";
import type Stripe from "stripe";
import { channelSecretCipher, type SecretCipher } from "./channelSecrets.ts";
import type { Clock } from "./clock.ts";
import type { Env } from "./env.ts";
import type { EventBus } from "./events.ts";
import type { Logger } from "./logger.ts";
import { stripeClientFor } from "./stripe.ts";

export const systemClock: Clock = () => new Date();

export interface CoreDeps {
  db: Db;
  clock: Clock;
  /** Publishes to every API instance's subscribers (Redis pub/sub). */
  events: EventBus;
  /** Hands work to the worker; core calls it after commit (./unitOfWork.ts). */
  jobs: JobQueue;
  /** The payments gateway (the Stripe SDK until it moves behind a port of its own). */
  stripe: Stripe;
  /** Encrypts and decrypts notification channels' secrets. */
  secrets: SecretCipher;
  /** The validated settings. */
  env: Env;
  logger: Logger;
}

export interface CoreResources {
  db: Db;
  events: EventBus;
  jobs: JobQueue;
  env: Env;
  logger: Logger;
  clock?: Clock;
}

/** Builds the process's CoreDeps from the resources it opened (and closes itself). */
export function createCoreDeps(resources: CoreResources): CoreDeps {
  return {
    db: resources.db,
    clock: resources.clock ?? systemClock,
    events: resources.events,
    jobs: resources.jobs,
    stripe: stripeClientFor(resources.env),
    secrets: channelSecretCipher(resources.env),
    env: resources.env,
    logger: resources.logger,
  };
}
