// Missed-run detection: a scheduled job that has not succeeded within its expected period
// (plus a grace) raises a yellow alert, and red after twice that (24 h / 48 h for a daily job).
// A job that failed all its attempts raises a red alert until it next succeeds.
import type { Db } from "@steward/db/client";
import type { ResolvedContract } from "@steward/jobs/contract";
import { type AlertDeps, clearAlert, raiseAlert } from "./alerts.ts";
import type { JobOutcome } from "./jobRuns.ts";

export interface ScheduledJob {
  name: string;
  /** How often the job should succeed, in minutes (1440 for a daily job). */
  periodMinutes: number;
}

/** The jobs of a resolved catalog that run on a period, as job health watches them. */
export function scheduledJobsOf(catalog: readonly Pick<ResolvedContract, "name" | "schedule">[]): ScheduledJob[] {
  return catalog.flatMap((job) =>
    job.schedule?.everyMinutes ? [{ name: job.name, periodMinutes: job.schedule.everyMinutes }] : [],
  );
}

export interface JobHealth {
  name: string;
  lastSuccessAt: Date | null;
  state: "OK" | "YELLOW" | "RED" | "NEVER_RAN";
}

// Late by more than this past its period counts as missed (a daily 02:00 run at 02:20 is fine).
const graceMinutes = (periodMinutes: number) => Math.max(5, Math.min(60, periodMinutes * 0.1));

export function classifyLateness(periodMinutes: number, minutesSinceSuccess: number): JobHealth["state"] {
  const grace = graceMinutes(periodMinutes);
  if (minutesSinceSuccess > 2 * periodMinutes + grace) return "RED";
  if (minutesSinceSuccess > periodMinutes + grace) return "YELLOW";
  return "OK";
}

/**
 * `watchingSince`: since when the schedules have been in place (the worker's start). A job that has
 * never succeeded is late once a period (plus grace) has passed since then, or since its first
 * attempt if that is older: so a job that never once succeeds alerts after its first missed period.
 */
export async function checkMissedRuns(
  deps: AlertDeps,
  jobs: readonly ScheduledJob[],
  now = new Date(),
  watchingSince?: Date,
): Promise<JobHealth[]> {
  const { db } = deps;
  const results: JobHealth[] = [];
  for (const job of jobs) {
    const last = await db.jobRun.findFirst({
      where: { jobName: job.name, status: "SUCCEEDED" },
      orderBy: { finishedAt: "desc" },
      select: { finishedAt: true },
    });
    const lastSuccessAt = last?.finishedAt ?? null;
    const expectedSince = lastSuccessAt ? null : await neverSucceededSince(db, job.name, watchingSince);
    const reference = lastSuccessAt ?? expectedSince;
    const lateness = reference
      ? classifyLateness(job.periodMinutes, (now.getTime() - reference.getTime()) / 60_000)
      : "OK";
    // Not yet late and never succeeded: still within its first period.
    const state = !lastSuccessAt && lateness === "OK" ? "NEVER_RAN" : lateness;
    const fingerprint = `job-missed:${job.name}`;
    if (state === "YELLOW" || state === "RED") {
      await raiseAlert(
        deps,
        {
          fingerprint,
          ruleKey: "jobs.missed_run",
          severity: state,
          title: lastSuccessAt
            ? `Job ${job.name} has not succeeded on schedule`
            : `Job ${job.name} has never succeeded`,
          detail: lastSuccessAt
            ? `Last success ${lastSuccessAt.toISOString()}; expected every ${job.periodMinutes} minutes`
            : `No successful run since ${reference!.toISOString()}; expected every ${job.periodMinutes} minutes`,
          labels: { job: job.name },
        },
        now,
      );
    } else if (state === "OK") {
      await clearAlert(deps, fingerprint, `Job ${job.name} succeeded at ${lastSuccessAt!.toISOString()}`);
    }
    results.push({ name: job.name, lastSuccessAt, state });
  }
  return results;
}

/** The earlier of the job's first attempt and `watchingSince`; null when neither is known. */
async function neverSucceededSince(db: Db, jobName: string, watchingSince: Date | undefined): Promise<Date | null> {
  const first = await db.jobRun.findFirst({
    where: { jobName },
    orderBy: { startedAt: "asc" },
    select: { startedAt: true },
  });
  const candidates = [first?.startedAt, watchingSince].filter((date): date is Date => date !== undefined);
  if (candidates.length === 0) return null;
  return new Date(Math.min(...candidates.map((date) => date.getTime())));
}

export async function recordJobExhausted(
  deps: AlertDeps,
  jobName: string,
  attempts: number,
  error: string,
): Promise<void> {
  await raiseAlert(deps, {
    fingerprint: `job-failed:${jobName}`,
    ruleKey: "jobs.failed_all_attempts",
    severity: "RED",
    title: `Job ${jobName} failed all ${attempts} attempts`,
    detail: error.slice(0, 1000),
    labels: { job: jobName },
  });
}

export async function recordJobSucceeded(deps: AlertDeps, jobName: string): Promise<void> {
  await clearAlert(deps, `job-failed:${jobName}`, `Job ${jobName} succeeded again`);
}

/**
 * The heartbeat job: its run, recorded every minute, proves the scheduling path end to end (the
 * watchdog and the Jobs page read it); it also measures a round trip to PostgreSQL.
 */
export async function heartbeatRound(db: Db): Promise<JobOutcome> {
  const started = performance.now();
  await db.$queryRaw`SELECT 1`;
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  return { summary: `worker alive; PostgreSQL answered in ${latencyMs} ms`, changes: { latencyMs } };
}
