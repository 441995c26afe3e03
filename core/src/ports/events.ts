// The event port: what happened, published after commit so every API instance can push it to
// its subscribers, whichever process (API or worker) caused it. Payloads are small and JSON-safe.
// The implementation (Redis pub/sub, shared by every instance) is core/src/adapters/redisEvents.ts.

export interface JobRunEvent {
  jobRunId: string;
  jobName: string;
  status: "RUNNING" | "SUCCEEDED" | "FAILED";
}

export interface ReviewQueueEvent {
  reviewIds: string[];
  change: "SUBMITTED" | "SCORED" | "DECIDED" | "REOPENED";
}

export interface RefundRequestEvent {
  refundRequestId: string;
  status: "PENDING" | "PROCESSING" | "APPROVED" | "DENIED" | "FAILED";
}

/** A reconciliation run started, made progress, finished, or had a discrepancy resolved. */
export interface ReconciliationRunEvent {
  runId: string;
  status: "RUNNING" | "COMPLETED" | "FAILED";
  chargesCompared: number;
}

/** An alert opened, changed or was resolved (by a rule, the system or an operator). */
export interface AlertChangedEvent {
  alertId: string;
  fingerprint: string;
  change:
    | "OPENED"
    | "UPDATED"
    | "ESCALATED"
    | "REOPENED"
    | "ACKNOWLEDGED"
    | "SILENCED"
    | "RESOLVED"
    | "REMINDED"
    /** A delivery of one of its notifications succeeded or went dead. */
    | "DELIVERY";
  status: "FIRING" | "ACKNOWLEDGED" | "RESOLVED";
}

/** The metrics rollup stored fresh metrics (the overview re-reads them). */
export interface MetricsUpdatedEvent {
  computedAt: string;
}

/**
 * Sessions or API tokens were revoked, or operators changed (role, disabled): every API instance
 * drops what it cached of them, so the next request is authenticated against the database, and
 * closes the websockets opened with them.
 */
export interface CredentialsChangedEvent {
  sessionIds: string[];
  operatorIds: string[];
  apiTokenIds: string[];
}

/** A health-checks run finished: the latest results (and maybe the flags) changed. */
export interface HealthChangedEvent {
  overall: "GREEN" | "YELLOW" | "RED";
  checkedAt: string;
}

export type StewardEvents = {
  credentialsChanged: [CredentialsChangedEvent];
  jobRunRecorded: [JobRunEvent];
  reviewQueueChanged: [ReviewQueueEvent];
  refundRequestChanged: [RefundRequestEvent];
  reconciliationRunUpdated: [ReconciliationRunEvent];
  alertChanged: [AlertChangedEvent];
  healthChanged: [HealthChangedEvent];
  metricsUpdated: [MetricsUpdatedEvent];
};

export type EventName = keyof StewardEvents;

/** What core needs to announce a change. */
export interface EventPublisher {
  publish<Name extends EventName>(name: Name, ...payload: StewardEvents[Name]): void;
}

/** Publish, and (in the API) subscribe: each subscription is its own stream of one event's payloads. */
export interface EventBus extends EventPublisher {
  subscribe<Name extends EventName>(name: Name): AsyncIterableIterator<StewardEvents[Name][0]>;
}
