// Events published on Redis so every API instance can push them to subscribers, whichever
// process (API or worker) caused them. Payloads are small and JSON-safe.
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { createPubSub, type PubSub } from "@graphql-yoga/subscription";
import { Redis } from "ioredis";

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

/** A session was signed out: every API instance closes that session's websockets. */
export interface SessionEndedEvent {
  sessionId: string;
}

/**
 * Sessions or API tokens were revoked, or operators changed (role, disabled): every API instance
 * drops what it cached of them, so the next request is authenticated against the database.
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
  sessionEnded: [SessionEndedEvent];
  credentialsChanged: [CredentialsChangedEvent];
  jobRunRecorded: [JobRunEvent];
  reviewQueueChanged: [ReviewQueueEvent];
  refundRequestChanged: [RefundRequestEvent];
  reconciliationRunUpdated: [ReconciliationRunEvent];
  alertChanged: [AlertChangedEvent];
  healthChanged: [HealthChangedEvent];
  metricsUpdated: [MetricsUpdatedEvent];
};

export type EventBus = PubSub<StewardEvents>;

export interface EventBusHandle {
  bus: EventBus;
  close(): Promise<void>;
}

/**
 * Redis pub/sub channels are global to a Redis server, so channels carry the stack's prefix:
 * several stacks (parallel test runs, staging beside production) can share one Redis.
 */
function prefixedEventTarget(inner: EventTarget, prefix: string): EventTarget {
  const channel = (type: string): string => `${prefix}:events:${type}`;
  const wrapped = new Map<unknown, (event: Event) => void>();
  return {
    addEventListener(type, callback, options) {
      if (!callback) return;
      const listener = (event: Event): void => {
        const local = new CustomEvent<unknown>(type, { detail: (event as CustomEvent<unknown>).detail });
        if (typeof callback === "function") callback(local);
        else callback.handleEvent(local);
      };
      wrapped.set(callback, listener);
      inner.addEventListener(channel(type), listener, options);
    },
    removeEventListener(type, callback, options) {
      const listener = wrapped.get(callback);
      if (!listener) return;
      wrapped.delete(callback);
      inner.removeEventListener(channel(type), listener, options);
    },
    dispatchEvent(event) {
      const detail: unknown = (event as CustomEvent<unknown>).detail;
      return inner.dispatchEvent(new CustomEvent<unknown>(channel(event.type), { detail }));
    },
  };
}

export function createEventBus(redisUrl: string, prefix: string): EventBusHandle {
  const options = { maxRetriesPerRequest: null } as const;
  const publishClient = new Redis(redisUrl, options);
  const subscribeClient = new Redis(redisUrl, options);
  // ioredis reconnects by itself; without listeners a dropped connection would crash Node.
  publishClient.on("error", () => undefined);
  subscribeClient.on("error", () => undefined);
  const redisTarget = createRedisEventTarget<CustomEvent>({ publishClient, subscribeClient });
  const bus = createPubSub<StewardEvents>({
    eventTarget: prefixedEventTarget(redisTarget, prefix),
  });
  return {
    bus,
    close() {
      // disconnect, not quit: quit would wait forever for a Redis that is down.
      publishClient.disconnect();
      subscribeClient.disconnect();
      return Promise.resolve();
    },
  };
}
