// The Operators page's GraphQL operations: the operators and invitations, and every action on them.
import { graphql } from "$lib/graphql.ts";

export const OperatorsQuery = graphql(`
  query Operators {
    operators {
      id
      name
      email
      role
      disabledAt
      createdAt
      openSessions
    }
    operatorInvites {
      id
      email
      role
      expiresAt
      createdAt
      expired
    }
  }
`);

export const InviteMutation = graphql(`
  mutation InviteOperator($email: String!, $role: Role!) {
    inviteOperator(email: $email, role: $role) {
      __typename
      ... on MutationInviteOperatorSuccess {
        data {
          id
          email
          expiresAt
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export const RevokeInviteMutation = graphql(`
  mutation RevokeOperatorInvite($id: ID!) {
    revokeOperatorInvite(id: $id) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);

export const ChangeRoleMutation = graphql(`
  mutation ChangeOperatorRole($operatorId: ID!, $role: Role!) {
    changeOperatorRole(operatorId: $operatorId, role: $role) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);

export const DisableMutation = graphql(`
  mutation DisableOperator($operatorId: ID!) {
    disableOperator(operatorId: $operatorId) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);

export const EnableMutation = graphql(`
  mutation EnableOperator($operatorId: ID!) {
    enableOperator(operatorId: $operatorId) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);

export const EndSessionsMutation = graphql(`
  mutation EndOperatorSessions($operatorId: ID!) {
    revokeOperatorSessions(operatorId: $operatorId) {
      __typename
      ... on MutationRevokeOperatorSessionsSuccess {
        data
      }
      ... on Error {
        message
      }
    }
  }
`);

export const SendResetMutation = graphql(`
  mutation SendPasswordReset($operatorId: ID!) {
    sendPasswordReset(operatorId: $operatorId) {
      __typename
      ... on MutationSendPasswordResetSuccess {
        data
      }
      ... on Error {
        message
      }
    }
  }
`);
