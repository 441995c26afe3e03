// The worker's job catalog and the "Run now" action for this page.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import { graphql, type ResultOf } from "$lib/graphql.ts";

const JobsQuery = graphql(`
  query Jobs {
    jobs {
      name
      description
      schedule
      timeZone
      canRunNow
    }
  }
`);

const RunJobNowMutation = graphql(`
  mutation RunJobNow($jobName: String!) {
    runJobNow(jobName: $jobName) {
      __typename
      ... on MutationRunJobNowSuccess {
        data
      }
      ... on Error {
        message
      }
    }
  }
`);

export type Job = ResultOf<typeof JobsQuery>["jobs"][number];

export type Notice = { kind: "error" | "success"; text: string };

export class JobCatalog {
  jobs = $state<Job[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  /** The job whose run-now request is on its way. */
  pending = $state<string | null>(null);
  notice = $state<Notice | null>(null);

  readonly #client: Client;

  constructor(client: Client) {
    this.#client = client;
  }

  async load(): Promise<void> {
    const result = await this.#client.query(JobsQuery, {}, { requestPolicy: "cache-and-network" }).toPromise();
    this.loading = false;
    if (result.error) this.error = errorMessage(result.error);
    else this.jobs = result.data?.jobs ?? [];
  }

  async runNow(jobName: string): Promise<void> {
    this.pending = jobName;
    this.notice = null;
    const result = await this.#client.mutation(RunJobNowMutation, { jobName }).toPromise();
    this.pending = null;
    const outcome = result.data?.runJobNow;
    if (result.error) this.notice = { kind: "error", text: errorMessage(result.error) };
    else if (!outcome) this.notice = { kind: "error", text: "The API returned no answer. Try again." };
    else if (outcome.__typename === "MutationRunJobNowSuccess")
      this.notice = { kind: "success", text: `Queued a run of ${jobName}. It appears below when it starts.` };
    else this.notice = { kind: "error", text: outcome.message };
  }
}
