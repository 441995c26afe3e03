// The Reconciliation page's GraphQL operations: runs with totals side by side, one run's
// discrepancies with the fixes that apply, starting a run, resolving, and the live run feed.
import { graphql, type ResultOf } from "$lib/graphql.ts";

export const RunFields = graphql(`
  fragment ReconciliationRunFields on ReconciliationRun @_unmask {
    id
    status
    trigger
    periodStart
    periodEnd
    startedAt
    finishedAt
    error
    chargesCompared
    inFlightCount
    discrepancyCount
    openDiscrepancyCount
    clean
    csvUrl
    jsonUrl
    startedBy {
      name
    }
    totals {
      currency
      stripeCount
      stripeAmountCents
      stripeRefundedCents
      dbCount
      dbAmountCents
      dbRefundedCents
    }
  }
`);

export const DiscrepancyFields = graphql(`
  fragment DiscrepancyFields on Discrepancy @_unmask {
    id
    kind
    stripeChargeId
    stripeAmountCents
    dbAmountCents
    stripeCurrency
    dbCurrency
    stripeStatus
    dbStatus
    chargedAt
    fixes
    resolution
    resolutionNote
    resolvedAt
    resolvedBy {
      name
    }
    payment {
      id
      status
      placement {
        status
      }
    }
  }
`);

export const RunsQuery = graphql(
  `
    query ReconciliationRuns($first: Int!) {
      reconciliationRuns(first: $first) {
        edges {
          node {
            ...ReconciliationRunFields
          }
        }
      }
    }
  `,
  [RunFields],
);

export const RunQuery = graphql(
  `
    query ReconciliationRun($id: ID!, $discrepancies: Int!) {
      reconciliationRun(id: $id) {
        ...ReconciliationRunFields
        discrepancies(first: $discrepancies) {
          edges {
            node {
              ...DiscrepancyFields
            }
          }
          pageInfo {
            hasNextPage
          }
        }
      }
    }
  `,
  [RunFields, DiscrepancyFields],
);

export const StartMutation = graphql(
  `
    mutation StartReconciliation($from: DateTime, $to: DateTime) {
      startReconciliation(from: $from, to: $to) {
        __typename
        ... on MutationStartReconciliationSuccess {
          data {
            ...ReconciliationRunFields
          }
        }
        ... on Error {
          message
        }
      }
    }
  `,
  [RunFields],
);

export const ResolveMutation = graphql(
  `
    mutation ResolveDiscrepancy($id: ID!, $action: DiscrepancyAction!, $note: String) {
      resolveDiscrepancy(id: $id, action: $action, note: $note) {
        __typename
        ... on MutationResolveDiscrepancySuccess {
          data {
            ...DiscrepancyFields
          }
        }
        ... on Error {
          message
        }
      }
    }
  `,
  [DiscrepancyFields],
);

export const RunUpdatedSubscription = graphql(
  `
    subscription ReconciliationRunUpdated {
      reconciliationRunUpdated {
        ...ReconciliationRunFields
      }
    }
  `,
  [RunFields],
);

export type Run = ResultOf<typeof RunFields>;
export type Discrepancy = ResultOf<typeof DiscrepancyFields>;
export type FixAction = Discrepancy["fixes"][number];
export type DiscrepancyKind = Discrepancy["kind"];
