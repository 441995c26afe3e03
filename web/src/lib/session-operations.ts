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

/** The zone and locale every date and time is written in (loaded once, before any page shows). */
export const MarketplaceQuery = graphql(`
  query Marketplace {
    marketplace {
      timeZone
      locale
    }
  }
`);
