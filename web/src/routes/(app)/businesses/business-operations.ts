// The business page's GraphQL: one business with everything a complaint needs, the dispute flag,
// and the queue-position playbook (check, email preview, send).
import { graphql, type ResultOf } from "$lib/graphql.ts";

export const BusinessHistoryQuery = graphql(`
  query BusinessHistory($id: ID!) {
    business(id: $id) {
      id
      name
      email
      status
      flagNote
      flaggedAt
      createdAt
      region {
        name
      }
      queuePosition {
        status
        position
        featuredUntil
        estimatedActivation
        businessesAhead {
          name
          purchasedAt
        }
      }
      queueDispute {
        regionName
        paidAt
        fifoHolds
        problems {
          businessName
          problem
        }
      }
      queuePositionEmail {
        to
        subject
        text
      }
      emails {
        id
        kind
        to
        subject
        status
        attempts
        lastError
        createdAt
        sentAt
      }
      payments {
        id
        stripeChargeId
        amountCents
        refundedCents
        currency
        status
        purchasedAt
      }
      placements {
        id
        status
        purchasedAt
        activatedAt
        featuredUntil
      }
      refundRequests {
        id
        status
        reason
        createdAt
        decidedAt
        denialNote
      }
      reviews(first: 50) {
        totalCount
        edges {
          node {
            id
            rating
            body
            status
            rejectionReason
            createdAt
          }
        }
      }
    }
  }
`);

export type BusinessHistory = NonNullable<ResultOf<typeof BusinessHistoryQuery>["business"]>;

export const FlagBusinessMutation = graphql(`
  mutation FlagBusiness($id: ID!, $note: String!) {
    flagBusiness(id: $id, note: $note) {
      __typename
      ... on Error {
        message
      }
      ... on MutationFlagBusinessSuccess {
        data {
          id
          status
          flagNote
          flaggedAt
        }
      }
    }
  }
`);

export const UnflagBusinessMutation = graphql(`
  mutation UnflagBusiness($id: ID!, $note: String!) {
    unflagBusiness(id: $id, note: $note) {
      __typename
      ... on Error {
        message
      }
      ... on MutationUnflagBusinessSuccess {
        data {
          id
          status
          flagNote
          flaggedAt
        }
      }
    }
  }
`);

export const EmailQueuePositionMutation = graphql(`
  mutation EmailQueuePosition($businessId: ID!) {
    emailQueuePosition(businessId: $businessId) {
      __typename
      ... on Error {
        message
      }
      ... on MutationEmailQueuePositionSuccess {
        data {
          queued
        }
      }
    }
  }
`);
