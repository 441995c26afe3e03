// The Webhooks page's GraphQL operations: stored Stripe events (filtered by status, type or
// charge) and replaying a selection.
import { graphql, type ResultOf, type VariablesOf } from "$lib/graphql.ts";

export const WebhookEventsQuery = graphql(`
  query WebhookEvents($first: Int!, $after: String, $filter: WebhookEventFilter) {
    webhookEvents(first: $first, after: $after, filter: $filter) {
      edges {
        node {
          id
          eventId
          type
          objectId
          chargeId
          status
          attempts
          lastError
          receivedAt
          processedAt
          heldBusinessRef
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const ReplayWebhookEventsMutation = graphql(`
  mutation ReplayWebhookEvents($ids: [ID!]!) {
    replayWebhookEvents(ids: $ids) {
      __typename
      ... on MutationReplayWebhookEventsSuccess {
        data {
          outcome
          summary
          event {
            id
            status
            attempts
            lastError
            processedAt
          }
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export type WebhookEvent = ResultOf<typeof WebhookEventsQuery>["webhookEvents"]["edges"][number]["node"];
export type WebhookEventFilter = NonNullable<VariablesOf<typeof WebhookEventsQuery>["filter"]>;
export type WebhookEventStatus = WebhookEvent["status"];
