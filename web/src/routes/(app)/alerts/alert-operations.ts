// The Alerts page's GraphQL operations: open alerts (red first), the incident log (resolved),
// one alert's timeline and deliveries, the operator's three actions, and the live feed.
import { graphql, type ResultOf } from "$lib/graphql.ts";

export const AlertFields = graphql(`
  fragment AlertFields on Alert @_unmask {
    id
    fingerprint
    ruleKey
    severity
    status
    title
    detail
    count
    firstSeenAt
    lastSeenAt
    acknowledgedAt
    acknowledgedBy {
      name
    }
    silenced
    silencedUntil
    conditionStillHolds
    resolvedAt
    resolutionNote
  }
`);

export const AlertsQuery = graphql(
  `
    query Alerts($filter: AlertFilter, $first: Int!) {
      alerts(filter: $filter, first: $first) {
        edges {
          node {
            ...AlertFields
          }
        }
        pageInfo {
          hasNextPage
        }
      }
    }
  `,
  [AlertFields],
);

export const AlertDetailQuery = graphql(
  `
    query AlertDetail($id: ID!) {
      alert(id: $id) {
        ...AlertFields
        labels
        incidentSeverity
        ruleIncidentSeverity
        incidentSeverityOverridden
        timeToAcknowledgeSeconds
        timeToResolveSeconds
        respondBy
        responseOverdue
        incident {
          id
          title
          status
        }
        repeatRefunders {
          refunds
          business {
            id
            name
            status
            flagNote
            flaggedAt
          }
        }
        timeline {
          id
          kind
          actorKind
          message
          createdAt
        }
        deliveries {
          id
          event
          channelName
          channelKind
          status
          attempts
          lastError
          nextAttemptAt
          sentAt
          createdAt
        }
      }
    }
  `,
  [AlertFields],
);

export const AcknowledgeAlertMutation = graphql(
  `
    mutation AcknowledgeAlert($id: ID!) {
      acknowledgeAlert(id: $id) {
        __typename
        ... on MutationAcknowledgeAlertSuccess {
          data {
            ...AlertFields
          }
        }
        ... on Error {
          message
        }
      }
    }
  `,
  [AlertFields],
);

export const SilenceAlertMutation = graphql(
  `
    mutation SilenceAlert($id: ID!, $until: DateTime!, $reason: String) {
      silenceAlert(id: $id, until: $until, reason: $reason) {
        __typename
        ... on MutationSilenceAlertSuccess {
          data {
            ...AlertFields
          }
        }
        ... on Error {
          message
        }
      }
    }
  `,
  [AlertFields],
);

export const ResolveAlertMutation = graphql(
  `
    mutation ResolveAlert($id: ID!, $note: String!) {
      resolveAlert(id: $id, note: $note) {
        __typename
        ... on MutationResolveAlertSuccess {
          data {
            ...AlertFields
          }
        }
        ... on Error {
          message
        }
      }
    }
  `,
  [AlertFields],
);

export const SetAlertIncidentSeverityMutation = graphql(`
  mutation SetAlertIncidentSeverity($id: ID!, $severity: IncidentSeverity) {
    setAlertIncidentSeverity(id: $id, severity: $severity) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);

export const OpenIncidentMutation = graphql(`
  mutation OpenIncident($alertIds: [ID!]!) {
    openIncident(alertIds: $alertIds) {
      __typename
      ... on MutationOpenIncidentSuccess {
        data {
          id
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

/** Carries the whole changed alert, so the cache updates its row in place. */
export const AlertChangedSubscription = graphql(
  `
    subscription AlertChanged {
      alertChanged {
        ...AlertFields
      }
    }
  `,
  [AlertFields],
);

export type Alert = ResultOf<typeof AlertFields>;
export type AlertDetail = NonNullable<ResultOf<typeof AlertDetailQuery>["alert"]>;
export type Severity = Alert["severity"];
export type IncidentSeverity = AlertDetail["incidentSeverity"];
