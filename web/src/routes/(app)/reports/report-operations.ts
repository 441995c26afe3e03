// The Reports page's GraphQL: past weekly checkups (newest first), one report with its findings,
// and run-now.
import { graphql, type ResultOf } from "$lib/graphql.ts";

export const WeeklyCheckupsQuery = graphql(`
  query WeeklyCheckups($first: Int!) {
    weeklyCheckups(first: $first) {
      edges {
        node {
          id
          overall
          summary
          trigger
          durationMs
          createdAt
        }
      }
    }
  }
`);

export const WeeklyCheckupQuery = graphql(`
  query WeeklyCheckup($id: ID!) {
    weeklyCheckup(id: $id) {
      id
      overall
      summary
      trigger
      durationMs
      createdAt
      findings {
        key
        category
        severity
        title
        detail
      }
    }
  }
`);

export const RunWeeklyCheckupMutation = graphql(`
  mutation RunWeeklyCheckup {
    runWeeklyCheckup {
      __typename
      ... on MutationRunWeeklyCheckupSuccess {
        data {
          id
          overall
          summary
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export type CheckupSummary = ResultOf<typeof WeeklyCheckupsQuery>["weeklyCheckups"]["edges"][number]["node"];
export type CheckupReport = NonNullable<ResultOf<typeof WeeklyCheckupQuery>["weeklyCheckup"]>;
export type CheckupFinding = CheckupReport["findings"][number];
