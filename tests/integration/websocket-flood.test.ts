// Websocket floods from one address: connects over the per-address rate (failed sign-ins
// included) and sockets over the per-address cap get HTTP 429 with Retry-After before the
// handshake, with real `ws` clients against the real server. Other addresses, the flooder's HTTP
// requests and sockets already open keep working.
import { createApiToken } from "@steward/core/apiTokens";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { OPEN_SOCKETS_RETRY_AFTER_SECONDS } from "../../api/src/security/websocket.ts";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

const CONNECTS = 6;
const OPEN_CAP = 3;

let api: TestApi;
let cookie: string;
let token: string;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  api = await startTestApi({
    WS_CONNECTS_PER_ADDRESS: String(CONNECTS),
    WS_MAX_CONNECTIONS_PER_ADDRESS: String(OPEN_CAP),
    // The test speaks for many addresses through X-Forwarded-For, as the load balancer would.
    TRUSTED_PROXY_HOPS: "1",
  });
  const admin = await createOperator(api.database.db, "ADMIN", "ada@test.example");
  cookie = await api.loginCookie("ada@test.example", TEST_PASSWORD);
  const actor = { kind: "OPERATOR" as const, id: admin.id, email: admin.email, name: admin.name, role: admin.role };
  token = (await createApiToken({ db: api.database.db }, actor, { name: "alerts feed", scopes: ["read"] })).token;
});
afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await api?.stop();
});

type Attempt =
  | { kind: "open"; socket: WebSocket; closeCode: Promise<number> }
  | { kind: "refused"; status: number; retryAfter: string | null; body: string };

/** One upgrade from `address`; once open, graphql-transport-ws's connection_init is sent with `auth`. */
function connect(address: string, auth: { cookie?: string; bearer?: string }): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${api.url.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws", {
      headers: { "x-forwarded-for": address, ...(auth.cookie ? { cookie: auth.cookie } : {}) },
    });
    sockets.push(socket);
    socket.on("unexpected-response", (_request, response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () =>
        resolve({
          kind: "refused",
          status: response.statusCode ?? 0,
          retryAfter: response.headers["retry-after"] ?? null,
          body,
        }),
      );
    });
    socket.on("error", (error) => reject(error));
    socket.on("open", () => {
      const closeCode = new Promise<number>((done) => socket.once("close", (code) => done(code)));
      socket.send(
        JSON.stringify({
          type: "connection_init",
          payload: auth.bearer ? { authorization: `Bearer ${auth.bearer}` } : {},
        }),
      );
      resolve({ kind: "open", socket, closeCode });
    });
  });
}

/** The next graphql-transport-ws message of `type` on an open socket. */
function nextMessage(socket: WebSocket, type: string): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(new Uint8Array(data));
      const text = bytes.toString();
      if ((JSON.parse(text) as { type: string }).type !== type) return;
      socket.off("message", onMessage);
      resolve();
    };
    socket.on("message", onMessage);
  });
}

async function signedIn(address: string, auth: { cookie?: string; bearer?: string }): Promise<WebSocket> {
  const attempt = await connect(address, auth);
  if (attempt.kind !== "open") throw new Error(`refused: ${attempt.status} ${attempt.body}`);
  await nextMessage(attempt.socket, "connection_ack");
  return attempt.socket;
}

function expectRefused(attempt: Attempt): Extract<Attempt, { kind: "refused" }> {
  if (attempt.kind !== "refused") throw new Error("the upgrade was accepted");
  expect(attempt.status).toBe(429);
  expect((JSON.parse(attempt.body) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe(
    "RATE_LIMITED",
  );
  return attempt;
}

describe("websocket connects per address", () => {
  it("refuses the connect over the rate with 429 and Retry-After, counting failed sign-ins, and affects no one else", async () => {
    const bystander = await signedIn("192.0.2.10", { cookie });

    // Guessed tokens: each upgrade is accepted, then closed 4403, and each spends a point.
    for (let guess = 0; guess < CONNECTS; guess++) {
      const attempt = await connect("203.0.113.66", { bearer: `stw_guess${guess}` });
      if (attempt.kind !== "open") throw new Error(`guess ${guess} refused before the limit`);
      expect(await attempt.closeCode).toBe(4403);
    }
    // Over the rate, even valid credentials are refused before the handshake.
    const limited = expectRefused(await connect("203.0.113.66", { cookie }));
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(limited.retryAfter)).toBeLessThanOrEqual(60);

    // Another address connects, with a session or with a token.
    await signedIn("198.51.100.20", { cookie });
    await signedIn("198.51.100.21", { bearer: token });
    // The socket that was already open still answers.
    const pong = nextMessage(bystander, "pong");
    bystander.send(JSON.stringify({ type: "ping" }));
    await pong;
    expect(bystander.readyState).toBe(WebSocket.OPEN);
    // The flooder's HTTP requests have their own budget.
    const me = await fetch(`${api.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.66", cookie },
      body: JSON.stringify({ query: "{ me { email } }" }),
    });
    expect(me.status).toBe(200);
  });
});

describe("websockets open per address", () => {
  it("refuses a socket over the cap with 429 and Retry-After, and accepts one again when another closes", async () => {
    const open: WebSocket[] = [];
    for (let index = 0; index < OPEN_CAP; index++) open.push(await signedIn("203.0.113.77", { cookie }));

    const refused = expectRefused(await connect("203.0.113.77", { cookie }));
    expect(refused.retryAfter).toBe(String(OPEN_SOCKETS_RETRY_AFTER_SECONDS));
    // The cap is per address: another one still connects.
    await signedIn("203.0.113.78", { cookie });

    const closed = new Promise((resolve) => open[0]!.once("close", resolve));
    open[0]!.close();
    await closed;
    // The server counts the socket down when its TCP connection closes, just after the client's.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await signedIn("203.0.113.77", { cookie });
  });
});
