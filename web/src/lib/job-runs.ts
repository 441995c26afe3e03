// Job runs as the dashboard shows them: one fragment for queries and the live subscription, and
// the rule for folding a newly published run into a list.
import { graphql, type ResultOf } from "./graphql.ts";

export const JobRunFields = graphql(`
  fragment JobRunFields on JobRun @_unmask {
    id
    jobName
    trigger
    attempt
    status
    startedAt
    finishedAt
    durationMs
    summary
    error
    triggeredBy {
      id
      name
    }
  }
`);

export type JobRun = ResultOf<typeof JobRunFields>;

export const LatestJobRunsQuery = graphql(
  `
    query LatestJobRuns($first: Int!, $jobName: String) {
      jobRuns(first: $first, jobName: $jobName) {
        edges {
          node {
            ...JobRunFields
          }
        }
      }
    }
  `,
  [JobRunFields],
);

export const JobRunRecordedSubscription = graphql(
  `
    subscription JobRunRecorded {
      jobRunRecorded {
        ...JobRunFields
      }
    }
  `,
  [JobRunFields],
);

/** A run only moves forward: RUNNING, then SUCCEEDED or FAILED. */
function progress(run: JobRun): number {
  return run.status === "RUNNING" ? 0 : 1;
}

function newestFirst(a: JobRun, b: JobRun): number {
  if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * Upserts `incoming` into `runs` by id (never moving a finished run back to RUNNING, which a stale
 * cached answer could do), newest first, keeping at most `limit`.
 */
export function mergeJobRuns(runs: readonly JobRun[], incoming: readonly JobRun[], limit: number): JobRun[] {
  const byId = new Map(runs.map((run) => [run.id, run]));
  for (const run of incoming) {
    const known = byId.get(run.id);
    if (!known || progress(run) >= progress(known)) byId.set(run.id, run);
  }
  return [...byId.values()].sort(newestFirst).slice(0, limit);
}
