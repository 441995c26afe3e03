// The shared execution of subscription events, on a small schema through Yoga's own envelop: one
// execution per event and authorization for any number of subscribers, authorization on subscribe
// still per subscriber, masking still applied, and a subscriber leaving ends its source stream.
import { createGraphQLError, createPubSub, createSchema, createYoga } from "graphql-yoga";
import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { EVENTS_WITH_SHARED_RESULTS, sharedSubscriptionExecution } from "./shared-subscriptions.ts";

interface Ctx {
  role: string | null;
}
interface Result {
  data?: unknown;
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}
/** A subscription's results, or (refused on subscribe) one result with errors. */
type Stream = AsyncIterableIterator<Result, undefined> & Result;

function setup() {
  const pubsub = createPubSub<{ tick: [{ n: number; fail?: boolean }] }>();
  const counts = { executions: 0, subscribes: 0 };
  const schema = createSchema<Ctx>({
    typeDefs: /* GraphQL */ `
      type Query {
        ok: Boolean
      }
      type Tick {
        n: Int!
        seenBy: String
      }
      type Subscription {
        tick: Tick!
        adminTick: Tick!
      }
    `,
    resolvers: {
      Subscription: {
        tick: {
          subscribe: () => {
            counts.subscribes++;
            return pubsub.subscribe("tick");
          },
          resolve: (event: { n: number; fail?: boolean }, _args: unknown, context: Ctx) => {
            counts.executions++;
            if (event.fail) throw new Error("database password is hunter2");
            return { n: event.n, seenBy: context.role };
          },
        },
        adminTick: {
          subscribe: (_root: unknown, _args: unknown, context: Ctx) => {
            if (context.role !== "ADMIN") throw createGraphQLError("Forbidden", { extensions: { code: "FORBIDDEN" } });
            return pubsub.subscribe("tick");
          },
          resolve: (event: { n: number }) => ({ n: event.n, seenBy: "ADMIN" }),
        },
      },
    },
  });
  const yoga = createYoga<object, Ctx>({
    schema,
    logging: false,
    plugins: [sharedSubscriptionExecution<Ctx>(({ role }) => role)],
  });
  const subscribe = async (role: string | null, query: string) => {
    const enveloped = yoga.getEnveloped({ role });
    const contextValue = await enveloped.contextFactory();
    const result: unknown = await enveloped.subscribe({
      schema,
      document: parse(query),
      contextValue,
    });
    return result as Stream;
  };
  return { pubsub, counts, subscribe };
}

const TICK = "subscription { tick { n seenBy } }";

describe("shared subscription execution", () => {
  it("executes each event once per authorization, whatever the number of subscribers", async () => {
    const { pubsub, counts, subscribe } = setup();
    const viewers = await Promise.all([1, 2, 3].map(() => subscribe("VIEWER", TICK)));
    const admin = await subscribe("ADMIN", TICK);
    expect(counts.subscribes).toBe(4);
    const pending = [...viewers, admin].map((stream) => stream.next());
    pubsub.publish("tick", { n: 1 });
    const results = await Promise.all(pending);
    expect(results.map((result) => result.value)).toEqual([
      { data: { tick: { n: 1, seenBy: "VIEWER" } } },
      { data: { tick: { n: 1, seenBy: "VIEWER" } } },
      { data: { tick: { n: 1, seenBy: "VIEWER" } } },
      { data: { tick: { n: 1, seenBy: "ADMIN" } } },
    ]);
    // Four subscribers, two authorizations: two executions (per subscriber it would be four).
    expect(counts.executions).toBe(2);

    // A subscriber that leaves stops its own source; the others keep receiving.
    await viewers[0]!.return?.();
    const next = [viewers[1]!, viewers[2]!, admin].map((stream) => stream.next());
    pubsub.publish("tick", { n: 2 });
    expect((await Promise.all(next)).map((result) => result.value)).toEqual([
      { data: { tick: { n: 2, seenBy: "VIEWER" } } },
      { data: { tick: { n: 2, seenBy: "VIEWER" } } },
      { data: { tick: { n: 2, seenBy: "ADMIN" } } },
    ]);
    expect(counts.executions).toBe(4);
    for (const stream of [viewers[1]!, viewers[2]!, admin]) await stream.return?.();
  });

  it("authorizes each subscriber on subscribe and masks errors of a shared execution for each", async () => {
    const { pubsub, subscribe } = setup();
    const refused = await subscribe("VIEWER", "subscription { adminTick { n } }");
    expect(refused.errors?.[0]).toMatchObject({ message: "Forbidden", extensions: { code: "FORBIDDEN" } });
    const allowed = await subscribe("ADMIN", "subscription { adminTick { n } }");
    const streams = [await subscribe("VIEWER", TICK), await subscribe("VIEWER", TICK)];
    const pending = [allowed, ...streams].map((stream) => stream.next());
    pubsub.publish("tick", { n: 3, fail: true });
    const [adminResult, ...viewerResults] = await Promise.all(pending);
    expect(adminResult?.value).toEqual({ data: { adminTick: { n: 3 } } });
    for (const result of viewerResults) {
      expect(JSON.stringify(result.value)).not.toContain("hunter2");
      expect(result.value?.errors?.[0]?.message).toBe("Unexpected error.");
    }
    for (const stream of [allowed, ...streams]) await stream.return?.();
  });

  it("keeps shared results for the latest events only, not for every event a stalled subscriber still holds", async () => {
    // A subscriber that stops reading holds up to 1,024 events; results kept per event for as long
    // as the event lived kept every document's result for all of them (a reader subscribing with
    // many documents multiplied that). Behind the latest events, a subscriber executes its own.
    const { pubsub, counts, subscribe } = setup();
    const reading = await subscribe("VIEWER", TICK);
    const stalled = await subscribe("VIEWER", TICK);
    const first = [reading.next(), stalled.next()];
    pubsub.publish("tick", { n: 0 });
    await Promise.all(first);
    const events = EVENTS_WITH_SHARED_RESULTS * 3;
    for (let n = 1; n <= events; n++) {
      const next = reading.next();
      pubsub.publish("tick", { n });
      expect((await next).value).toEqual({ data: { tick: { n, seenBy: "VIEWER" } } });
    }
    const shared = counts.executions;
    for (let n = 1; n <= events; n++)
      expect((await stalled.next()).value).toEqual({ data: { tick: { n, seenBy: "VIEWER" } } });
    expect(counts.executions - shared).toBeGreaterThanOrEqual(events - EVENTS_WITH_SHARED_RESULTS);
    for (const stream of [reading, stalled]) await stream.return?.();
  });
});
