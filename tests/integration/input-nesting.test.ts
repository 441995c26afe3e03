// Variables nested far deeper than any input needs (a 40 kB body of "[[[[…" or {"a":{"a":…}}):
// every check that walks the variables recursively (storable text, the list cost, graphql-js's
// coercion) would overflow the stack and answer 500. They are refused first, with a typed 400,
// over HTTP and over the socket, signed in or not.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

let api: TestApi;
let cookie: string;
beforeAll(async () => {
  api = await startTestApi();
  await createOperator(api.database.db, "OPERATOR", "olive@test.example");
  cookie = await api.loginCookie("olive@test.example", TEST_PASSWORD);
});
afterAll(async () => {
  await api?.stop();
});

const NODES = "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }";
/** Written out as text: JSON.stringify would recurse as deep as the value. */
const nested = (depth: number): string[] => [
  "[".repeat(depth) + "]".repeat(depth),
  '{"a":'.repeat(depth) + "1" + "}".repeat(depth),
];

describe("variables nested too deep", () => {
  it("are refused over HTTP with a typed 400, never a 500, signed in or not", async () => {
    for (const depth of [100, 20_000, 200_000]) {
      for (const value of nested(depth)) {
        for (const headers of [{ cookie }, {}] as Record<string, string>[]) {
          const response = await fetch(`${api.url}/graphql`, {
            method: "POST",
            headers: { "content-type": "application/json", ...headers },
            body: `{"query":${JSON.stringify(NODES)},"variables":{"ids":${value}}}`,
          });
          const body = (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
          expect(response.status).toBe(400);
          expect(body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
          expect(body.errors?.[0]?.message).toMatch(/nested/);
        }
      }
    }
    expect((await api.graphql<{ me: unknown }>("{ me { email } }", {}, { cookie })).data?.me).toBeTruthy();
  });

  it("are refused over the socket with the same error, and the socket stays usable", async () => {
    // Raw frames: graphql-ws's client would JSON.stringify the variables, recursing as deep.
    const socket = new WebSocket(`${api.url.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws", {
      headers: { cookie },
    });
    const messages: Record<string, unknown>[] = [];
    socket.on("message", (data: Buffer) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>));
    await new Promise((resolve) => socket.once("open", resolve));
    socket.send(JSON.stringify({ type: "connection_init", payload: {} }));
    await expect.poll(() => messages.some((message) => message.type === "connection_ack")).toBe(true);
    socket.send(
      `{"id":"deep","type":"subscribe","payload":{"query":${JSON.stringify(NODES)},"variables":{"ids":${nested(20_000)[1]!}}}}`,
    );
    await expect.poll(() => messages.find((message) => message.id === "deep")).toBeTruthy();
    expect(JSON.stringify(messages.find((message) => message.id === "deep"))).toContain("BAD_USER_INPUT");
    socket.send(JSON.stringify({ id: "me", type: "subscribe", payload: { query: "{ me { email } }" } }));
    await expect
      .poll(() => messages.find((message) => message.id === "me" && message.type === "next"))
      .toEqual({
        id: "me",
        type: "next",
        payload: { data: { me: { email: "olive@test.example" } } },
      });
    expect(socket.readyState).toBe(WebSocket.OPEN);
    socket.close();
  });
});
