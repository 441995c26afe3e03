// The worker's job catalog for this page: each job's schedule, pause state, last and next run,
// kept live (every `jobRunRecorded` event becomes the job's last run at once; when a scheduled run
// fires, the catalog is read again for the next run time), and the operator's actions: run now,
// pause, resume.
import type { Client } from "@urql/core";
import type { ResultOf } from "$lib/graphql.ts";
import { type JobRun, JobRunRecordedSubscription, mergeJobRuns } from "$lib/job-runs.ts";
import { LiveQuery } from "$lib/live-query.svelte.ts";
import type { LiveConnection } from "$lib/live.svelte.ts";
import { type Result, runMutation } from "$lib/mutation.ts";
import type { Notice } from "$lib/notice.ts";
import { SvelteMap } from "svelte/reactivity";
import { JobsQuery, PauseJobMutation, ResumeJobMutation, RunJobNowMutation } from "./job-operations.ts";

export type Job = ResultOf<typeof JobsQuery>["jobs"][number];

export type JobAction = "run" | "pause" | "resume";

/** The action on its way, if any (one at a time: the buttons wait for it). */
export type Pending = { jobName: string; action: JobAction } | null;

const REFRESH_DEBOUNCE_MS = 300;

/** The newer of two runs (a finished run never goes back to RUNNING). */
function latestRun(known: JobRun | null, incoming: JobRun | null): JobRun | null {
  if (!known || !incoming) return known ?? incoming;
  return mergeJobRuns([known], [incoming], 1)[0] ?? known;
}

export class JobCatalog {
  pending = $state<Pending>(null);
  notice = $state<Notice | null>(null);

  readonly #client: Client;
  readonly #catalog;
  /** Each job's last run as the events told it, newer than the catalog's until it is read again. */
  readonly #lastRuns = new SvelteMap<string, JobRun>();

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.#catalog = new LiveQuery({
      client,
      live,
      query: JobsQuery,
      variables: () => ({}),
      subscription: JobRunRecordedSubscription,
      // An event is applied in place; only a fired schedule (a new next run) is read again.
      onEvent: (data) => this.#record(data.jobRunRecorded),
      debounceMs: REFRESH_DEBOUNCE_MS,
    });
  }

  /** The catalog, each job with the newer of its read and its pushed last run. */
  get jobs(): Job[] {
    return (this.#catalog.data?.jobs ?? []).map((job) => ({
      ...job,
      lastRun: latestRun(this.#lastRuns.get(job.name) ?? null, job.lastRun),
    }));
  }

  get loading(): boolean {
    return this.#catalog.loading;
  }

  get error(): string | null {
    return this.#catalog.error;
  }

  /** Loads the catalog and keeps every job's last run live; returns the function that stops. */
  start(): () => void {
    return this.#catalog.start();
  }

  async runNow(jobName: string): Promise<void> {
    const done = await this.#act(
      jobName,
      "run",
      runMutation(this.#client, RunJobNowMutation, { jobName }, (data) => data.runJobNow),
    );
    if (done) this.notice = { kind: "success", text: `Queued a run of ${jobName}. It appears below when it starts.` };
  }

  async pause(jobName: string): Promise<void> {
    const done = await this.#act(
      jobName,
      "pause",
      runMutation(this.#client, PauseJobMutation, { jobName }, (data) => data.pauseJob),
    );
    if (done) {
      this.notice = { kind: "success", text: `Paused ${jobName}: it will not run on schedule until resumed.` };
      await this.#catalog.refetchNow();
    }
  }

  async resume(jobName: string): Promise<void> {
    const done = await this.#act(
      jobName,
      "resume",
      runMutation(this.#client, ResumeJobMutation, { jobName }, (data) => data.resumeJob),
    );
    if (done) {
      this.notice = { kind: "success", text: `Resumed ${jobName}: it runs on its schedule again.` };
      await this.#catalog.refetchNow();
    }
  }

  /** Waits for one action; shows its refusal and resolves false, or resolves true. */
  async #act(jobName: string, action: JobAction, sent: Promise<Result<unknown>>): Promise<boolean> {
    this.pending = { jobName, action };
    this.notice = null;
    const outcome = await sent;
    this.pending = null;
    if (!outcome.ok) this.notice = { kind: "error", text: outcome.message };
    return outcome.ok;
  }

  /**
   * A run started or finished: it is the job's last run now. True when a schedule fired, so the
   * catalog is read again for the new next run.
   */
  #record(run: JobRun): boolean {
    const job = this.#catalog.data?.jobs.find((candidate) => candidate.name === run.jobName);
    this.#lastRuns.set(run.jobName, latestRun(this.#lastRuns.get(run.jobName) ?? null, run) ?? run);
    return job?.nextRunAt != null && new Date(job.nextRunAt).getTime() <= Date.now();
  }
}
