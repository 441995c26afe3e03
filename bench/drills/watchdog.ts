// The watchdog drill: the worker is SIGKILLed for good, and the API (a real one, in this process)
// notices its silence and delivers the red `worker.silent` alert itself to Slack, PagerDuty (the
// notify sandbox) and email (the SMTP sandbox) within the threshold; when the worker comes back
// the alert resolves. Then Redis goes down: the worker is alive but can run nothing, and the API
// notifies again by a path that needs no Redis. The drill has its own stack, because the worker's
// heartbeat and health checks run every few seconds here (seconds-cron) instead of every minute.
import { systemActor } from "@steward/core/actor";
import { channelSecretCipher } from "@steward/core/channelSecrets";
import { loadEnv } from "@steward/core/env";
import { createLogger } from "@steward/core/logger";
import { upsertNotificationChannel } from "@steward/core/notificationChannels";
import { WORKER_SILENT_FINGERPRINT } from "@steward/core/watchdog";
import { buildApp } from "../../api/src/app.ts";
import { type ReceivedNotification, startNotifySandbox } from "../../sandbox/src/notify/server.ts";
import { Checks, type DrillResult, startDrillStack, waitUntil } from "./harness.ts";

export const WATCHDOG_STALE_SECONDS = 12;
export const WATCHDOG_INTERVAL_SECONDS = 1;

type Event = "trigger" | "resolve";

function pagerDutyEvents(received: readonly ReceivedNotification[], event: Event): ReceivedNotification[] {
  return received.filter((entry) => {
    const body = entry.body as { dedup_key?: string; event_action?: string } | null;
    return entry.status === 202 && body?.dedup_key === WORKER_SILENT_FINGERPRINT && body.event_action === event;
  });
}

function slackEvents(received: readonly ReceivedNotification[], event: Event): ReceivedNotification[] {
  const verb = event === "trigger" ? "Firing" : "Resolved";
  return received.filter((entry) => {
    const text = (entry.body as { text?: string } | null)?.text ?? "";
    return entry.status === 200 && text.includes(`${verb}: The worker is silent`);
  });
}

export async function drillWatchdog(options: { template?: string } = {}): Promise<DrillResult> {
  const started = Date.now();
  const checks = new Checks();
  const stack = await startDrillStack({
    template: options.template,
    env: {
      HEARTBEAT_CRON: "*/2 * * * * *",
      HEALTH_CHECKS_CRON: "*/3 * * * * *",
      WATCHDOG_STALE_SECONDS: String(WATCHDOG_STALE_SECONDS),
      WATCHDOG_INTERVAL_SECONDS: String(WATCHDOG_INTERVAL_SECONDS),
    },
  });
  const notify = await startNotifySandbox({ port: 0 });
  const env = loadEnv({ ...stack.env, API_PORT: "0", LOG_LEVEL: "silent" });
  const app = buildApp(env, createLogger("drill-api", "silent"));
  const figures: string[] = [];
  try {
    const secrets = channelSecretCipher(env);
    const actor = systemActor("drill");
    await upsertNotificationChannel({ db: stack.db, secrets }, actor, {
      name: "On-call Slack",
      kind: "SLACK",
      severities: ["RED"],
      url: `${notify.url}/slack/T0WATCH/B0WATCH/watchdog-secret`,
    });
    await upsertNotificationChannel({ db: stack.db, secrets }, actor, {
      name: "On-call PagerDuty",
      kind: "PAGERDUTY",
      severities: ["RED"],
      url: `${notify.url}/v2/enqueue`,
      secret: "R0UTINGKEYWATCHDOG00000000000000",
    });
    await upsertNotificationChannel({ db: stack.db, secrets }, actor, {
      name: "On-call email",
      kind: "EMAIL",
      severities: ["RED"],
      recipients: ["oncall@steward.test"],
    });
    await stack.worker.start();
    await app.start();
    const beating = async () =>
      (await stack.db.jobRun.count({
        where: { jobName: "heartbeat", status: "SUCCEEDED", startedAt: { gt: new Date(Date.now() - 5000) } },
      })) > 0 &&
      (await stack.db.healthCheckResult.count({ where: { checkedAt: { gt: new Date(Date.now() - 6000) } } })) > 0;
    await waitUntil("the worker's heartbeat and health checks", beating, 60_000, 250);

    const boundMs = (WATCHDOG_STALE_SECONDS + 2 * WATCHDOG_INTERVAL_SECONDS) * 1000;
    const emailsAbout = (verb: string) =>
      stack.smtp.messages().filter((message) => message.subject.includes(`${verb}: The worker is silent`));

    /** Waits for one more trigger on each channel; returns how long it took from `since`. */
    const triggerArrives = async (label: string, since: number, seen: number) => {
      await waitUntil(
        `${label}: the red alert on Slack, PagerDuty and email`,
        () =>
          slackEvents(notify.received(), "trigger").length > seen &&
          pagerDutyEvents(notify.received(), "trigger").length > seen &&
          emailsAbout("Firing").length > seen,
        boundMs + 20_000,
        100,
      );
      const arrivals = [
        slackEvents(notify.received(), "trigger")[seen]!.receivedAt,
        pagerDutyEvents(notify.received(), "trigger")[seen]!.receivedAt,
        emailsAbout("Firing")[seen]!.receivedAt,
      ].map((at) => new Date(at).getTime() - since);
      return Math.max(...arrivals);
    };
    const resolveArrives = (label: string, seen: number) =>
      waitUntil(
        `${label}: the resolve on Slack and PagerDuty`,
        () =>
          slackEvents(notify.received(), "resolve").length > seen &&
          pagerDutyEvents(notify.received(), "resolve").length > seen,
        90_000,
        100,
      );

    // 1. The worker is killed for good.
    const killedAt = Date.now();
    await stack.worker.kill();
    const afterKill = await triggerArrives("worker killed", killedAt, 0);
    checks.expect(
      `worker killed: Slack, PagerDuty and email notified within the threshold (${WATCHDOG_STALE_SECONDS} s + one look)`,
      afterKill <= boundMs,
      `${(afterKill / 1000).toFixed(1)} s after the kill (bound ${boundMs / 1000} s)`,
    );
    figures.push(`notified ${(afterKill / 1000).toFixed(1)} s after the kill`);
    const alert = await stack.db.alert.findUniqueOrThrow({ where: { fingerprint: WORKER_SILENT_FINGERPRINT } });
    checks.expect(
      "one red worker.silent alert, firing",
      alert.severity === "RED" && alert.status === "FIRING",
      `${alert.severity} ${alert.status}`,
    );
    checks.equal(
      "each channel got the trigger once",
      slackEvents(notify.received(), "trigger").length +
        pagerDutyEvents(notify.received(), "trigger").length +
        emailsAbout("Firing").length,
      3,
    );

    // 2. The worker comes back: the alert resolves and the channels are told.
    await stack.worker.start();
    await resolveArrives("worker back", 0);
    const back = await stack.db.alert.findUniqueOrThrow({ where: { id: alert.id } });
    checks.expect("worker back: the alert resolved", back.status === "RESOLVED", back.resolutionNote ?? "");

    // 3. Redis down: the worker lives but can run nothing; the API notifies without Redis.
    const redisDownAt = Date.now();
    await stack.redis.stop();
    const afterRedis = await triggerArrives("Redis down", redisDownAt, 1);
    checks.expect(
      "Redis down: notified again within the threshold, by PostgreSQL and HTTP/SMTP alone",
      afterRedis <= boundMs,
      `${(afterRedis / 1000).toFixed(1)} s after Redis stopped (bound ${boundMs / 1000} s)`,
    );
    figures.push(`${(afterRedis / 1000).toFixed(1)} s after Redis stopped`);
    await stack.redis.start();
    await resolveArrives("Redis back", 1);
    checks.expect(
      "Redis back: the worker's schedules restored and the alert resolved again",
      (await stack.db.alert.findUniqueOrThrow({ where: { id: alert.id } })).status === "RESOLVED",
    );
    checks.equal(
      "no notification given up (DEAD)",
      await stack.db.outboxMessage.count({ where: { alertId: alert.id, status: "DEAD" } }),
      0,
    );
  } finally {
    await app.stop();
    await notify.stop();
    await stack.stop();
  }
  return {
    name: "Worker killed for good, then Redis down (the API's watchdog)",
    runs: "1 kill + 1 Redis stop",
    checks: checks.list,
    durationMs: Date.now() - started,
    figures: figures.join("; "),
  };
}
