// The Placements page's GraphQL documents: every region with its active placements and FIFO
// queue, the ADMIN's slot count, and the business look-up (search, then queuePosition).
import { graphql, type ResultOf } from "$lib/graphql.ts";

export const PlacementFields = graphql(`
  fragment PlacementFields on Placement @_unmask {
    id
    status
    purchasedAt
    activatedAt
    featuredUntil
    business {
      id
      name
    }
  }
`);

export const RegionFields = graphql(
  `
    fragment RegionFields on Region @_unmask {
      id
      name
      slug
      featuredSlots
      activePlacements {
        ...PlacementFields
      }
      queue {
        ...PlacementFields
      }
    }
  `,
  [PlacementFields],
);

export const RegionsQuery = graphql(
  `
    query PlacementRegions {
      regions {
        ...RegionFields
      }
    }
  `,
  [RegionFields],
);

export const SetRegionSlotsMutation = graphql(
  `
    mutation SetRegionSlots($regionId: ID!, $slots: Int!) {
      setRegionSlots(regionId: $regionId, slots: $slots) {
        __typename
        ... on MutationSetRegionSlotsSuccess {
          data {
            ...RegionFields
          }
        }
        ... on ValidationError {
          issues {
            path
            message
          }
        }
        ... on Error {
          message
        }
      }
    }
  `,
  [RegionFields],
);

export const BusinessSearchQuery = graphql(`
  query BusinessSearch($search: String!, $first: Int!) {
    businesses(search: $search, first: $first) {
      edges {
        node {
          id
          name
          region {
            id
            name
          }
        }
      }
      pageInfo {
        hasNextPage
      }
    }
  }
`);

export const QueuePositionQuery = graphql(`
  query QueuePosition($businessId: ID!) {
    queuePosition(businessId: $businessId) {
      __typename
      ... on QueryQueuePositionSuccess {
        data {
          status
          position
          featuredUntil
          estimatedActivation
          businessesAhead {
            name
            purchasedAt
          }
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export type Region = ResultOf<typeof RegionFields>;
export type Placement = ResultOf<typeof PlacementFields>;
export type BusinessHit = ResultOf<typeof BusinessSearchQuery>["businesses"]["edges"][number]["node"];
type QueuePositionResult = ResultOf<typeof QueuePositionQuery>["queuePosition"];
export type QueueAnswer = Extract<QueuePositionResult, { __typename: "QueryQueuePositionSuccess" }>["data"];
