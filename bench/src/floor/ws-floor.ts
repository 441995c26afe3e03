// The fan-out benchmark's second floor: the simplest real server doing the API's protocol work for
// `alertChanged`. graphql-ws's own `useServer` on a `ws` server, a graphql-js schema with the same
// `alertChanged { id fingerprint status count }` field, and events from the same Redis pub/sub
// channel the API listens on (one ioredis subscriber, fanned out in-process). No Yoga, no auth, no
// alert read (`count` is the event's alert as raised: 1). `execution: "per event"` runs the selection
// once per event for every subscriber (as the API's sharedSubscriptionExecution does), so what is
// left per socket is graphql-ws's own work (its iterator, the message with the subscription's id,
// JSON per socket); `"per subscriber"` is graphql-js's stock subscribe, one execution per socket.
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import type { AlertChangedEvent } from "@steward/core/ports/events";
import {
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  GraphQLBoolean,
  GraphQLID,
  GraphQLInt,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
} from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { Redis } from "ioredis";
import { WebSocketServer } from "ws";

export interface WsFloor {
  /** ws:// address of the graphql-ws endpoint. */
  url: string;
  /** When the last Redis message arrived (shared clock), for the Redis hop's share of the latency. */
  lastMessageAt(): number;
  close(): Promise<void>;
}

type Listener = (event: AlertChangedEvent) => void;

/** One subscriber's stream: events queue until graphql-js pulls them; `return` unsubscribes. */
function eventStream(listeners: Set<Listener>): AsyncIterableIterator<AlertChangedEvent> {
  const queued: AlertChangedEvent[] = [];
  let waiting: ((result: IteratorResult<AlertChangedEvent>) => void) | undefined;
  const listener: Listener = (event) => {
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve({ value: event, done: false });
    } else queued.push(event);
  };
  listeners.add(listener);
  const done = (): Promise<IteratorResult<AlertChangedEvent>> => {
    listeners.delete(listener);
    waiting?.({ value: undefined, done: true });
    waiting = undefined;
    return Promise.resolve({ value: undefined, done: true });
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      const event = queued.shift();
      if (event) return Promise.resolve({ value: event, done: false });
      if (!listeners.has(listener)) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (waiting = resolve));
    },
    return: done,
    throw: async (error: unknown) => {
      await done();
      throw error;
    },
  };
}

function floorSchema(listeners: Set<Listener>): GraphQLSchema {
  const alert = new GraphQLObjectType({
    name: "Alert",
    fields: {
      id: { type: new GraphQLNonNull(GraphQLID) },
      fingerprint: { type: new GraphQLNonNull(GraphQLString) },
      status: { type: new GraphQLNonNull(GraphQLString) },
      count: { type: new GraphQLNonNull(GraphQLInt) },
    },
  });
  return new GraphQLSchema({
    // graphql-js needs a query type; nothing asks it.
    query: new GraphQLObjectType({ name: "Query", fields: { ok: { type: GraphQLBoolean, resolve: () => true } } }),
    subscription: new GraphQLObjectType({
      name: "Subscription",
      fields: {
        alertChanged: {
          type: new GraphQLNonNull(alert),
          subscribe: () => eventStream(listeners),
          // The API's id is Pothos' Relay global id: the same bytes here.
          resolve: (event: AlertChangedEvent) => ({
            id: Buffer.from(`Alert:${event.alertId}`).toString("base64"),
            fingerprint: event.fingerprint,
            status: event.status,
            count: 1,
          }),
        },
      },
    }),
  });
}

/**
 * graphql-js's subscribe for this schema's one subscription field, with each event's result
 * executed once and handed to every subscriber. Keyed by the event alone: every subscriber of the
 * benchmark sends the same document (the API keys by document, variables and account as well).
 */
function subscribeSharingExecution(listeners: Set<Listener>) {
  const results = new WeakMap<object, Promise<ExecutionResult>>();
  return (args: ExecutionArgs): AsyncIterableIterator<ExecutionResult> => {
    const source = eventStream(listeners);
    const resultOf = (event: AlertChangedEvent): Promise<ExecutionResult> => {
      let result = results.get(event);
      if (!result) results.set(event, (result = Promise.resolve(execute({ ...args, rootValue: event }))));
      return result;
    };
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next() {
        const next = await source.next();
        if (next.done) return { value: undefined, done: true };
        return { value: await resultOf(next.value), done: false };
      },
      return: async () => {
        await source.return?.();
        return { value: undefined, done: true };
      },
      throw: async (error: unknown) => {
        await source.return?.();
        throw error;
      },
    };
  };
}

/** `channel` is the API's (`<prefix>:events:alertChanged`, JSON as core's event bus writes it). */
export async function startWsFloor(
  redisUrl: string,
  channel: string,
  execution: "per event" | "per subscriber",
): Promise<WsFloor> {
  const listeners = new Set<Listener>();
  const subscriber = new Redis(redisUrl, { maxRetriesPerRequest: null });
  subscriber.on("error", () => undefined);
  let lastMessageAt = 0;
  subscriber.on("message", (from: string, message: string) => {
    if (from !== channel) return;
    lastMessageAt = performance.timeOrigin + performance.now();
    // Parsed once: every subscriber gets the same object, as on the API's bus.
    const event = JSON.parse(message) as AlertChangedEvent;
    for (const listener of listeners) listener(event);
  });
  await subscriber.subscribe(channel);
  const server = new WebSocketServer({ port: 0, host: "127.0.0.1", path: "/graphql" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const schema = floorSchema(listeners);
  const handler = useServer(
    execution === "per event" ? { schema, subscribe: subscribeSharingExecution(listeners) } : { schema },
    server,
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/graphql`,
    lastMessageAt: () => lastMessageAt,
    async close() {
      await handler.dispose();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      subscriber.disconnect();
    },
  };
}
