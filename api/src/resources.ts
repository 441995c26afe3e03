// Everything this API process depends on, built once at start and closed once at stop: the
// database, the event bus, Redis connections, the job queues, the core deps, the login throttle and the vendor
// adapters (Stripe, SMTP). Requests and websocket operations get them through their context.
import { createMailSender } from "@steward/core/adapters/nodemailer";
import { pgCopyIn } from "@steward/core/adapters/pgCopy";
import { connectRedis, type Redis } from "@steward/core/adapters/redis";
import { createStripeGateway } from "@steward/core/adapters/stripe";
import type { Env } from "@steward/core/env";
import { createEventBus, type EventBusHandle } from "@steward/core/adapters/redisEvents";
import type { Logger } from "@steward/core/logger";
import { createLoginThrottle, type LoginThrottle } from "@steward/core/loginThrottle";
import { publishQueryLatency, QueryLatencyWindow } from "@steward/core/queryLatency";
import type { CopyIn } from "@steward/core/ports/copyIn";
import type { MailSender } from "@steward/core/ports/mail";
import type { PaymentsGateway } from "@steward/core/ports/payments";
import { createDatabase, type Db } from "@steward/db/client";
import { type CoreDeps, createCoreDeps } from "@steward/core/deps";
import { type BullJobQueues, bullJobControl, createBullJobQueues } from "@steward/jobs/bullmq";
import { jobContracts } from "@steward/jobs/contracts";
import { CredentialCache } from "./sessionCache.ts";
import { sharedEventStreams } from "./sharedEventStreams.ts";

export interface ApiResources {
  db: Db;
  events: EventBusHandle;
  /** Fails fast while Redis is away (readiness, metrics, window summaries). */
  redis: Redis;
  /** Login and webhook counters and the query-latency summary: commands wait for (re)connection, so nothing goes uncounted. */
  countersRedis: Redis;
  /** The worker's queues: enqueue, run-now, pause and resume. */
  jobs: BullJobQueues;
  /** The process's core dependencies; core functions take them first. */
  deps: CoreDeps;
  loginThrottle: LoginThrottle;
  /** Sessions and tokens, cached; dropped on every instance when the bus says they changed. */
  credentials: CredentialCache;
  payments: PaymentsGateway;
  mail: MailSender;
  /** Bulk loads (the catalog import) on connections of their own. */
  copyIn: CopyIn;
  close(): Promise<void>;
}

export function buildResources(env: Env, logger: Logger): ApiResources {
  // Every query is timed into this process's window: the database p95 health signal.
  const queryLatency = new QueryLatencyWindow();
  const { db, sql } = createDatabase(env.DATABASE_URL, undefined, { onQuery: queryLatency.record });
  const bus = createEventBus(env.REDIS_URL, env.REDIS_PREFIX);
  // One bus stream per event name, fanned out in-process: a subscriber costs a queue, not a stream.
  const events: EventBusHandle = { bus: sharedEventStreams(bus.bus), close: () => bus.close() };
  const credentials = new CredentialCache(db, events.bus);
  const stopCredentialChanges = credentials.listen();
  const redis = connectRedis(env.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  const jobs = createBullJobQueues({
    redisUrl: env.REDIS_URL,
    prefix: env.REDIS_PREFIX,
    onError: (error) => logger.warn({ err: error.message }, "job queue error"),
  });
  const countersRedis = connectRedis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
  // On the connection that waits for Redis: the first summary, sent at once, is not lost to the connect.
  const stopQueryLatency = publishQueryLatency(countersRedis, env.REDIS_PREFIX, "api", queryLatency);
  const loginThrottle = createLoginThrottle(countersRedis, env.REDIS_PREFIX, {
    maxFailuresPerAccount: env.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    maxFailuresPerAddress: env.LOGIN_MAX_FAILURES_PER_ADDRESS,
    failureWindowMinutes: env.LOGIN_FAILURE_WINDOW_MINUTES,
    slowdownBaseSeconds: env.LOGIN_SLOWDOWN_BASE_SECONDS,
    slowdownMaxSeconds: env.LOGIN_SLOWDOWN_MAX_SECONDS,
  });
  const payments = createStripeGateway(env);
  const mail = createMailSender(env);
  const copyIn = pgCopyIn(env.DATABASE_URL);
  const jobControl = bullJobControl(jobs, jobContracts(env));
  // Core announces revoked credentials on the bus; this instance's cache forgets them as they go out.
  const coreEvents = credentials.publishingThrough(events.bus);
  const deps = createCoreDeps({ db, sql, events: coreEvents, jobs, jobControl, payments, mail, copyIn, env, logger });
  return {
    db,
    events,
    redis,
    countersRedis,
    jobs,
    deps,
    loginThrottle,
    credentials,
    payments,
    mail,
    copyIn,
    async close() {
      await stopCredentialChanges();
      await stopQueryLatency();
      await events.close();
      await jobs.close();
      redis.disconnect();
      countersRedis.disconnect();
      mail.close();
      await db.$disconnect();
    },
  };
}
