// Everything core needs from the outside world, built once per process (the API in
// api/src/resources.ts, the worker in worker/src/worker.ts) and handed to core functions as their first
// argument: `(deps, actor, input)`. Tests build their own with fakes.
import type { Db, SqlReader } from "@steward/db/client";
import { prismaSqlReader } from "@steward/db/sql";
import type { JobControl, JobQueue } from "@steward/jobs/queue";
import { channelSecretCipher, type SecretCipher } from "./channelSecrets.ts";
import type { Clock } from "./clock.ts";
import type { Env } from "./env.ts";
import type { Logger } from "./logger.ts";
import type { CopyIn } from "./ports/copyIn.ts";
import type { EventBus } from "./ports/events.ts";
import type { MailSender } from "./ports/mail.ts";
import type { PaymentsGateway } from "./ports/payments.ts";

export const systemClock: Clock = () => new Date();

export interface CoreDeps {
  db: Db;
  /** Hand-written statements on Prisma's pool, for the hot reads (prisma/src/sql.ts). */
  sql: SqlReader;
  clock: Clock;
  /** Publishes to every API instance's subscribers (Redis pub/sub). */
  events: EventBus;
  /** Hands work to the worker; core calls it after commit (./unitOfWork.ts). */
  jobs: JobQueue;
  /** Operators' run-now, pause and resume of the catalog's jobs (./jobControl.ts). */
  jobControl: JobControl;
  /** The payments gateway (Stripe, through the port). */
  stripe: PaymentsGateway;
  /** Sends email (SMTP, through the port). */
  mail: MailSender;
  /** Bulk loads by COPY (the catalog import, reconciliation's staging). */
  copyIn: CopyIn;
  /** Encrypts and decrypts notification channels' secrets. */
  secrets: SecretCipher;
  /** The validated settings. */
  env: Env;
  logger: Logger;
}

export interface CoreResources {
  db: Db;
  /** Defaults to statements sent through Prisma's raw query (slower; for tests and scripts). */
  sql?: SqlReader;
  events: EventBus;
  jobs: JobQueue;
  jobControl: JobControl;
  payments: PaymentsGateway;
  mail: MailSender;
  copyIn: CopyIn;
  env: Env;
  logger: Logger;
  clock?: Clock;
}

/** Builds the process's CoreDeps from the resources it opened (and closes itself). */
export function createCoreDeps(resources: CoreResources): CoreDeps {
  return {
    db: resources.db,
    sql: resources.sql ?? prismaSqlReader(resources.db),
    clock: resources.clock ?? systemClock,
    events: resources.events,
    jobs: resources.jobs,
    jobControl: resources.jobControl,
    stripe: resources.payments,
    mail: resources.mail,
    copyIn: resources.copyIn,
    secrets: channelSecretCipher(resources.env),
    env: resources.env,
    logger: resources.logger,
  };
}

export { prismaSqlReader } from "@steward/db/sql";
