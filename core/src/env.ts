// Every setting Steward reads, validated once at boot: a typo fails fast with a clear message.
import { WORKLOADS } from "@steward/jobs/contract";
import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65535);

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

function isLocale(value: string): boolean {
  try {
    return Intl.DateTimeFormat.supportedLocalesOf(value).length > 0;
  } catch {
    return false;
  }
}

export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),

  // Services
  // The scheme is checked too: "localhost:5432/steward" parses as a URL but cannot be connected to.
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: "must be a postgresql:// URL" })
    .default("postgresql://postgres@127.0.0.1:5432/steward"),
  REDIS_URL: z
    .url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" })
    .default("redis://127.0.0.1:6379/0"),
  /** Prefix for every Redis key (queues, pub/sub), so several stacks can share one Redis. */
  REDIS_PREFIX: z.string().min(1).default("steward"),

  // API and dashboard
  API_HOST: z.string().default("127.0.0.1"),
  API_PORT: port.default(4000),
  /** Built dashboard served by the API on the same origin (cookies and websockets just work). */
  WEB_DIST_DIR: z.string().optional(),
  PUBLIC_URL: z.string().url().default("http://127.0.0.1:4000"),
  /**
   * Browser origins besides PUBLIC_URL's that may open the graphql-ws socket (comma-separated,
   * e.g. "https://ops.example,https://steward.example"). Upgrades without an Origin header
   * (integrations, not browsers) are allowed; any other Origin is refused with 403.
   */
  ALLOWED_ORIGINS: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((entry) => entry.trim())
        .filter((entry) => entry.length > 0),
    )
    .pipe(z.array(z.url({ error: "must be comma-separated origins like https://ops.example" }))),

  // Sessions and login protection
  SESSION_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(12),
  COOKIE_SECURE: z
    .enum(["true", "false"])
    .default("false")
    .transform((value) => value === "true"),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().positive().default(5),
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().positive().default(20),
  LOGIN_FAILURE_WINDOW_MINUTES: z.coerce.number().int().positive().default(15),
  /** Past LOGIN_MAX_FAILURES_PER_ACCOUNT (from all addresses), each check of the account waits this, doubling… */
  LOGIN_SLOWDOWN_BASE_SECONDS: z.coerce.number().positive().max(3600).default(1),
  /** …up to this: an attacker spread over many addresses gets one guess per this long, the owner waits at most this. */
  LOGIN_SLOWDOWN_MAX_SECONDS: z.coerce.number().positive().max(3600).default(60),

  // Request limits (per API instance settings; the counters live in Redis, shared by every instance)
  /** Requests per window from one client address to /graphql. */
  RATE_LIMIT_PER_ADDRESS: z.coerce.number().int().positive().default(600),
  /** Requests per window with one API token. */
  RATE_LIMIT_PER_TOKEN: z.coerce.number().int().positive().default(300),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().positive().max(3600).default(60),
  /**
   * Websocket upgrades per window from one client address, failed sign-ins included (each is a new
   * upgrade). The dashboard opens one socket per tab and reconnects at most every few seconds.
   */
  WS_CONNECTS_PER_ADDRESS: z.coerce.number().int().positive().default(120),
  /** Websockets one client address may hold open at once, on each API instance. */
  WS_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().positive().default(100),
  /** Operations one websocket may have open at once. */
  WS_MAX_OPERATIONS_PER_CONNECTION: z.coerce.number().int().positive().max(1000).default(20),
  /** Load balancers in front of the API: the client address is taken this many hops from the right of X-Forwarded-For. 0: the socket's address. */
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(5).default(0),

  // Notification channels
  /**
   * 32 bytes, base64 (`openssl rand -base64 32`): encrypts channel secrets at rest. Required in
   * production; development and test use a fixed public key (core/src/channelSecrets.ts).
   */
  NOTIFY_SECRET_KEY: z
    .string()
    .refine((value) => Buffer.from(value, "base64").length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(value), {
      error: "must be 32 bytes in base64 (openssl rand -base64 32)",
    })
    .optional(),

  // Marketplace
  /** The marketplace's IANA zone: its days (metrics, schedules, emails) and every time the dashboard shows. */
  MARKETPLACE_TIME_ZONE: z
    .string()
    .refine(isTimeZone, { error: "must be an IANA time zone like Australia/Melbourne" })
    .default("Australia/Melbourne"),
  /** How the dashboard writes dates and times (BCP 47, e.g. en-AU: "16 Jan 2026, 9:30 am AEDT"). */
  MARKETPLACE_LOCALE: z.string().refine(isLocale, { error: "must be a BCP 47 locale like en-AU" }).default("en-AU"),
  /** Share of businesses featured the business plan aims for (the overview and the weekly checkup). */
  FEATURED_ADOPTION_TARGET: z.coerce.number().min(0).max(1).default(0.25),

  // Metrics and the weekly checkup
  /** What one AI provider call costs, in US cents (fractions allowed): nothing records the real cost yet. */
  AI_COST_PER_CALL_CENTS: z.coerce.number().min(0).max(10_000).default(0.5),
  AI_MONTHLY_BUDGET_CENTS: z.coerce.number().int().min(0).default(25_000),
  /** The overview recomputes metrics itself when the rollup's are older than this. */
  METRICS_MAX_AGE_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),

  // Review scoring
  AI_MODE: z.enum(["provider", "deterministic"]).default("deterministic"),
  AI_PROVIDER_URL: z.string().url().optional(),
  AI_TIMEOUT_MS: z.coerce.number().int().positive().max(60_000).default(5000),
  AI_RETRIES: z.coerce.number().int().min(0).max(5).default(2),

  // Worker
  WORKER_CONCURRENCY: z.coerce.number().int().positive().max(64).default(4),
  /** Per workload queue (@steward/jobs/contract), so each scales on its own; WORKER_CONCURRENCY otherwise. */
  WORKER_PAYMENTS_CONCURRENCY: z.coerce.number().int().positive().max(64).optional(),
  WORKER_SCORING_CONCURRENCY: z.coerce.number().int().positive().max(64).optional(),
  WORKER_MAINTENANCE_CONCURRENCY: z.coerce.number().int().positive().max(64).optional(),
  /** The workloads this worker process serves (comma-separated); all of them by default. */
  WORKER_QUEUES: z
    .string()
    .default(WORKLOADS.join(","))
    .transform((value) =>
      value
        .split(",")
        .map((name) => name.trim())
        .filter((name) => name.length > 0),
    )
    .pipe(z.array(z.enum(WORKLOADS)).min(1)),
  HEARTBEAT_CRON: z.string().default("* * * * *"),
  /** Health probes + alert rule evaluation + AI failover automation. */
  HEALTH_CHECKS_CRON: z.string().default("* * * * *"),
  /**
   * A job's lock, renewed while it runs: when a worker dies (SIGKILL, OOM), its jobs and the
   * one-at-a-time lock of a scheduled job are taken over after this long.
   */
  WORKER_LOCK_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  /**
   * The API's watchdog (core/src/watchdog.ts): the worker's heartbeat or health checks silent
   * this long raise the red `worker.silent` alert, delivered by the API itself.
   */
  WATCHDOG_STALE_SECONDS: z.coerce.number().int().min(5).max(86_400).default(300),
  /** How often each API instance looks (they take turns through a PostgreSQL advisory lock). */
  WATCHDOG_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /** How often the worker checks that its schedules are still in Redis (a flush or a new Redis loses them). */
  WORKER_SCHEDULE_CHECK_MS: z.coerce.number().int().min(500).max(3_600_000).default(60_000),

  // Data retention (core/src/retention.ts): days kept per table, 0 keeps forever. Financial
  // records and the audit log are never removed.
  RETENTION_CRON: z.string().default("15 3 * * *"),
  RETENTION_BATCH_SIZE: z.coerce.number().int().min(100).max(100_000).default(5000),
  RETENTION_JOB_RUNS_DAYS: z.coerce.number().int().min(0).default(90),
  RETENTION_SESSIONS_DAYS: z.coerce.number().int().min(0).default(30),
  RETENTION_LOGIN_ATTEMPTS_DAYS: z.coerce.number().int().min(0).default(90),
  RETENTION_OUTBOX_MESSAGES_DAYS: z.coerce.number().int().min(0).default(90),
  RETENTION_SEARCH_EVENTS_DAYS: z.coerce.number().int().min(0).default(400),
  RETENTION_HEALTH_RESULTS_DAYS: z.coerce.number().int().min(0).default(30),
  RETENTION_WEBHOOK_PAYLOADS_DAYS: z.coerce.number().int().min(0).default(90),

  // Backups (core/src/backups.ts): pg_dump -Fc archives, read back whole, restored monthly to check.
  BACKUP_DIR: z.string().min(1).default("backups"),
  /** Archives kept in BACKUP_DIR (the newest ones). */
  BACKUP_KEEP: z.coerce.number().int().min(1).max(1000).default(14),
  BACKUP_CRON: z.string().default("0 2 * * *"),
  /** The restore into a scratch database: monthly. */
  BACKUP_VERIFY_CRON: z.string().default("0 4 1 * *"),
  /** Where pg_dump and pg_restore are; unset: the server's major version under /usr/lib/postgresql, else PATH. */
  PG_BIN_DIR: z.string().min(1).optional(),
  // An S3-compatible store for a copy of each archive off the machine (all of endpoint, bucket and
  // keys, or none: see loadEnv). Path-style requests, so MinIO, Ceph or R2 work as well as AWS.
  BACKUP_S3_ENDPOINT: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).optional(),
  BACKUP_S3_BUCKET: z.string().min(1).optional(),
  /** The region the request is signed for; most non-AWS stores accept any. */
  BACKUP_S3_REGION: z.string().min(1).optional(),
  BACKUP_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  BACKUP_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Prepended to each object key, e.g. "steward/" (a trailing "/" is not added for you). */
  BACKUP_S3_PREFIX: z.string().optional(),
  /** Objects kept in the store (the newest); older ones are deleted after a successful backup. Default: BACKUP_KEEP. */
  BACKUP_S3_KEEP: z.coerce.number().int().min(1).max(10_000).optional(),

  // Stripe (the real SDK; dev and test default to the local sandbox, production to api.stripe.com)
  /** Required in production; dev/test default to the sandbox's key. */
  STRIPE_API_KEY: z.string().min(1).optional(),
  /** Webhook signing secret (whsec_…); required in production, dev/test default to the sandbox's. */
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  /**
   * Webhook deliveries per RATE_LIMIT_WINDOW_SECONDS from one address (Stripe sends from a few
   * addresses, in bursts at most a few hundred a minute); over it: 429, and Stripe retries.
   */
  STRIPE_WEBHOOKS_PER_ADDRESS: z.coerce.number().int().positive().default(1200),
  /** Where the SDK connects; unset in production means Stripe itself. Dev/test: 127.0.0.1:12111 over http. */
  STRIPE_API_HOST: z.string().min(1).optional(),
  STRIPE_API_PORT: port.optional(),
  STRIPE_API_PROTOCOL: z.enum(["http", "https"]).optional(),
  STRIPE_TIMEOUT_MS: z.coerce.number().int().positive().max(120_000).default(10_000),

  // Email (transactional outbox delivered over SMTP; dev/test use the local SMTP sandbox)
  SMTP_HOST: z.string().min(1).default("127.0.0.1"),
  SMTP_PORT: port.default(2525),
  SMTP_SECURE: z
    .enum(["true", "false"])
    .default("false")
    .transform((value) => value === "true"),
  SMTP_USER: z.string().min(1).optional(),
  SMTP_PASSWORD: z.string().min(1).optional(),
  EMAIL_FROM: z.string().min(3).default("Steward <no-reply@steward.test>"),
  /** Delivery attempts before an outbox message is DEAD. */
  OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6),
  /** A claimed message is invisible to other deliverers this long; a deliverer that died is retried after it. */
  OUTBOX_LEASE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(300_000),
});

export type Env = z.infer<typeof envSchema>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  // An empty variable is an unset one: Compose's `${NAME:-}` passes optional settings through as "".
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(source).filter(([, value]) => value !== "")));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid environment:\n${problems.join("\n")}`);
  }
  // Read at boot, not at the first delivery: a production instance without it must not start.
  const s3Missing = missingBackupS3Settings(parsed.data);
  if (s3Missing.length > 0)
    throw new Error(
      `Invalid environment:\n  ${s3Missing.join(", ")}: required once any BACKUP_S3_* is set (an S3-compatible store takes all of ${BACKUP_S3_REQUIRED.join(", ")}, or none)`,
    );
  if (parsed.data.NODE_ENV === "production" && !parsed.data.NOTIFY_SECRET_KEY)
    throw new Error("Invalid environment:\n  NOTIFY_SECRET_KEY: required in production (openssl rand -base64 32)");
  return parsed.data;
}

/** The settings an S3-compatible backup store needs together; region and prefix have defaults. */
export const BACKUP_S3_REQUIRED = [
  "BACKUP_S3_ENDPOINT",
  "BACKUP_S3_BUCKET",
  "BACKUP_S3_ACCESS_KEY_ID",
  "BACKUP_S3_SECRET_ACCESS_KEY",
] as const;
const BACKUP_S3_ALL = [...BACKUP_S3_REQUIRED, "BACKUP_S3_REGION", "BACKUP_S3_PREFIX", "BACKUP_S3_KEEP"] as const;

function missingBackupS3Settings(env: Env): string[] {
  if (BACKUP_S3_ALL.every((name) => env[name] === undefined)) return [];
  return BACKUP_S3_REQUIRED.filter((name) => env[name] === undefined);
}

export interface BackupS3Settings {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  prefix: string;
  keep: number;
}

/** The S3-compatible backup store's settings, or null when none is configured (loadEnv checked they come together). */
export function backupS3Settings(env: Env): BackupS3Settings | null {
  const { BACKUP_S3_ENDPOINT, BACKUP_S3_BUCKET, BACKUP_S3_ACCESS_KEY_ID, BACKUP_S3_SECRET_ACCESS_KEY } = env;
  if (!BACKUP_S3_ENDPOINT || !BACKUP_S3_BUCKET || !BACKUP_S3_ACCESS_KEY_ID || !BACKUP_S3_SECRET_ACCESS_KEY) return null;
  return {
    endpoint: BACKUP_S3_ENDPOINT,
    bucket: BACKUP_S3_BUCKET,
    region: env.BACKUP_S3_REGION ?? "us-east-1",
    accessKeyId: BACKUP_S3_ACCESS_KEY_ID,
    secretAccessKey: BACKUP_S3_SECRET_ACCESS_KEY,
    prefix: env.BACKUP_S3_PREFIX ?? "",
    keep: env.BACKUP_S3_KEEP ?? env.BACKUP_KEEP,
  };
}
