// The Health page's GraphQL operations: every check's latest result, one check's history for a
// chart, and the live healthChanged feed (one event per health-checks run, from any worker).
import { graphql, type ResultOf, type VariablesOf } from "$lib/graphql.ts";

export const HealthStatusFields = graphql(`
  fragment HealthStatusFields on HealthStatus @_unmask {
    overall
    checkedAt
    stale
    checks {
      check
      latest {
        ok
        status
        value
        latencyMs
        detail
        checkedAt
      }
    }
  }
`);

export const HealthStatusQuery = graphql(
  `
    query HealthStatus {
      healthStatus {
        ...HealthStatusFields
      }
    }
  `,
  [HealthStatusFields],
);

export const HealthChangedSubscription = graphql(
  `
    subscription HealthChanged {
      healthChanged {
        ...HealthStatusFields
      }
    }
  `,
  [HealthStatusFields],
);

export const HealthHistoryQuery = graphql(`
  query HealthHistory($check: HealthCheckName!, $window: HealthWindow) {
    healthHistory(check: $check, window: $window) {
      at
      ok
      value
      status
    }
  }
`);

export type HealthStatus = ResultOf<typeof HealthStatusFields>;
export type CheckName = VariablesOf<typeof HealthHistoryQuery>["check"];
export type HealthWindow = NonNullable<VariablesOf<typeof HealthHistoryQuery>["window"]>;
export type HealthPoint = ResultOf<typeof HealthHistoryQuery>["healthHistory"][number];
