// The Metrics page's GraphQL: the seeds' operating metrics, recomputed by the rollup every 10 minutes.
import { graphql, type ResultOf } from "$lib/graphql.ts";

export const OperatingMetricsQuery = graphql(`
  query OperatingMetrics {
    operatingMetrics {
      computedAt
      timeZone
      queueWait {
        averageHours
        weekly {
          day
          value
        }
      }
      queueVelocity {
        lastFourWeeksPerWeek
        weekly {
          day
          value
        }
      }
      endedEarly {
        thisMonth
        monthly {
          day
          value
        }
      }
      refundsByReason {
        key
        count
      }
      refundsByRegion {
        key
        count
      }
      paymentFailureRate {
        rate
        failed
        settled
        weekly {
          day
          value
        }
      }
      aiUptime {
        percent
        daily {
          day
          value
        }
        callsByClassifierThisMonth {
          key
          count
        }
      }
      topSearchTerms {
        key
        count
      }
    }
  }
`);

export type OperatingMetricsData = ResultOf<typeof OperatingMetricsQuery>["operatingMetrics"];
