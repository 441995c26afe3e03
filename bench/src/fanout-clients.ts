// The fan-out benchmark's subscribers, in a child process of their own (forked by fanout.ts), so
// that 2,000 clients parsing frames do not compete with the server they measure for its event
// loop. Run for the API and the bare graphql-ws floor (graphql-ws clients; the floor takes no
// cookie) and for the bare `ws` floor alike. Receipt instants are `performance.timeOrigin +
// performance.now()`: one clock shared with the parent on one machine.
import { performance } from "node:perf_hooks";
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";

export type ClientsCommand =
  | { type: "connect"; mode: "graphql" | "bare"; url: string; cookie?: string; count: number; query?: string }
  /** Forget the previous round; wait for `tag` (an alert fingerprint) at every subscriber. */
  | { type: "arm"; tag: string }
  | { type: "close" };

export type ClientsReport =
  | { type: "connected" }
  | { type: "armed"; tag: string }
  /** Every subscriber got the armed tag: their receipt instants, on the shared clock. */
  | { type: "complete"; tag: string; times: number[] }
  | { type: "failed"; message: string };

const now = (): number => performance.timeOrigin + performance.now();
const report = (message: ClientsReport): void => {
  process.send?.(message);
};

let armed = "";
let times: (number | undefined)[] = [];
let got = 0;
const clients: Client[] = [];
const sockets: WebSocket[] = [];

function receive(index: number, tag: string | undefined): void {
  if (tag !== armed || times[index] !== undefined) return;
  times[index] = now();
  if (++got === times.length) report({ type: "complete", tag, times: times as number[] });
}

const fingerprintOf = (data: unknown): string | undefined =>
  (data as { alertChanged?: { fingerprint?: string } } | null | undefined)?.alertChanged?.fingerprint;

/** 100 at a time: 2,000 simultaneous upgrades overflow the listen backlog and get reset. */
async function connect(command: Extract<ClientsCommand, { type: "connect" }>): Promise<void> {
  times = new Array<number | undefined>(command.count);
  const { cookie } = command;
  class CookieWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, cookie ? { headers: { cookie } } : {});
    }
  }
  for (let start = 0; start < command.count; start += 100) {
    const batch = Array.from({ length: Math.min(100, command.count - start) }, (_, offset) => {
      const index = start + offset;
      if (command.mode === "bare") {
        return new Promise<void>((resolve, reject) => {
          const socket = new WebSocket(command.url);
          // Parsed as a graphql-ws client parses each frame, for the same work on this side.
          socket.on("message", (data: Buffer) => {
            const frame = JSON.parse(data.toString()) as { payload?: { data?: unknown } };
            receive(index, fingerprintOf(frame.payload?.data));
          });
          socket.once("open", () => resolve());
          socket.once("error", reject);
          sockets.push(socket);
        });
      }
      const client = createClient({ url: command.url, webSocketImpl: CookieWebSocket, retryAttempts: 5, lazy: false });
      const connected = new Promise<void>((resolve) => client.on("connected", () => resolve()));
      client.subscribe(
        { query: command.query ?? "" },
        {
          next: (result) => receive(index, fingerprintOf(result.data)),
          error: () => undefined,
          complete: () => undefined,
        },
      );
      clients.push(client);
      return connected;
    });
    await Promise.all(batch);
  }
}

process.on("message", (command: ClientsCommand) => {
  if (command.type === "connect") {
    connect(command).then(
      () => report({ type: "connected" }),
      (error: unknown) => report({ type: "failed", message: error instanceof Error ? error.message : String(error) }),
    );
  } else if (command.type === "arm") {
    armed = command.tag;
    times = new Array<number | undefined>(times.length);
    got = 0;
    report({ type: "armed", tag: command.tag });
  } else {
    void (async () => {
      for (const client of clients) await client.dispose();
      for (const socket of sockets) socket.terminate();
      process.exit(0);
    })();
  }
});
