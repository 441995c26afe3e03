// Runs the watchdog (core/src/watchdog.ts) in this API instance: a tick every
// WATCHDOG_INTERVAL_SECONDS on a connection of its own (the advisory lock is per session), with
// channel senders of its own, so it works with the worker and Redis both gone.
import { channelSecretCipher } from "@steward/core/channelSecrets";
import { createMailSender } from "@steward/core/adapters/nodemailer";
import type { Env } from "@steward/core/env";
import type { Logger } from "@steward/core/logger";
import type { CoreDeps } from "@steward/core/deps";
import { watchdogTick } from "@steward/core/watchdog";
import { createPrismaClient } from "@steward/db/client";

export interface Watchdog {
  stop(): Promise<void>;
}

/**
 * `deps`: this instance's; the worker-silent alert's changes are published on its bus. The alert is
 * written on the watchdog's own connection, not the instance's pool.
 */
export function startWatchdog(env: Env, logger: Logger, deps: Pick<CoreDeps, "events" | "jobs">): Watchdog {
  const db = createPrismaClient(env.DATABASE_URL, 1);
  const email = createMailSender(env);
  const alertDeps = { db, events: deps.events, jobs: deps.jobs, logger };
  const channels = { mail: email, secrets: channelSecretCipher(env) };
  const options = { staleSeconds: env.WATCHDOG_STALE_SECONDS, watchingSince: new Date() };
  const delivery = { maxAttempts: env.OUTBOX_MAX_ATTEMPTS, leaseMs: env.OUTBOX_LEASE_MS };
  let running: Promise<void> | null = null;
  let lastVerdict: string | undefined;
  const tick = () => {
    if (running) return; // a slow delivery is still going: skip rather than pile up
    running = watchdogTick(alertDeps, options, { deps: channels, options: delivery })
      .then((outcome) => {
        if (outcome.ran && outcome.verdict !== lastVerdict) {
          const fields = { verdict: outcome.verdict, delivered: outcome.delivered };
          if (outcome.verdict === "SILENT") logger.error(fields, "watchdog: the worker is silent");
          else logger.info(fields, "watchdog: the worker is alive");
          lastVerdict = outcome.verdict;
        }
      })
      .catch((error: unknown) =>
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, "watchdog tick failed"),
      )
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, env.WATCHDOG_INTERVAL_SECONDS * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      email.close();
      await db.$disconnect();
    },
  };
}
