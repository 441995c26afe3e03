// The latest job runs, kept live: one query for the list, then every `jobRunRecorded` event is
// folded in (new runs on top, a run that finishes updates in place). After each websocket
// (re)connection the list is read again so runs published while offline are not missed.
import type { Client } from "@urql/core";
import { errorMessage } from "./errors.ts";
import { type JobRun, JobRunRecordedSubscription, LatestJobRunsQuery, mergeJobRuns } from "./job-runs.ts";
import type { LiveConnection, LiveStatus } from "./live.svelte.ts";

export class JobRunsFeed {
  runs = $state<JobRun[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  /** Why the live updates stopped, if they did. */
  liveError = $state<string | null>(null);

  readonly #client: Client;
  readonly #live: LiveConnection;
  readonly #limit: number;

  constructor(client: Client, live: LiveConnection, limit = 25) {
    this.#client = client;
    this.#live = live;
    this.#limit = limit;
  }

  get liveStatus(): LiveStatus {
    return this.#live.statusFor(this.liveError);
  }

  /** Starts the query and the subscription; returns the function that stops both. */
  start(): () => void {
    const variables = { first: this.#limit };
    const list = this.#client
      .query(LatestJobRunsQuery, variables, { requestPolicy: "cache-and-network" })
      .subscribe((result) => {
        if (result.error) this.error = errorMessage(result.error);
        if (result.data) {
          this.error = null;
          this.#fold(result.data.jobRuns.edges.map((edge) => edge.node));
        }
        if (!result.stale) this.loading = false;
      });

    const events = this.#client.subscription(JobRunRecordedSubscription, {}).subscribe((result) => {
      if (result.error) this.liveError = errorMessage(result.error);
      if (result.data) {
        this.liveError = null;
        this.#fold([result.data.jobRunRecorded]);
      }
    });

    const stopResync = this.#live.onConnected(() => {
      void this.#client
        .query(LatestJobRunsQuery, variables, { requestPolicy: "network-only" })
        .toPromise()
        .then((result) => {
          if (result.data) this.#fold(result.data.jobRuns.edges.map((edge) => edge.node));
        });
    });

    return () => {
      stopResync();
      events.unsubscribe();
      list.unsubscribe();
    };
  }

  #fold(incoming: readonly JobRun[]): void {
    this.runs = mergeJobRuns(this.runs, incoming, this.#limit);
  }
}
