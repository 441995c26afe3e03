// The set-password page's GraphQL operations: what the link is for, and accepting an invitation or a reset.
import { graphql } from "$lib/graphql.ts";

export const LinkQuery = graphql(`
  query OperatorLink($token: String!) {
    operatorLink(token: $token) {
      __typename
      ... on QueryOperatorLinkSuccess {
        data {
          purpose
          email
          role
          expiresAt
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export const AcceptMutation = graphql(`
  mutation AcceptInvite($token: String!, $name: String!, $password: String!) {
    acceptInvite(token: $token, name: $name, password: $password) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);

export const ResetMutation = graphql(`
  mutation ResetPassword($token: String!, $password: String!) {
    resetPassword(token: $token, password: $password) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);
