// The Flags page's GraphQL operations: flags with their history and pending proposals, the alert
// rules with their thresholds (and the ranges each takes), and the two changes.
import { graphql, type ResultOf } from "$lib/graphql.ts";

export const FlagsQuery = graphql(`
  query FeatureFlags {
    featureFlags {
      key
      value
      values
      description
      updatedAt
      proposal {
        value
        reason
        proposedAt
      }
      history(limit: 10) {
        id
        fromValue
        toValue
        reason
        actorKind
        actorLabel
        createdAt
      }
    }
  }
`);

export const AlertRulesQuery = graphql(`
  query AlertRules {
    alertRules {
      key
      title
      description
      severity
      tunable
      enabled
      updatedAt
      thresholds {
        name
        value
        default
        min
        minExclusive
        max
        integer
      }
    }
  }
`);

export const SetFeatureFlagMutation = graphql(`
  mutation SetFeatureFlag($key: String!, $value: String!, $reason: String!) {
    setFeatureFlag(key: $key, value: $value, reason: $reason) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);

export const UpdateAlertRuleMutation = graphql(`
  mutation UpdateAlertRule($ruleKey: String!, $enabled: Boolean, $thresholds: [RuleThresholdInput!]) {
    updateAlertRule(ruleKey: $ruleKey, enabled: $enabled, thresholds: $thresholds) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);

export const HealthChangedForFlags = graphql(`
  subscription HealthChangedForFlags {
    healthChanged {
      overall
      checkedAt
    }
  }
`);

export type Flag = ResultOf<typeof FlagsQuery>["featureFlags"][number];
export type AlertRule = ResultOf<typeof AlertRulesQuery>["alertRules"][number];
export type Threshold = AlertRule["thresholds"][number];
