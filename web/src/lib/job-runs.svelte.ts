// The latest job runs, kept live: one query for the list, then every `jobRunRecorded` event is
// folded in (new runs on top, a run that finishes updates in place) without reading the list
// again; after each websocket (re)connection the live query reads it again so runs published
// while offline are not missed.
import type { Client } from "@urql/core";
import { SvelteMap } from "svelte/reactivity";
import { type JobRun, JobRunRecordedSubscription, LatestJobRunsQuery, mergeJobRuns } from "./job-runs.ts";
import { LiveQuery } from "./live-query.svelte.ts";
import type { LiveConnection } from "./live.svelte.ts";

export class JobRunsFeed {
  /** The live read itself: its `loading`, `error` and live status are the feed's. */
  readonly query;
  /** Runs the events told of, until the list read again has them. */
  readonly #pushed = new SvelteMap<string, JobRun>();
  readonly #limit: number;

  constructor(client: Client, live: LiveConnection, limit = 25) {
    this.#limit = limit;
    this.query = new LiveQuery({
      client,
      live,
      query: LatestJobRunsQuery,
      variables: () => ({ first: limit }),
      subscription: JobRunRecordedSubscription,
      onEvent: ({ jobRunRecorded: run }) => {
        const known = this.#pushed.get(run.id);
        this.#pushed.set(run.id, known ? (mergeJobRuns([known], [run], 1)[0] ?? run) : run);
        return false;
      },
    });
  }

  /** Newest first: the list read, with each pushed run in its place (the newer state of a run wins). */
  get runs(): JobRun[] {
    const read = this.query.data?.jobRuns.edges.map((edge) => edge.node) ?? [];
    return mergeJobRuns(read, [...this.#pushed.values()], this.#limit);
  }

  /** Starts the query and the subscription; returns the function that stops both. */
  start(): () => void {
    return this.query.start();
  }
}
