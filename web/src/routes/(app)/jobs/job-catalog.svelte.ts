// The worker's job catalog for this page: each job's schedule, pause state, last and next run,
// kept live (every `jobRunRecorded` event becomes the job's last run at once; when a scheduled run
// fires, the catalog is read again for the next run time), and the operator's actions: run now,
// pause, resume.
import type { Client, CombinedError } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import type { ResultOf } from "$lib/graphql.ts";
import { type JobRun, JobRunRecordedSubscription, mergeJobRuns } from "$lib/job-runs.ts";
import { followLive, type LiveConnection } from "$lib/live.svelte.ts";
import type { Notice } from "$lib/notice.ts";
import { JobsQuery, PauseJobMutation, ResumeJobMutation, RunJobNowMutation } from "./job-operations.ts";

export type Job = ResultOf<typeof JobsQuery>["jobs"][number];

export type JobAction = "run" | "pause" | "resume";

/** The action on its way, if any (one at a time: the buttons wait for it). */
export type Pending = { jobName: string; action: JobAction } | null;

const NO_ANSWER = "The API returned no answer. Try again.";
const REFRESH_DEBOUNCE_MS = 300;

/** The newer of two runs (a finished run never goes back to RUNNING). */
function latestRun(known: JobRun | null, incoming: JobRun | null): JobRun | null {
  if (!known || !incoming) return known ?? incoming;
  return mergeJobRuns([known], [incoming], 1)[0] ?? known;
}

export class JobCatalog {
  jobs = $state<Job[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  pending = $state<Pending>(null);
  notice = $state<Notice | null>(null);

  readonly #client: Client;
  readonly #live: LiveConnection;
  #request = 0;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.#live = live;
  }

  /** Loads the catalog and keeps every job's last run live; returns the function that stops. */
  start(): () => void {
    void this.load();
    // An event is applied in place; only a fired schedule (a new next run) is read again.
    const feed = followLive({
      client: this.#client,
      live: this.#live,
      subscription: JobRunRecordedSubscription,
      variables: {},
      reload: () => this.load(),
      onEvent: (data) => this.#record(data.jobRunRecorded),
      debounceMs: REFRESH_DEBOUNCE_MS,
    });
    return () => feed.stop();
  }

  async load(): Promise<void> {
    const request = ++this.#request;
    const result = await this.#client.query(JobsQuery, {}, { requestPolicy: "network-only" }).toPromise();
    if (request !== this.#request) return;
    this.loading = false;
    if (result.error) {
      this.error = errorMessage(result.error);
      return;
    }
    this.error = null;
    const known = new Map(this.jobs.map((job) => [job.name, job.lastRun]));
    // An event may have arrived while this was in flight: keep whichever last run is newer.
    this.jobs = (result.data?.jobs ?? []).map((job) => ({
      ...job,
      lastRun: latestRun(known.get(job.name) ?? null, job.lastRun),
    }));
  }

  async runNow(jobName: string): Promise<void> {
    const outcome = await this.#act(jobName, "run", async () => {
      const result = await this.#client.mutation(RunJobNowMutation, { jobName }).toPromise();
      return { error: result.error, payload: result.data?.runJobNow };
    });
    if (outcome)
      this.notice = { kind: "success", text: `Queued a run of ${jobName}. It appears below when it starts.` };
  }

  async pause(jobName: string): Promise<void> {
    const outcome = await this.#act(jobName, "pause", async () => {
      const result = await this.#client.mutation(PauseJobMutation, { jobName }).toPromise();
      return { error: result.error, payload: result.data?.pauseJob };
    });
    if (outcome) {
      this.notice = { kind: "success", text: `Paused ${jobName}: it will not run on schedule until resumed.` };
      await this.load();
    }
  }

  async resume(jobName: string): Promise<void> {
    const outcome = await this.#act(jobName, "resume", async () => {
      const result = await this.#client.mutation(ResumeJobMutation, { jobName }).toPromise();
      return { error: result.error, payload: result.data?.resumeJob };
    });
    if (outcome) {
      this.notice = { kind: "success", text: `Resumed ${jobName}: it runs on its schedule again.` };
      await this.load();
    }
  }

  /** Runs one mutation; shows its refusal and resolves false, or resolves true. */
  async #act(
    jobName: string,
    action: JobAction,
    send: () => Promise<{
      error: CombinedError | undefined;
      payload: { __typename: string; message?: string } | undefined;
    }>,
  ): Promise<boolean> {
    this.pending = { jobName, action };
    this.notice = null;
    const { error, payload } = await send();
    this.pending = null;
    if (error) this.notice = { kind: "error", text: errorMessage(error) };
    else if (!payload) this.notice = { kind: "error", text: NO_ANSWER };
    else if (payload.__typename.endsWith("Success")) return true;
    else this.notice = { kind: "error", text: payload.message ?? NO_ANSWER };
    return false;
  }

  /**
   * A run started or finished: it is the job's last run now. True when a schedule fired, so the
   * catalog is read again for the new next run.
   */
  #record(run: JobRun): boolean {
    let fired = false;
    this.jobs = this.jobs.map((job) => {
      if (job.name !== run.jobName) return job;
      if (job.nextRunAt && new Date(job.nextRunAt).getTime() <= Date.now()) fired = true;
      return { ...job, lastRun: latestRun(job.lastRun, run) };
    });
    return fired;
  }
}
