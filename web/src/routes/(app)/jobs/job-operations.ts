// The Jobs page's GraphQL operations: the catalog with each job's latest run, and the three actions.
import { graphql } from "$lib/graphql.ts";
import { JobRunFields } from "$lib/job-runs.ts";

export const JobsQuery = graphql(
  `
    query Jobs {
      jobs {
        name
        description
        schedule
        timeZone
        canRunNow
        paused
        nextRunAt
        lastRun {
          ...JobRunFields
        }
      }
    }
  `,
  [JobRunFields],
);

export const RunJobNowMutation = graphql(`
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

export const PauseJobMutation = graphql(`
  mutation PauseJob($jobName: String!) {
    pauseJob(jobName: $jobName) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);

export const ResumeJobMutation = graphql(`
  mutation ResumeJob($jobName: String!) {
    resumeJob(jobName: $jobName) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);
