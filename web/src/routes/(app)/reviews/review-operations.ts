// The Reviews page's GraphQL operations: the queue (a Relay connection with filters), its counts
// (a query at the page's threshold, kept live by `reviewQueueChanged`), and the decisions.
import { graphql, type ResultOf, type VariablesOf } from "$lib/graphql.ts";

export const ReviewFields = graphql(`
  fragment ReviewFields on Review @_unmask {
    id
    rating
    body
    source
    status
    aiConfidence
    aiProvider
    rejectionReason
    suggestedReason
    suggestedSignals
    moderatorNote
    decidedAt
    version
    createdAt
    moderator {
      name
      email
    }
    business {
      id
      name
      region {
        id
        name
        slug
      }
    }
    scores {
      classifier
      confidence
      signals
      createdAt
    }
    decisions {
      action
      reason
      note
      bulk
      createdAt
      actor {
        name
      }
    }
  }
`);

export const QueueStatsFields = graphql(`
  fragment QueueStatsFields on ReviewQueueStats @_unmask {
    threshold
    pending
    autoEligible
    approved
    rejectedByReason {
      reason
      count
    }
    confidentApprovals
    confidentApprovalsReversed
    suggestionOverrides {
      reason
      decisions
      overridden
    }
  }
`);

export const ReviewsQuery = graphql(
  `
    query Reviews($first: Int!, $after: String, $filter: ReviewFilter, $sort: ReviewSort) {
      reviewCount(filter: $filter)
      reviews(first: $first, after: $after, filter: $filter, sort: $sort) {
        edges {
          node {
            ...ReviewFields
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  `,
  [ReviewFields],
);

export const ReviewQueueStatsQuery = graphql(
  `
    query ReviewQueueStats($threshold: Float) {
      reviewQueueStats(threshold: $threshold) {
        ...QueueStatsFields
      }
    }
  `,
  [QueueStatsFields],
);

export const ReviewQueueChangedSubscription = graphql(
  `
    subscription ReviewQueueChanged {
      reviewQueueChanged {
        ...QueueStatsFields
      }
    }
  `,
  [QueueStatsFields],
);

export const BulkApprovableCountQuery = graphql(`
  query BulkApprovableCount($threshold: Float) {
    bulkApprovableCount(threshold: $threshold)
  }
`);

export const ApproveReviewMutation = graphql(`
  mutation ApproveReview($id: ID!, $expectedVersion: Int) {
    approveReview(id: $id, expectedVersion: $expectedVersion) {
      __typename
      ... on MutationApproveReviewSuccess {
        data {
          id
          status
          version
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export const RejectReviewMutation = graphql(`
  mutation RejectReview($id: ID!, $reason: RejectionReason!, $note: String, $expectedVersion: Int) {
    rejectReview(id: $id, reason: $reason, note: $note, expectedVersion: $expectedVersion) {
      __typename
      ... on MutationRejectReviewSuccess {
        data {
          id
          status
          version
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export const ReopenReviewMutation = graphql(`
  mutation ReopenReview($id: ID!, $reason: String!) {
    reopenReview(id: $id, reason: $reason) {
      __typename
      ... on MutationReopenReviewSuccess {
        data {
          id
          status
          version
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export const BulkApproveReviewsMutation = graphql(`
  mutation BulkApproveReviews($threshold: Float) {
    bulkApproveReviews(threshold: $threshold) {
      __typename
      ... on MutationBulkApproveReviewsSuccess {
        data
      }
      ... on Error {
        message
      }
    }
  }
`);

export const BulkReviewDecisionPreviewQuery = graphql(`
  query BulkReviewDecisionPreview($input: BulkReviewDecisionInput!) {
    bulkReviewDecisionPreview(input: $input) {
      total
      skipped
      byReason {
        reason
        count
      }
    }
  }
`);

export const DecideReviewsInBulkMutation = graphql(`
  mutation DecideReviewsInBulk($input: BulkReviewDecisionInput!, $limit: Int) {
    decideReviewsInBulk(input: $input, limit: $limit) {
      __typename
      ... on MutationDecideReviewsInBulkSuccess {
        data {
          decided
          remaining
          byReason {
            reason
            count
          }
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export type Review = ResultOf<typeof ReviewFields>;
export type QueueStats = ResultOf<typeof QueueStatsFields>;
export type ReviewFilter = NonNullable<VariablesOf<typeof ReviewsQuery>["filter"]>;
export type ReviewStatus = Review["status"];
export type RejectionReason = VariablesOf<typeof RejectReviewMutation>["reason"];
export type BulkDecisionInput = VariablesOf<typeof DecideReviewsInBulkMutation>["input"];
export type BulkPreview = ResultOf<typeof BulkReviewDecisionPreviewQuery>["bulkReviewDecisionPreview"];
export type ReviewSort = NonNullable<VariablesOf<typeof ReviewsQuery>["sort"]>;
export type DecisionAction = Review["decisions"][number]["action"];
