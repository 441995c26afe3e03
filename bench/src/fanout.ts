// Live alert fan-out: N graphql-ws subscribers of `alertChanged` on one API process; an alert is
// raised by core in this process (as the worker would) and published through Redis. Measured:
// from the publish to each subscriber receiving the event (p50, p99, and the last subscriber),
// beside a bare `ws` broadcast of the same payload to the same number of sockets in the same run.
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { raiseAlert } from "@steward/core/alerts";
import { loadEnv } from "@steward/core/env";
import { createEventBus, type EventBus } from "@steward/core/events";
import { createLogger } from "@steward/core/logger";
import { hashPassword } from "@steward/core/passwords";
import type { Db } from "@steward/db/client";
import { type Client, createClient } from "graphql-ws";
import WebSocket, { WebSocketServer } from "ws";
import { buildApp } from "../../api/src/app.ts";
import type { BenchRow } from "./table.ts";

const PASSWORD = "bench-fanout-password";
const SUBSCRIPTION = "subscription { alertChanged { id fingerprint status count } }";

interface Round {
  /** Per subscriber, ms from publish to receipt. */
  latencies: number[];
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;

function summarise(rounds: readonly Round[]) {
  const all = rounds.flatMap((round) => round.latencies).sort((a, b) => a - b);
  const lasts = rounds.map((round) => Math.max(...round.latencies)).sort((a, b) => a - b);
  return { p50: quantile(all, 0.5), p99: quantile(all, 0.99), last: quantile(lasts, 0.5) };
}

async function signInCookie(apiUrl: string, db: Db): Promise<string> {
  await db.operator.create({
    data: {
      email: "bench-fanout@steward.test",
      name: "Bench",
      role: "VIEWER",
      passwordHash: await hashPassword(PASSWORD),
    },
  });
  const response = await fetch(`${apiUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query:
        "mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { __typename } }",
      variables: { email: "bench-fanout@steward.test", password: PASSWORD },
    }),
  });
  const cookie = response.headers.get("set-cookie")?.split(";")[0];
  if (!cookie) throw new Error("fan-out bench: login failed");
  return cookie;
}

/**
 * Opens `count` graphql-ws subscribers, 100 at a time (2,000 simultaneous upgrades overflow the
 * listen backlog and get reset); `onEvent(index)` is called on each event a subscriber gets.
 */
async function subscribers(
  apiUrl: string,
  cookie: string,
  count: number,
  onEvent: (index: number) => void,
): Promise<Client[]> {
  class CookieWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers: { cookie } });
    }
  }
  const clients: Client[] = [];
  for (let start = 0; start < count; start += 100) {
    const batch = Array.from({ length: Math.min(100, count - start) }, (_, offset) => {
      const index = start + offset;
      const client = createClient({
        url: `${apiUrl.replace(/^http/, "ws")}/graphql`,
        webSocketImpl: CookieWebSocket,
        retryAttempts: 5,
        lazy: false,
      });
      const connected = new Promise<void>((resolve) => client.on("connected", () => resolve()));
      client.subscribe(
        { query: SUBSCRIPTION },
        { next: () => onEvent(index), error: () => undefined, complete: () => undefined },
      );
      clients.push(client);
      return connected;
    });
    await Promise.all(batch);
  }
  return clients;
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`fan-out bench: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function alertFanout(db: Db, databaseUrl: string, count: number, rounds: number) {
  const env = loadEnv({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATABASE_URL: databaseUrl,
    REDIS_PREFIX: `bench-fanout-${process.pid}`,
    API_PORT: "0",
    // Every subscriber connects from 127.0.0.1: the per-address socket limits are for attackers.
    WS_CONNECTS_PER_ADDRESS: String(count * 2),
    WS_MAX_CONNECTIONS_PER_ADDRESS: String(count * 2),
  });
  const app = buildApp(env, createLogger("bench", "silent"));
  const apiUrl = await app.start();
  const publisher = createEventBus(env.REDIS_URL, env.REDIS_PREFIX);
  let publishedAt = 0;
  // The bus core publishes on, with the publish instant recorded.
  const timedBus: EventBus = {
    ...publisher.bus,
    publish(routingKey, ...args) {
      publishedAt = performance.now();
      publisher.bus.publish(routingKey, ...args);
    },
  };

  let received: number[] = [];
  const clients = await subscribers(apiUrl, await signInCookie(apiUrl, db), count, (index) => {
    received[index] = performance.now();
  });
  try {
    const results: Round[] = [];
    // Round 0 warms up and proves every subscriber is listening.
    for (let round = 0; round <= rounds; round++) {
      received = new Array<number>(count);
      const fingerprint = `bench.fanout:${round}`;
      const condition = {
        fingerprint,
        ruleKey: "bench.fanout",
        severity: "RED" as const,
        title: "Fan-out",
        detail: `round ${round}`,
      };
      const done = () => received.filter((value) => value !== undefined).length === count;
      if (round === 0) {
        // Subscribers connect asynchronously: repeat the warm-up until all of them got one.
        const started = Date.now();
        while (!done()) {
          await raiseAlert(db, condition, new Date(), { events: timedBus });
          await new Promise((resolve) => setTimeout(resolve, 500));
          if (Date.now() - started > 120_000) throw new Error("fan-out bench: subscribers did not all connect");
        }
        continue;
      }
      await raiseAlert(db, condition, new Date(), { events: timedBus });
      await until(done, 60_000, `round ${round} reaching all ${count} subscribers`);
      results.push({ latencies: received.map((at) => at - publishedAt) });
    }
    return summarise(results);
  } finally {
    for (const client of clients) await client.dispose();
    await publisher.close();
    await app.stop();
  }
}

async function bareBroadcast(count: number, rounds: number, payload: string) {
  const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  let received: number[] = [];
  const sockets: WebSocket[] = [];
  // Connected 100 at a time, as the subscribers are.
  for (let start = 0; start < count; start += 100) {
    const batch = Array.from(
      { length: Math.min(100, count - start) },
      (_, offset) =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(`ws://127.0.0.1:${port}`);
          socket.on("message", () => {
            received[start + offset] = performance.now();
          });
          socket.once("open", () => resolve(socket));
          socket.once("error", reject);
        }),
    );
    sockets.push(...(await Promise.all(batch)));
  }
  await until(() => server.clients.size === count, 30_000, "bare sockets connecting");
  try {
    const results: Round[] = [];
    for (let round = 0; round <= rounds; round++) {
      received = new Array<number>(count);
      const sentAt = performance.now();
      for (const client of server.clients) client.send(payload);
      await until(() => received.filter((value) => value !== undefined).length === count, 30_000, "bare broadcast");
      if (round > 0) results.push({ latencies: received.map((at) => at - sentAt) });
    }
    return summarise(results);
  } finally {
    for (const socket of sockets) socket.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export async function benchFanout(db: Db, databaseUrl: string, subscriberCount: number): Promise<BenchRow[]> {
  const rounds = 10;
  const alerts = await alertFanout(db, databaseUrl, subscriberCount, rounds);
  // The same bytes a graphql-ws subscriber receives for one alertChanged event.
  const payload = JSON.stringify({
    id: "00000000-0000-0000-0000-000000000000",
    type: "next",
    payload: {
      data: {
        alertChanged: {
          id: "QWxlcnQ6MDE5YmJmMDAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAw",
          fingerprint: "bench.fanout:1",
          status: "FIRING",
          count: 1,
        },
      },
    },
  });
  const bare = await bareBroadcast(subscriberCount, rounds, payload);
  const label = `alertChanged to ${subscriberCount.toLocaleString("en")} subscribers (worker publish → Redis → API → ws)`;
  return [
    { name: `${label}, p50`, value: alerts.p50, unit: "ms", floor: bare.p50, floorName: "bare ws broadcast p50" },
    { name: `${label}, p99`, value: alerts.p99, unit: "ms", floor: bare.p99, floorName: "bare ws broadcast p99" },
    {
      name: `${label}, last subscriber (median of ${rounds} rounds)`,
      value: alerts.last,
      unit: "ms",
      floor: bare.last,
      floorName: "bare ws broadcast, last socket",
    },
  ];
}
