// The Refunds page's GraphQL operations: the requests (oldest purchase first, with the 3-day rule
// evaluated by the server), the two decisions, and the live `refundRequestChanged` feed.
import { graphql, type ResultOf } from "$lib/graphql.ts";

export const RefundRequestFields = graphql(`
  fragment RefundRequestFields on RefundRequest @_unmask {
    id
    status
    reason
    amountCents
    currency
    purchasedAt
    createdAt
    decidedAt
    denialNote
    stripeRefundId
    failureMessage
    decidedBy {
      name
    }
    business {
      id
      name
    }
    eligibility {
      eligible
      daysElapsed
      hoursLeft
      expiresSoon
      closesAt
    }
  }
`);

export const RefundRequestsQuery = graphql(
  `
    query RefundRequests($filter: RefundRequestFilter, $first: Int!) {
      refundRequests(filter: $filter, first: $first) {
        edges {
          node {
            ...RefundRequestFields
          }
        }
        pageInfo {
          hasNextPage
        }
      }
    }
  `,
  [RefundRequestFields],
);

export const ApproveRefundMutation = graphql(
  `
    mutation ApproveRefund($id: ID!) {
      approveRefund(id: $id) {
        __typename
        ... on MutationApproveRefundSuccess {
          data {
            ...RefundRequestFields
          }
        }
        ... on Error {
          message
        }
      }
    }
  `,
  [RefundRequestFields],
);

export const DenyRefundMutation = graphql(
  `
    mutation DenyRefund($id: ID!, $reason: String!) {
      denyRefund(id: $id, reason: $reason) {
        __typename
        ... on MutationDenyRefundSuccess {
          data {
            ...RefundRequestFields
          }
        }
        ... on Error {
          message
        }
      }
    }
  `,
  [RefundRequestFields],
);

/** Carries the whole changed request, so the cache updates its row in place. */
export const RefundRequestChangedSubscription = graphql(
  `
    subscription RefundRequestChanged {
      refundRequestChanged {
        ...RefundRequestFields
      }
    }
  `,
  [RefundRequestFields],
);

export type RefundRequest = ResultOf<typeof RefundRequestFields>;
export type RefundStatus = RefundRequest["status"];
