// The Incidents page's GraphQL operations: the list, one incident's record, timeline and
// communications, editing and closing it, and the templated messages to businesses.
import { graphql, type ResultOf } from "$lib/graphql.ts";

export const IncidentsQuery = graphql(`
  query Incidents($first: Int!) {
    incidents(first: $first) {
      edges {
        node {
          id
          title
          severity
          status
          openedAt
          resolvedAt
        }
      }
    }
  }
`);

export const IncidentQuery = graphql(`
  query Incident($id: ID!) {
    incident(id: $id) {
      id
      title
      severity
      status
      impact
      rootCause
      followUps
      openedAt
      resolvedAt
      respondWithinMinutes
      notifyCustomersWithinMinutes
      summaryMarkdown
      alerts {
        id
        title
        severity
        status
        ruleKey
        timeToAcknowledgeSeconds
        timeToResolveSeconds
      }
      timeline {
        at
        source
        actor
        message
      }
      communications {
        id
        template
        createdAt
        business {
          name
        }
      }
    }
  }
`);

export const UpdateIncidentMutation = graphql(`
  mutation UpdateIncident(
    $id: ID!
    $severity: IncidentSeverity
    $impact: String
    $rootCause: String
    $followUps: [String!]
  ) {
    updateIncident(id: $id, severity: $severity, impact: $impact, rootCause: $rootCause, followUps: $followUps) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);

export const ResolveIncidentMutation = graphql(`
  mutation ResolveIncident($id: ID!) {
    resolveIncident(id: $id) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);

export const BusinessSearchQuery = graphql(`
  query IncidentBusinesses($search: String) {
    businesses(first: 20, search: $search) {
      edges {
        node {
          id
          name
        }
      }
    }
  }
`);

export const CommunicationPreviewQuery = graphql(`
  query IncidentCommunicationPreview($incidentId: ID!, $template: IncidentTemplate!, $businessIds: [ID!]!) {
    incidentCommunicationPreview(incidentId: $incidentId, template: $template, businessIds: $businessIds) {
      __typename
      ... on QueryIncidentCommunicationPreviewSuccess {
        data {
          recipients
          subject
          text
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export const SendCommunicationMutation = graphql(`
  mutation SendIncidentCommunication($incidentId: ID!, $template: IncidentTemplate!, $businessIds: [ID!]!) {
    sendIncidentCommunication(incidentId: $incidentId, template: $template, businessIds: $businessIds) {
      __typename
      ... on MutationSendIncidentCommunicationSuccess {
        data {
          sent
          alreadySent
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export type IncidentSummary = ResultOf<typeof IncidentsQuery>["incidents"]["edges"][number]["node"];
export type Incident = NonNullable<ResultOf<typeof IncidentQuery>["incident"]>;
export type IncidentSeverity = Incident["severity"];
export type IncidentTemplate = Incident["communications"][number]["template"];
export type BusinessChoice = ResultOf<typeof BusinessSearchQuery>["businesses"]["edges"][number]["node"];

export const severityMeaning: Record<IncidentSeverity, string> = {
  P0: "P0 · service down or data loss",
  P1: "P1 · a feature or payments broken",
  P2: "P2 · a bug or degradation",
  P3: "P3 · minor",
};

export const templateLabels: Record<IncidentTemplate, string> = {
  payment_failed: "Payment failed",
  placement_activated_late: "Placement activated late",
  service_degraded: "Service degraded",
  service_restored: "Service restored",
};
