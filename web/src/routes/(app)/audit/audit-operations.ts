// The Audit page's GraphQL operation: one page of audit events matching a filter.
import { graphql } from "$lib/graphql.ts";

export const AuditEventsQuery = graphql(`
  query AuditEvents($first: Int!, $after: String, $filter: AuditFilter) {
    auditEvents(first: $first, after: $after, filter: $filter) {
      edges {
        node {
          id
          createdAt
          actorKind
          actorId
          actorLabel
          action
          targetType
          targetId
          reason
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);
