// Live alert fan-out: N graphql-ws subscribers of `alertChanged` on one API process; an alert is
// raised by core in this process (as the worker would) and published through Redis. Measured:
// from the publish to each subscriber receiving the event (p50, p99, and the last subscriber),
// beside two floors in the same run: a bare graphql-ws server on the same Redis channel
// (floor/ws-floor.ts: the protocol's own cost) and a bare `ws` broadcast of the same payload.
// The subscribers run in a child process (fanout-clients.ts) for both, so they do not share the
// measured server's event loop; publish and receipt instants are on the shared clock `now()`.
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { AlertRuleKey } from "@steward/core/alertRuleKeys";
import { raiseAlert } from "@steward/core/alerts";
import { loadEnv } from "@steward/core/env";
import { createEventBus } from "@steward/core/adapters/redisEvents";
import type { EventBus } from "@steward/core/ports/events";
import { createLogger } from "@steward/core/logger";
import { hashPassword } from "@steward/core/passwords";
import type { Db } from "@steward/db/client";
import { WebSocketServer } from "ws";
import { buildApp } from "../../api/src/app.ts";
import type { ClientsCommand, ClientsReport } from "./fanout-clients.ts";
import { startWsFloor } from "./floor/ws-floor.ts";
import { signIn } from "./api.ts";
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
  return signIn(apiUrl, "bench-fanout@steward.test", PASSWORD);
}

/** The subscribers' child process (fanout-clients.ts), driven over IPC. */
interface Clients {
  send(command: ClientsCommand): void;
  /** The next report matching `match`, or a rejection after `timeoutMs`. */
  next<T extends ClientsReport["type"]>(
    type: T,
    timeoutMs: number,
    match?: (report: Extract<ClientsReport, { type: T }>) => boolean,
  ): Promise<Extract<ClientsReport, { type: T }>>;
  close(): Promise<void>;
}

function forkClients(): Clients {
  const child = fork(fileURLToPath(new URL("./fanout-clients.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const waiters = new Set<(report: ClientsReport) => boolean>();
  child.on("message", (report: ClientsReport) => {
    for (const waiter of waiters) if (waiter(report)) waiters.delete(waiter);
  });
  return {
    send: (command) => child.send(command),
    next(type, timeoutMs, match) {
      type Wanted = Extract<ClientsReport, { type: typeof type }>;
      return new Promise<Wanted>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`fan-out bench: no ${type} from the subscribers within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = (report: ClientsReport): boolean => {
          if (report.type === "failed") {
            clearTimeout(timer);
            reject(new Error(`fan-out bench: subscribers failed: ${report.message}`));
            return true;
          }
          if (report.type !== type || (match && !match(report as Wanted))) return false;
          clearTimeout(timer);
          resolve(report as Wanted);
          return true;
        };
        waiters.add(waiter);
      });
    },
    async close() {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      if (child.connected) child.send({ type: "close" } satisfies ClientsCommand);
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The shared clock the child stamps receipts with. */
const now = (): number => performance.timeOrigin + performance.now();

/**
 * Round 0 warms up and proves every subscriber is listening; rounds 1…`rounds` are measured.
 * `fire` sends the round's event (tagged with `fingerprint`) and returns its send instant.
 */
async function measureRounds(
  clients: Clients,
  rounds: number,
  fire: (round: number, fingerprint: string) => Promise<number>,
): Promise<Round[]> {
  const results: Round[] = [];
  for (let round = 0; round <= rounds; round++) {
    const fingerprint = `bench.fanout:${round}`;
    clients.send({ type: "arm", tag: fingerprint });
    await clients.next("armed", 30_000, (report) => report.tag === fingerprint);
    const complete = clients.next("complete", round === 0 ? 120_000 : 60_000, (report) => report.tag === fingerprint);
    if (round === 0) {
      // Subscriptions start asynchronously: repeat the warm-up event until all of them got it.
      let warm = false;
      void complete.then(() => (warm = true)).catch(() => undefined);
      while (!warm) {
        await fire(round, fingerprint);
        await Promise.race([complete, new Promise((resolve) => setTimeout(resolve, 500))]);
      }
      await complete;
      continue;
    }
    const sentAt = await fire(round, fingerprint);
    const { times } = await complete;
    results.push({ latencies: times.map((at) => at - sentAt) });
  }
  return results;
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
      publishedAt = now();
      publisher.bus.publish(routingKey, ...args);
    },
  };
  // The API's own deps, publishing on the timed bus, write the alerts core raises.
  const alerting = { ...app.deps, db, events: timedBus };
  const clients = forkClients();
  try {
    clients.send({
      type: "connect",
      mode: "graphql",
      url: `${apiUrl.replace(/^http/, "ws")}/graphql`,
      cookie: await signInCookie(apiUrl, db),
      count,
      query: SUBSCRIPTION,
    });
    await clients.next("connected", 300_000);
    const results = await measureRounds(clients, rounds, async (round, fingerprint) => {
      await raiseAlert(alerting, {
        fingerprint,
        // A key of the benchmark's own, outside the registry, so its alerts never mix with a real rule's.
        ruleKey: "bench.fanout" as AlertRuleKey,
        severity: "RED" as const,
        title: "Fan-out",
        detail: `round ${round}`,
      });
      return publishedAt;
    });
    return summarise(results);
  } finally {
    await clients.close();
    await publisher.close();
    await app.stop();
  }
}

/**
 * The bare graphql-ws server (floor/ws-floor.ts) on the API's Redis channel: the event core would
 * publish for a new alert goes out on the same event bus, and the same client process subscribes
 * with the same document. Also returns the median Redis hop (publish to the floor's message).
 */
async function graphqlWsFloor(
  redisUrl: string,
  count: number,
  rounds: number,
  execution: "per event" | "per subscriber",
) {
  const prefix = `bench-fanout-floor-${process.pid}`;
  const floor = await startWsFloor(redisUrl, `${prefix}:events:alertChanged`, execution);
  const publisher = createEventBus(redisUrl, prefix);
  const clients = forkClients();
  const hops: number[] = [];
  try {
    clients.send({ type: "connect", mode: "graphql", url: floor.url, count, query: SUBSCRIPTION });
    await clients.next("connected", 300_000);
    let sentAt = 0;
    const results = await measureRounds(clients, rounds, (round, fingerprint) => {
      if (round > 1) hops.push(floor.lastMessageAt() - sentAt);
      sentAt = now();
      publisher.bus.publish("alertChanged", { alertId: randomUUID(), fingerprint, change: "OPENED", status: "FIRING" });
      return Promise.resolve(sentAt);
    });
    hops.push(floor.lastMessageAt() - sentAt);
    return { ...summarise(results), redisHop: hops.sort((a, b) => a - b)[Math.floor((hops.length - 1) / 2)] ?? 0 };
  } finally {
    await clients.close();
    await publisher.close();
    await floor.close();
  }
}

/** The same payload (with the round's fingerprint) sent by a bare `ws` server to every socket. */
async function bareBroadcast(count: number, rounds: number, payloadOf: (fingerprint: string) => string) {
  const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const clients = forkClients();
  try {
    clients.send({ type: "connect", mode: "bare", url: `ws://127.0.0.1:${port}`, count });
    await clients.next("connected", 300_000);
    if (server.clients.size !== count)
      throw new Error(`fan-out bench: ${server.clients.size} bare sockets of ${count}`);
    const results = await measureRounds(clients, rounds, (_round, fingerprint) => {
      const sentAt = now();
      const payload = payloadOf(fingerprint);
      for (const client of server.clients) client.send(payload);
      return Promise.resolve(sentAt);
    });
    return summarise(results);
  } finally {
    await clients.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

type Figures = ReturnType<typeof summarise>;

/** p50, p99 and last-subscriber rows of `value` beside `floor`. */
function rowsOf(label: string, value: Figures, floor: Figures, floorName: string, rounds: number): BenchRow[] {
  return [
    { name: `${label}, p50`, value: value.p50, unit: "ms", floor: floor.p50, floorName: `${floorName} p50` },
    { name: `${label}, p99`, value: value.p99, unit: "ms", floor: floor.p99, floorName: `${floorName} p99` },
    {
      name: `${label}, last subscriber (median of ${rounds} rounds)`,
      value: value.last,
      unit: "ms",
      floor: floor.last,
      floorName: `${floorName}, last socket`,
    },
  ];
}

export async function benchFanout(db: Db, databaseUrl: string, subscriberCount: number): Promise<BenchRow[]> {
  const rounds = 10;
  const alerts = await alertFanout(db, databaseUrl, subscriberCount, rounds);
  const redisUrl = loadEnv({ NODE_ENV: "test", DATABASE_URL: databaseUrl }).REDIS_URL;
  const floor = await graphqlWsFloor(redisUrl, subscriberCount, rounds, "per event");
  const stockFloor = await graphqlWsFloor(redisUrl, subscriberCount, rounds, "per subscriber");
  // The same bytes a graphql-ws subscriber receives for one alertChanged event.
  const payload = (fingerprint: string) =>
    JSON.stringify({
      id: "00000000-0000-0000-0000-000000000000",
      type: "next",
      payload: {
        data: {
          alertChanged: {
            id: "QWxlcnQ6MDE5YmJmMDAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAw",
            fingerprint,
            status: "FIRING",
            count: 1,
          },
        },
      },
    });
  const bare = await bareBroadcast(subscriberCount, rounds, payload);
  const to = `alertChanged to ${subscriberCount.toLocaleString("en")} subscribers`;
  const floorRows = rowsOf(
    `bare graphql-ws server, ${to} (publish → Redis → graphql-ws)`,
    floor,
    bare,
    "bare ws",
    rounds,
  );
  floorRows[1]!.note = `Redis hop (publish to the floor's message): ${floor.redisHop.toFixed(2)} ms, median of rounds`;
  return [
    // The target (issue 17): the API beside the bare ws broadcast.
    ...rowsOf(`${to} (worker publish → Redis → API → ws)`, alerts, bare, "bare ws broadcast", rounds),
    // Where the gap is: the API beside the bare graphql-ws server (both executing once per event),
    // and that server beside the bare ws broadcast (graphql-ws's own per-socket work and the Redis hop).
    ...rowsOf(`API vs bare graphql-ws server, ${to}`, alerts, floor, "bare graphql-ws", rounds),
    ...floorRows,
    {
      name: `stock graphql-ws server (graphql-js executes per subscriber), ${to}, p99`,
      value: stockFloor.p99,
      unit: "ms",
      floor: floor.p99,
      floorName: "bare graphql-ws p99",
      note: `p50 ${stockFloor.p50.toFixed(1)} ms, last ${stockFloor.last.toFixed(1)} ms`,
    },
  ];
}
