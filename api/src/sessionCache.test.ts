// The credential cache keeps following changes when its bus stream fails: it forgets what it held
// (changes may have been missed meanwhile) and subscribes again, so a later revocation from
// another instance is still honoured within the bus's delivery time, not only after the TTL.
import type { Db } from "@steward/db/client";
import type { EventBus, EventName, StewardEvents } from "@steward/core/ports/events";
import { createPubSub } from "graphql-yoga";
import { describe, expect, it } from "vitest";
import { CredentialCache } from "./sessionCache.ts";

/** A database that answers every session lookup with the same live session, counting the reads. */
function sessionDb() {
  const reads = { count: 0 };
  const db = {
    $queryRaw: () => {
      reads.count++;
      return Promise.resolve([
        {
          id: "session-1",
          expiresAt: new Date(Date.now() + 3_600_000),
          revokedAt: null,
          operatorId: "operator-1",
          email: "ada@test.example",
          name: "Ada",
          role: "ADMIN",
          disabledAt: null,
        },
      ]);
    },
  } as unknown as Db;
  return { db, reads };
}

/** A bus whose first credentialsChanged stream fails when told to; later streams are real pub/sub. */
function failingOnceBus() {
  const pubsub = createPubSub<Record<string, [unknown]>>();
  let fail: (error: Error) => void = () => undefined;
  let subscriptions = 0;
  const bus: EventBus = {
    publish: (name, payload) => pubsub.publish(name, payload),
    subscribe<Name extends EventName>(name: Name): AsyncIterableIterator<StewardEvents[Name][0]> {
      subscriptions++;
      if (subscriptions > 1) return pubsub.subscribe(name) as AsyncIterableIterator<StewardEvents[Name][0]>;
      const failed = new Promise<never>((_resolve, reject) => (fail = reject));
      const stream: AsyncIterableIterator<StewardEvents[Name][0]> = {
        [Symbol.asyncIterator]: () => stream,
        next: () => failed,
        return: () => Promise.resolve({ value: undefined, done: true }),
      };
      return stream;
    },
  };
  return { bus, fail: (error: Error) => fail(error), subscriptions: () => subscriptions };
}

describe("CredentialCache.listen", () => {
  it("forgets everything when its stream fails, subscribes again and follows later changes", async () => {
    const { db, reads } = sessionDb();
    const bus = failingOnceBus();
    const cache = new CredentialCache(db, bus.bus);
    const stop = cache.listen();
    await cache.operatorForSession("cookie-secret");
    await cache.operatorForSession("cookie-secret");
    expect(reads.count).toBe(1);

    bus.fail(new Error("bus connection lost"));
    await expect.poll(() => bus.subscriptions(), { timeout: 2_000 }).toBe(2);
    // Whatever was cached before the failure is read again.
    await cache.operatorForSession("cookie-secret");
    expect(reads.count).toBe(2);
    await cache.operatorForSession("cookie-secret");
    expect(reads.count).toBe(2);

    // Another instance revokes the session: the new stream delivers it and the entry goes.
    await new Promise((resolve) => setTimeout(resolve, 10));
    bus.bus.publish("credentialsChanged", { sessionIds: ["session-1"], operatorIds: [], apiTokenIds: [] });
    await expect
      .poll(
        async () => {
          await cache.operatorForSession("cookie-secret");
          return reads.count;
        },
        { timeout: 2_000 },
      )
      .toBeGreaterThan(2);
    await stop();
  });
});
