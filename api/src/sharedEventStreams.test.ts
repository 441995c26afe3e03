// The shared event streams over an in-memory bus (graphql-yoga's PubSub, the same Repeater streams
// as the Redis bus): one bus stream per name for any number of subscribers, every event to every
// subscriber in order as the same object, listening from the first `next`, and the bus stream
// ended when the last subscriber leaves.
import type { AlertChangedEvent, EventBus, EventName, StewardEvents } from "@steward/core/ports/events";
import { createPubSub } from "graphql-yoga";
import { describe, expect, it } from "vitest";
import { MAX_QUEUED_EVENTS, SubscriberTooSlowError, sharedEventStreams } from "./sharedEventStreams.ts";

function countingBus() {
  const pubsub = createPubSub<Record<string, [unknown]>>();
  const counts = { open: 0, ended: 0 };
  const bus: EventBus = {
    publish: (name, payload) => pubsub.publish(name, payload),
    subscribe<Name extends EventName>(name: Name) {
      counts.open++;
      const stream = pubsub.subscribe(name) as AsyncIterableIterator<StewardEvents[Name][0]>;
      const end = stream.return?.bind(stream);
      stream.return = (value?: unknown) => {
        counts.ended++;
        return end ? end(value) : Promise.resolve({ value: undefined, done: true });
      };
      return stream;
    },
  };
  return { bus, counts };
}

const alert = (n: number): AlertChangedEvent => ({
  alertId: `alert-${n}`,
  fingerprint: `f:${n}`,
  change: "OPENED",
  status: "FIRING",
});

describe("sharedEventStreams", () => {
  it("gives every subscriber every event, in order, as the same object, from one bus stream", async () => {
    const { bus, counts } = countingBus();
    const shared = sharedEventStreams(bus);
    const streams = Array.from({ length: 3 }, () => shared.subscribe("alertChanged"));
    // Listening starts at the first `next`.
    expect(counts.open).toBe(0);
    const firsts = streams.map((stream) => stream.next());
    expect(counts.open).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 0));
    const [one, two] = [alert(1), alert(2)];
    shared.publish("alertChanged", one);
    shared.publish("alertChanged", two);
    const got = await Promise.all(firsts);
    for (const result of got) expect(result.value).toBe(got[0]!.value);
    expect(got[0]!.value).toEqual(one);
    const seconds = await Promise.all(streams.map((stream) => stream.next()));
    for (const result of seconds) expect(result.value).toEqual(two);
    // A subscriber that leaves gets nothing more; the others still do.
    await streams[0]!.return?.();
    expect(await streams[0]!.next()).toEqual({ value: undefined, done: true });
    const thirds = streams.slice(1).map((stream) => stream.next());
    shared.publish("alertChanged", alert(3));
    for (const result of await Promise.all(thirds)) expect(result.value).toEqual(alert(3));
    expect(counts).toEqual({ open: 1, ended: 0 });
    // The last one leaving ends the bus stream; a new subscriber opens another.
    for (const stream of streams.slice(1)) await stream.return?.();
    expect(counts).toEqual({ open: 1, ended: 1 });
    const again = shared.subscribe("alertChanged");
    const next = again.next();
    await new Promise((resolve) => setTimeout(resolve, 0));
    shared.publish("alertChanged", alert(4));
    expect((await next).value).toEqual(alert(4));
    expect(counts.open).toBe(2);
    await again.return?.();
  });

  it("keeps each name's subscribers to that name's events", async () => {
    const { bus } = countingBus();
    const shared = sharedEventStreams(bus);
    const alerts = shared.subscribe("alertChanged");
    const credentials = shared.subscribe("credentialsChanged");
    const nextAlert = alerts.next();
    const nextCredentials = credentials.next();
    await new Promise((resolve) => setTimeout(resolve, 0));
    shared.publish("credentialsChanged", { sessionIds: ["s1"], operatorIds: [], apiTokenIds: [] });
    shared.publish("alertChanged", alert(1));
    expect((await nextCredentials).value).toEqual({ sessionIds: ["s1"], operatorIds: [], apiTokenIds: [] });
    expect((await nextAlert).value).toEqual(alert(1));
    await alerts.return?.();
    await credentials.return?.();
  });

  it("cuts off a subscriber that stopped reading, not the others, and keeps its queue bounded", async () => {
    const { bus } = countingBus();
    const shared = sharedEventStreams(bus);
    const slow = shared.subscribe("alertChanged");
    const reader = shared.subscribe("alertChanged");
    // Both listen; then `slow` never reads again while events keep coming.
    const firstSlow = slow.next();
    const received: unknown[] = [];
    const reading = (async () => {
      for await (const event of reader) {
        received.push(event);
        if (received.length === MAX_QUEUED_EVENTS + 10) break;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 0));
    for (let n = 0; n < MAX_QUEUED_EVENTS + 10; n++) {
      shared.publish("alertChanged", alert(n));
      // The reader drains as the events arrive; the slow one only piles up.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await reading;
    expect(received).toHaveLength(MAX_QUEUED_EVENTS + 10);
    expect((await firstSlow).value).toEqual(alert(0));
    // What it had waiting was dropped with it; its next read says why, then it is done.
    await expect(slow.next()).rejects.toBeInstanceOf(SubscriberTooSlowError);
    expect(await slow.next()).toEqual({ value: undefined, done: true });
  });

  it("opens a new bus stream for later subscribers when the old one fails", async () => {
    let opened = 0;
    const failing: EventBus = {
      publish: () => undefined,
      subscribe<Name extends EventName>(_name: Name): AsyncIterableIterator<StewardEvents[Name][0]> {
        opened++;
        const stream: AsyncIterableIterator<StewardEvents[Name][0]> = {
          [Symbol.asyncIterator]: () => stream,
          next: () => Promise.reject(new Error("bus connection lost")),
          return: () => Promise.resolve({ value: undefined, done: true }),
        };
        return stream;
      },
    };
    const shared = sharedEventStreams(failing);
    const first = shared.subscribe("alertChanged");
    expect(await first.next()).toEqual({ value: undefined, done: true });
    const later = shared.subscribe("alertChanged");
    expect(await later.next()).toEqual({ value: undefined, done: true });
    expect(opened).toBe(2);
  });
});
