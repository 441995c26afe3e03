// Maintenance windows: the list (also read by the overview, active only), declaring one, ending one.
import { graphql, type ResultOf, type VariablesOf } from "$lib/graphql.ts";

export const MaintenanceWindowFields = graphql(`
  fragment MaintenanceWindowFields on MaintenanceWindow @_unmask {
    id
    title
    startsAt
    endsAt
    ruleKeys
    state
  }
`);

export const MaintenanceWindowsQuery = graphql(
  `
    query MaintenanceWindows($activeOnly: Boolean) {
      maintenanceWindows(activeOnly: $activeOnly) {
        ...MaintenanceWindowFields
      }
    }
  `,
  [MaintenanceWindowFields],
);

export const AlertRuleChoicesQuery = graphql(`
  query AlertRuleChoices {
    alertRules {
      key
      title
    }
  }
`);

export const ScheduleMaintenanceWindowMutation = graphql(
  `
    mutation ScheduleMaintenanceWindow($input: MaintenanceWindowInput!) {
      scheduleMaintenanceWindow(input: $input) {
        __typename
        ... on MutationScheduleMaintenanceWindowSuccess {
          data {
            ...MaintenanceWindowFields
          }
        }
        ... on Error {
          message
        }
      }
    }
  `,
  [MaintenanceWindowFields],
);

export const EndMaintenanceWindowMutation = graphql(
  `
    mutation EndMaintenanceWindow($id: ID!) {
      endMaintenanceWindow(id: $id) {
        __typename
        ... on MutationEndMaintenanceWindowSuccess {
          data {
            ...MaintenanceWindowFields
          }
        }
        ... on Error {
          message
        }
      }
    }
  `,
  [MaintenanceWindowFields],
);

export type MaintenanceWindow = ResultOf<typeof MaintenanceWindowFields>;
export type MaintenanceWindowInput = VariablesOf<typeof ScheduleMaintenanceWindowMutation>["input"];
export type AlertRuleChoice = ResultOf<typeof AlertRuleChoicesQuery>["alertRules"][number];
