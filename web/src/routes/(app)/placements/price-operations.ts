// The Placements page's prices and held charges: each region's placement price (an ADMIN edits
// it) and the charges held for review because they did not pay it (an OPERATOR accepts or refunds).
import { graphql, type ResultOf } from "$lib/graphql.ts";

export const PricesQuery = graphql(`
  query PlacementPrices {
    regions {
      id
      name
      placementPriceCents
      placementCurrency
    }
    heldPayments {
      id
      stripeChargeId
      amountCents
      currency
      purchasedAt
      heldAt
      holdReason
      holdDetail
      business {
        id
        name
      }
    }
  }
`);

export const SetRegionPriceMutation = graphql(`
  mutation SetRegionPrice($regionId: ID!, $priceCents: Int!, $currency: String!) {
    setRegionPrice(regionId: $regionId, priceCents: $priceCents, currency: $currency) {
      __typename
      ... on MutationSetRegionPriceSuccess {
        data {
          id
          placementPriceCents
          placementCurrency
        }
      }
      ... on ValidationError {
        issues {
          message
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export const AcceptHeldPaymentMutation = graphql(`
  mutation AcceptHeldPayment($paymentId: ID!) {
    acceptHeldPayment(paymentId: $paymentId) {
      __typename
      ... on MutationAcceptHeldPaymentSuccess {
        data {
          id
          placement {
            status
          }
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export const RefundHeldPaymentMutation = graphql(`
  mutation RefundHeldPayment($paymentId: ID!, $reason: String!) {
    refundHeldPayment(paymentId: $paymentId, reason: $reason) {
      __typename
      ... on MutationRefundHeldPaymentSuccess {
        data {
          id
          status
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export type RegionPrice = ResultOf<typeof PricesQuery>["regions"][number];
export type HeldPayment = ResultOf<typeof PricesQuery>["heldPayments"][number];
