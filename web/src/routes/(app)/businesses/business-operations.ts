// The business look-up's GraphQL: one business with everything a complaint needs.
import { graphql, type ResultOf } from "$lib/graphql.ts";

export const BusinessHistoryQuery = graphql(`
  query BusinessHistory($id: ID!) {
    business(id: $id) {
      id
      name
      email
      status
      flagNote
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
        }
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
