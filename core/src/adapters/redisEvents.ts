// The event port over Redis pub/sub (graphql-yoga's PubSub on a Redis event target): an event
// published by any process reaches the subscribers of every API instance.
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { createPubSub } from "@graphql-yoga/subscription";
import { Redis } from "ioredis";
import type { EventBus, EventName, StewardEvents } from "../ports/events.ts";

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
  const pubSub = createPubSub<Record<string, [unknown]>>({
    eventTarget: prefixedEventTarget(redisTarget, prefix),
  });
  const bus: EventBus = {
    publish: (name, payload) => pubSub.publish(name, payload),
    // `publish` only accepts a name's own payload, so what arrives under a name is that payload.
    subscribe: <Name extends EventName>(name: Name) =>
      pubSub.subscribe(name) as AsyncIterableIterator<StewardEvents[Name][0]>,
  };
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
