// The watchdog outside the worker. Alert delivery, job health and the health checks all run in
// the worker, so a dead worker (or a dead Redis, which stops every job) would go unnoticed. Every
// API instance therefore looks, every WATCHDOG_INTERVAL_SECONDS, at what the worker last wrote to
// PostgreSQL (a successful heartbeat run, a health check result). When either is older than
// WATCHDOG_STALE_SECONDS it raises the red `worker.silent` alert and delivers the due
// notifications itself, over HTTP/SMTP, without Redis; when the worker writes again it resolves
// the alert. Instances take turns with a PostgreSQL advisory lock, so one tick at a time decides
// and the alert (unique by fingerprint) is raised and resolved once.
import type { Db } from "@steward/db/client";
import { systemActor } from "./actor.ts";
import { type AlertDeps, clearAlert, raiseAlert } from "./alerts.ts";
import { type NotificationDeliveryDeps, deliverDueNotifications } from "./notifications/deliver.ts";
import type { DeliveryOptions, DeliveryReport } from "./outbox.ts";

export const WORKER_SILENT_RULE_KEY = "worker.silent";
export const WORKER_SILENT_FINGERPRINT = "worker.silent";
/** pg_try_advisory_lock key of a watchdog tick (arbitrary, fixed: "SWDG"). */
const WATCHDOG_LOCK_KEY = 0x53574447;

export interface WorkerPulse {
  lastHeartbeatAt: Date | null;
  lastHealthCheckAt: Date | null;
}

/** What the worker last wrote: its newest successful heartbeat and its newest health check result. */
export async function readWorkerPulse(db: Db): Promise<WorkerPulse> {
  const [heartbeat, health] = await Promise.all([
    db.jobRun.findFirst({
      where: { jobName: "heartbeat", status: "SUCCEEDED" },
      orderBy: { startedAt: "desc" },
      select: { finishedAt: true },
    }),
    db.healthCheckResult.findFirst({ orderBy: { checkedAt: "desc" }, select: { checkedAt: true } }),
  ]);
  return { lastHeartbeatAt: heartbeat?.finishedAt ?? null, lastHealthCheckAt: health?.checkedAt ?? null };
}

export interface SilentSignal {
  signal: "heartbeat" | "health checks";
  /** Null: never seen since the watchdog started watching. */
  lastAt: Date | null;
  silentSeconds: number;
}

/**
 * The signals silent for longer than `staleSeconds`. A signal never seen counts from
 * `watchingSince` (the instance's start), so a fresh stack gets one threshold to come up.
 */
export function silentSignals(
  pulse: WorkerPulse,
  staleSeconds: number,
  watchingSince: Date,
  now: Date,
): SilentSignal[] {
  const signals = [
    { signal: "heartbeat" as const, lastAt: pulse.lastHeartbeatAt },
    { signal: "health checks" as const, lastAt: pulse.lastHealthCheckAt },
  ];
  return signals.flatMap(({ signal, lastAt }) => {
    const silentSeconds = (now.getTime() - (lastAt ?? watchingSince).getTime()) / 1000;
    return silentSeconds > staleSeconds ? [{ signal, lastAt, silentSeconds: Math.floor(silentSeconds) }] : [];
  });
}

export type WatchdogVerdict = "SILENT" | "ALIVE";

export interface WatchdogOptions {
  staleSeconds: number;
  watchingSince: Date;
}

/** Raises (or keeps) the red alert while a signal is silent; resolves it when both are back. */
export async function checkWorkerPulse(
  deps: AlertDeps,
  options: WatchdogOptions,
  now = new Date(),
): Promise<{ verdict: WatchdogVerdict; silent: SilentSignal[]; resolved: boolean }> {
  const pulse = await readWorkerPulse(deps.db);
  const silent = silentSignals(pulse, options.staleSeconds, options.watchingSince, now);
  if (silent.length > 0) {
    const described = silent
      .map(
        (entry) =>
          `${entry.signal}: ${entry.lastAt ? `last ${entry.lastAt.toISOString()}, ${entry.silentSeconds} s ago` : `none in ${entry.silentSeconds} s`}`,
      )
      .join("; ");
    await raiseAlert(
      deps,
      {
        fingerprint: WORKER_SILENT_FINGERPRINT,
        ruleKey: WORKER_SILENT_RULE_KEY,
        severity: "RED",
        title: "The worker is silent: jobs, health checks and alert delivery have stopped",
        detail: `No sign of the worker for more than ${options.staleSeconds} s (${described}). Is the worker process (or Redis) down? The API delivers alert notifications meanwhile.`,
        labels: { source: "api-watchdog" },
      },
      now,
    );
    return { verdict: "SILENT", silent, resolved: false };
  }
  const resolved = await clearAlert(
    deps,
    WORKER_SILENT_FINGERPRINT,
    `The worker is back: heartbeat at ${pulse.lastHeartbeatAt?.toISOString()}, health checks at ${pulse.lastHealthCheckAt?.toISOString()}`,
    systemActor("api-watchdog"),
  );
  return { verdict: "ALIVE", silent, resolved };
}

export interface WatchdogTick {
  /** False: another instance held the turn. */
  ran: boolean;
  verdict?: WatchdogVerdict;
  delivered?: DeliveryReport;
}

/**
 * One turn of one instance. `deps.db` must be a client with a single connection of its own: the
 * advisory lock belongs to the session, so taking and releasing it must use the same connection.
 * While the worker is silent (and on the turn it comes back, for the resolve message) this turn
 * delivers every due alert notification, since the worker's outbox-delivery job cannot.
 */
export async function watchdogTick(
  deps: AlertDeps,
  options: WatchdogOptions,
  // The senders only: the delivery runs on this turn's connection (`deps.db`).
  delivery: { deps: Omit<NotificationDeliveryDeps, "db">; options: DeliveryOptions },
  now = new Date(),
): Promise<WatchdogTick> {
  const { db } = deps;
  const rows = await db.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_lock(${WATCHDOG_LOCK_KEY}) AS locked`;
  if (!rows[0]?.locked) return { ran: false };
  try {
    const outcome = await checkWorkerPulse(deps, options, now);
    const delivered =
      outcome.verdict === "SILENT" || outcome.resolved
        ? await deliverDueNotifications({ ...delivery.deps, db }, delivery.options)
        : undefined;
    return { ran: true, verdict: outcome.verdict, delivered };
  } finally {
    await db.$queryRaw`SELECT pg_advisory_unlock(${WATCHDOG_LOCK_KEY})`;
  }
}
