// One bus subscription per event name for all of this process's subscribers. The bus gives each
// `subscribe` its own stream (a Repeater and an event-target listener per subscriber), and with
// 2,000 dashboards on one alert that per-subscriber push, and its garbage, was the largest share
// of the fan-out that was the API's own (the fan-out benchmark's CPU profile). Here one stream per
// name feeds a plain queue per subscriber; every subscriber still gets every event published
// while it listens, in order, as the same object (shared-subscriptions.ts relies on that).
import type { EventBus, EventName, StewardEvents } from "@steward/core/ports/events";

interface Subscriber<T> {
  push(event: T): void;
  end(): void;
}

interface Fan<T> {
  name: EventName;
  subscribers: Set<Subscriber<T>>;
  upstream: AsyncIterator<T>;
}

/**
 * Events one subscriber may have waiting before it is cut off (the bus's Repeater streams held as
 * many). A socket that stopped reading must not grow this process's memory without bound, and
 * must not hold up the others: its stream fails, graphql-ws sends that subscription an error, and
 * the client subscribes again and reads the current state.
 */
export const MAX_QUEUED_EVENTS = 1024;

export class SubscriberTooSlowError extends Error {
  constructor(name: EventName) {
    super(`Too many ${name} events waiting for this subscription: it was ended; subscribe again`);
  }
}

export function sharedEventStreams(bus: EventBus): EventBus {
  const fans = new Map<EventName, Fan<unknown>>();

  /** Forwards the name's one stream to its subscribers until the last one leaves. */
  const pump = async (fan: Fan<unknown>): Promise<void> => {
    try {
      for (;;) {
        const next = await fan.upstream.next();
        if (next.done) break;
        for (const subscriber of fan.subscribers) subscriber.push(next.value);
      }
    } catch {
      // The bus's stream failed: its subscribers end, as their own streams would have.
    }
    // A later subscriber opens a new stream rather than joining this finished one.
    if (fans.get(fan.name) === fan) fans.delete(fan.name);
    for (const subscriber of fan.subscribers) subscriber.end();
  };

  const join = (name: EventName, subscriber: Subscriber<unknown>): (() => void) => {
    let fan = fans.get(name);
    if (!fan) {
      fan = { name, subscribers: new Set(), upstream: bus.subscribe(name) };
      fans.set(name, fan);
      void pump(fan);
    }
    const joined = fan;
    joined.subscribers.add(subscriber);
    return () => {
      joined.subscribers.delete(subscriber);
      if (joined.subscribers.size > 0) return;
      if (fans.get(name) === joined) fans.delete(name);
      void joined.upstream.return?.();
    };
  };

  function subscribe<Name extends EventName>(name: Name): AsyncIterableIterator<StewardEvents[Name][0]> {
    type Event = StewardEvents[Name][0];
    const queued: Event[] = [];
    let waiting: ((result: IteratorResult<Event>) => void) | undefined;
    let leave: (() => void) | undefined;
    let ended = false;
    let overflowed = false;
    const finish = (): void => {
      ended = true;
      leave?.();
      leave = undefined;
      queued.length = 0;
      waiting?.({ value: undefined, done: true });
      waiting = undefined;
    };
    const subscriber: Subscriber<unknown> = {
      push(event) {
        if (waiting) {
          const resolve = waiting;
          waiting = undefined;
          resolve({ value: event as Event, done: false });
        } else if (queued.length >= MAX_QUEUED_EVENTS) {
          overflowed = true;
          finish();
        } else queued.push(event as Event);
      },
      end() {
        // Events already queued are still delivered; then the stream is done.
        ended = true;
        leave = undefined;
        waiting?.({ value: undefined, done: true });
        waiting = undefined;
      },
    };
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      next() {
        // Listening starts at the first `next`, as the bus's own streams do.
        if (overflowed) {
          overflowed = false;
          return Promise.reject(new SubscriberTooSlowError(name));
        }
        if (!leave && !ended) leave = join(name, subscriber);
        if (queued.length > 0) return Promise.resolve({ value: queued.shift() as Event, done: false });
        if (ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (waiting = resolve));
      },
      return() {
        finish();
        return Promise.resolve({ value: undefined, done: true });
      },
      throw(error: unknown) {
        finish();
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      },
    };
  }

  return { publish: (name, ...payload) => bus.publish(name, ...payload), subscribe };
}
