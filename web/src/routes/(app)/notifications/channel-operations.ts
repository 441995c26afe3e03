// Notification channels as an ADMIN sees them (never their secrets), saving one, and the test send.
import { graphql, type ResultOf, type VariablesOf } from "$lib/graphql.ts";

export const NotificationChannelsQuery = graphql(`
  query NotificationChannels {
    notificationChannels {
      id
      name
      kind
      severities
      enabled
      target
      hasSecret
    }
  }
`);

export const TestNotificationChannelMutation = graphql(`
  mutation TestNotificationChannel($id: ID!) {
    testNotificationChannel(id: $id) {
      __typename
      ... on MutationTestNotificationChannelSuccess {
        data {
          ok
          responseCode
          message
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export const UpsertNotificationChannelMutation = graphql(`
  mutation UpsertNotificationChannel(
    $id: ID
    $name: String!
    $kind: ChannelKind!
    $severities: [Severity!]!
    $enabled: Boolean
    $url: String
    $secret: String
    $recipients: [String!]
  ) {
    upsertNotificationChannel(
      id: $id
      name: $name
      kind: $kind
      severities: $severities
      enabled: $enabled
      url: $url
      secret: $secret
      recipients: $recipients
    ) {
      __typename
      ... on MutationUpsertNotificationChannelSuccess {
        data {
          id
          name
          kind
          severities
          enabled
          target
          hasSecret
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export type ChannelInput = VariablesOf<typeof UpsertNotificationChannelMutation>;
export type NotificationChannel = ResultOf<typeof NotificationChannelsQuery>["notificationChannels"][number];
