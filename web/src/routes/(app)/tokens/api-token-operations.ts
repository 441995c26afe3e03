// The API tokens page's GraphQL operations: the list, creating a token and revoking one.
import { graphql } from "$lib/graphql.ts";

export const ApiTokensQuery = graphql(`
  query ApiTokens($first: Int!) {
    apiTokens(first: $first) {
      edges {
        node {
          id
          name
          prefix
          scopes
          createdAt
          lastUsedAt
          revokedAt
          createdBy {
            id
            name
          }
        }
      }
    }
  }
`);

export const CreateApiTokenMutation = graphql(`
  mutation CreateApiToken($name: String!, $scopes: [ApiTokenScope!]!) {
    createApiToken(name: $name, scopes: $scopes) {
      __typename
      ... on MutationCreateApiTokenSuccess {
        data {
          id
          token
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export const RevokeApiTokenMutation = graphql(`
  mutation RevokeApiToken($id: ID!) {
    revokeApiToken(id: $id) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);
