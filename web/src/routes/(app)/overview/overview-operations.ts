// The overview's GraphQL: everything the Monday check needs in one query, and the live
// `metricsUpdated` feed that tells the page to read it again.
import { graphql, type ResultOf } from "$lib/graphql.ts";

export const OverviewQuery = graphql(`
  query Overview($window: MetricsWindow) {
    overview(window: $window) {
      status
      statusCauses
      jobsDue {
        name
        state
        lastSuccessAt
      }
      openAlerts {
        id
        severity
        status
        title
        detail
        count
        firstSeenAt
        lastSeenAt
      }
      recentAlerts {
        id
        severity
        status
        title
        lastSeenAt
      }
      pendingTasks {
        kind
        label
        count
        estimatedMinutes
        priority
        href
      }
      health {
        check
        state
        checkedAt
        detail
      }
      lastCheckup {
        id
        overall
        summary
        createdAt
      }
      metrics {
        computedAt
        timeZone
        today
        revenue {
          currency
          ltm {
            netCents
            previousNetCents
            change
          }
          mtd {
            netCents
            previousNetCents
            change
          }
          wtd {
            netCents
            previousNetCents
            change
          }
          projectedMonthEndCents
          daily {
            day
            value
          }
        }
        featuredAdoption {
          featuredBusinesses
          businesses
          rate
          target
        }
        queueBacklog {
          total
          regions(first: 5) {
            regionId
            name
            queued
            active
            slots
          }
        }
        refundRate {
          windowDays
          payments
          refunded
          rate
          threshold
        }
        searchVolume {
          today
          averagePerDay
          change
          daily {
            day
            value
          }
        }
        aiProvider {
          mode
          callsThisMonth
          costThisMonthCents
          budgetCents
          health {
            state
            checkedAt
            detail
          }
        }
        jobs {
          failing
          latest {
            jobName
            status
            startedAt
          }
        }
        stripe {
          api {
            state
            checkedAt
            detail
          }
          webhooks {
            state
            checkedAt
            detail
          }
        }
      }
    }
  }
`);

export const MetricsUpdatedSubscription = graphql(`
  subscription MetricsUpdated {
    metricsUpdated {
      computedAt
    }
  }
`);

export type OverviewData = ResultOf<typeof OverviewQuery>["overview"];
export type MetricsData = OverviewData["metrics"];
export type Severity = OverviewData["status"];
export type HealthState = OverviewData["health"][number]["state"];
