// The Disputes page's GraphQL: every business flagged for review, most recently flagged first.
import { graphql } from "$lib/graphql.ts";

export const FlaggedBusinessesQuery = graphql(`
  query FlaggedBusinesses {
    flaggedBusinesses(first: 100) {
      totalCount
      edges {
        node {
          id
          name
          flagNote
          flaggedAt
          region {
            name
          }
        }
      }
    }
  }
`);
