// Notification channels as an ADMIN sees them (never their secrets), and the test send.
import { graphql, type ResultOf } from "$lib/graphql.ts";

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

export type NotificationChannel = ResultOf<typeof NotificationChannelsQuery>["notificationChannels"][number];
