// The integration operations as an integration writes them: measured by the floor comparison
// (floor.ts) and held to their statement counts (tests/integration/statement-count.test.ts).
export const PUBLISHED_REVIEWS = `query PublishedReviews($businessId: ID!, $first: Int!, $after: String) {
  publishedReviews(businessId: $businessId, first: $first, after: $after) {
    edges { node { id rating body createdAt business { id name } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const SUBMIT_REVIEW = `mutation SubmitReview($businessId: ID!, $rating: Int!, $body: String!) {
  submitReview(businessId: $businessId, rating: $rating, body: $body) {
    __typename
    ... on MutationSubmitReviewSuccess { data { id status } }
    ... on Error { message }
  }
}`;
