import type { Actor } from "@steward/core/actor";
import type { Env } from "@steward/core/env";
import type { LoginThrottle } from "@steward/core/loginThrottle";
import type { CopyIn } from "@steward/core/ports/copyIn";
import type { MailSender } from "@steward/core/ports/mail";
import type { PaymentsGateway } from "@steward/core/ports/payments";
import type { EventBus } from "@steward/core/ports/events";
import type { Db } from "@steward/db/client";
import type { CoreDeps } from "@steward/core/deps";
import type { BullJobQueues } from "@steward/jobs/bullmq";
import type { CredentialCache } from "./sessionCache.ts";

/** Per-request (or per-websocket-operation) context. */
export interface Context {
  db: Db;
  env: Env;
  events: EventBus;
  /** The process's core dependencies, built once (api/src/resources.ts); core functions take them first. */
  deps: CoreDeps;
  /** The worker's queues: enqueue, run-now, pause and resume. */
  jobs: BullJobQueues;
  /** Stripe, through the port (built once per process, in resources.ts). */
  payments: PaymentsGateway;
  /** SMTP, through the port (built once per process, in resources.ts). */
  mail: MailSender;
  /** Bulk loads by COPY (the catalog import). */
  copyIn: CopyIn;
  actor: Actor;
  /** Who sessions and tokens belong to, cached; `changed` after revoking one (every instance forgets it). */
  credentials: CredentialCache;
  /** Login attempts counted in Redis before each password check, shared by every API instance. */
  loginThrottle: LoginThrottle;
  clientIp: string;
  userAgent?: string;
  /** Set by login/logout; the HTTP layer turns it into a Set-Cookie header. */
  responseCookies: ResponseCookie[];
}

export interface ResponseCookie {
  name: string;
  value: string;
  expires: Date;
}
