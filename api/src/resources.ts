// Everything this API process depends on, built once at start and closed once at stop: the
// database, the event bus, Redis connections, the jobs queue, the login throttle and the vendor
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
import { createPrismaClient, type Db } from "@steward/db/client";
import { connectionFor, defaultJobOptions, JOBS_QUEUE, type JobData } from "@steward/worker/queue";
import { Queue } from "bullmq";
import { CredentialCache } from "./sessionCache.ts";

export interface ApiResources {
  db: Db;
  events: EventBusHandle;
  /** Fails fast while Redis is away (readiness, metrics, window summaries). */
  redis: Redis;
  /** Login and webhook counters and the query-latency summary: commands wait for (re)connection, so nothing goes uncounted. */
  countersRedis: Redis;
  jobs: Queue<JobData>;
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
  const db = createPrismaClient(env.DATABASE_URL, undefined, { onQuery: queryLatency.record });
  const events = createEventBus(env.REDIS_URL, env.REDIS_PREFIX);
  const credentials = new CredentialCache(db, events.bus);
  const stopCredentialChanges = credentials.listen();
  const redis = connectRedis(env.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  const jobs = new Queue<JobData>(JOBS_QUEUE, {
    connection: connectionFor(env.REDIS_URL),
    prefix: env.REDIS_PREFIX,
    defaultJobOptions,
  });
  jobs.on("error", (error) => logger.warn({ err: error.message }, "job queue error"));
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
  return {
    db,
    events,
    redis,
    countersRedis,
    jobs,
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
