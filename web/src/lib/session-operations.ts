// The session's GraphQL operations: who is signed in, signing in and signing out.
import { graphql, type ResultOf } from "./graphql.ts";

export const OperatorFields = graphql(`
  fragment OperatorFields on Operator @_unmask {
    id
    name
    email
    role
  }
`);

export type Operator = ResultOf<typeof OperatorFields>;

export const MeQuery = graphql(
  `
    query Me {
      me {
        ...OperatorFields
      }
    }
  `,
  [OperatorFields],
);

export const LoginMutation = graphql(
  `
    mutation Login($email: String!, $password: String!) {
      login(email: $email, password: $password) {
        __typename
        ... on MutationLoginSuccess {
          data {
            operator {
              ...OperatorFields
            }
          }
        }
        ... on Error {
          message
        }
      }
    }
  `,
  [OperatorFields],
);

export const LogoutMutation = graphql(`
  mutation Logout {
    logout
  }
`);
