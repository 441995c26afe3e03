// The Account page's GraphQL operation: changing one's own password.
import { graphql } from "$lib/graphql.ts";

export const ChangePasswordMutation = graphql(`
  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {
    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);
