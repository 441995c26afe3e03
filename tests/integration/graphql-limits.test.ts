// Documents that ask for too much are refused before anything runs, over HTTP and graphql-ws:
// depth, aliases, directives, tokens, cost; batches are refused; production hides the schema
// (no introspection, no field suggestions). Every operation the dashboard sends still passes.
import { randomBytes } from "node:crypto";
import { type Client, createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { graphqlLimits } from "../../api/src/security/graphql-limits.ts";
import { startTestApi, type TestApi } from "../support/api.ts";
import { dashboardOperations } from "../support/dashboard-documents.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

let api: TestApi;
let production: TestApi;
let operatorCookie: string;
const clients: Client[] = [];

beforeAll(async () => {
  api = await startTestApi();
  production = await startTestApi({
    NODE_ENV: "production",
    STRIPE_API_KEY: "sk_test_steward_sandbox",
    STRIPE_WEBHOOK_SECRET: "whsec_steward_sandbox",
    NOTIFY_SECRET_KEY: randomBytes(32).toString("base64"),
  });
  await createOperator(api.database.db, "OPERATOR", "olive@test.example");
  operatorCookie = await api.loginCookie("olive@test.example", TEST_PASSWORD);
});
afterAll(async () => {
  for (const client of clients) await client.dispose();
  await api?.stop();
  await production?.stop();
});

interface Answer {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };
}

async function post(target: TestApi, body: unknown, cookie?: string): Promise<Answer> {
  const response = await fetch(`${target.url}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json",
      ...(cookie ? { cookie } : {}),
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer["body"] };
}

/** Runs one operation over graphql-ws as the signed-in operator and returns its first result. */
function overSocket(query: string): Promise<{ data?: unknown; errors?: readonly { message: string }[] }> {
  class CookieWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers: { cookie: operatorCookie } });
    }
  }
  const client = createClient({
    url: `${api.url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: CookieWebSocket,
    retryAttempts: 0,
  });
  clients.push(client);
  return new Promise((resolve, reject) => {
    const unsubscribe = client.subscribe<unknown>(
      { query },
      {
        next: (result) => {
          unsubscribe();
          resolve(result);
        },
        error: (error: unknown) =>
          Array.isArray(error)
            ? resolve({ errors: error as { message: string }[] })
            : reject(new Error(JSON.stringify(error))),
        complete: () => undefined,
      },
    );
  });
}

async function sessionStillValid(): Promise<boolean> {
  const me = await post(api, { query: "{ me { email } }" }, operatorCookie);
  return (me.body.data?.me as { email?: string } | null)?.email === "olive@test.example";
}

// Region → activePlacements → business → region … is a cycle in the schema.
const deepQuery = (levels: number): string => {
  let selection = "name";
  for (let level = 0; level < levels; level++) selection = `activePlacements { business { region { ${selection} } } }`;
  return `{ regions { ${selection} } }`;
};

describe("document limits over HTTP", () => {
  it("refuses a query nested deeper than the limit with 400 and no data", async () => {
    const result = await post(api, { query: deepQuery(3) }, operatorCookie);
    expect(result.status).toBe(400);
    expect(result.body.data).toBeUndefined();
    expect(result.body.errors?.[0]?.message).toMatch(
      new RegExp(`Query depth limit of ${graphqlLimits.maxDepth} exceeded`),
    );
  });

  it("refuses too many aliases, and none of the aliased mutations runs", async () => {
    const aliases = Array.from({ length: graphqlLimits.maxAliases + 1 }, (_, index) => `out${index}: logout`).join(" ");
    const result = await post(api, { query: `mutation { ${aliases} }` }, operatorCookie);
    expect(result.status).toBe(400);
    expect(result.body.errors?.[0]?.message).toMatch(/Aliases limit of \d+ exceeded/);
    expect(await sessionStillValid()).toBe(true);
  });

  it("refuses too many directives", async () => {
    const fields = Array.from({ length: graphqlLimits.maxDirectives + 1 }, () => "__typename @include(if: true)").join(
      " ",
    );
    const result = await post(api, { query: `{ ${fields} }` }, operatorCookie);
    expect(result.status).toBe(400);
    expect(result.body.errors?.[0]?.message).toMatch(/Directives limit of \d+ exceeded/);
  });

  it("refuses a document with more tokens than the limit before parsing it all", async () => {
    const result = await post(api, { query: `{ ${"__typename ".repeat(graphqlLimits.maxTokens)} }` }, operatorCookie);
    expect(result.status).toBe(400);
    expect(result.body.errors?.[0]?.message).toMatch(/Token limit of \d+ exceeded/);
  });

  it("refuses a query within the depth limit whose cost is over the limit", async () => {
    const wide = "name ".repeat(500);
    const query = `{ regions { activePlacements { business { region { queue { business { ${wide} } } } } } } }`;
    const result = await post(api, { query }, operatorCookie);
    expect(result.status).toBe(400);
    expect(result.body.errors?.[0]?.message).toMatch(/Query Cost limit of \d+ exceeded/);
  });

  it("refuses a batch (an array of operations), running none of them", async () => {
    const response = await fetch(`${api.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: operatorCookie },
      body: JSON.stringify([{ query: "mutation { logout }" }, { query: "{ me { email } }" }]),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await sessionStillValid()).toBe(true);
  });
});

describe("refusals over HTTP follow the GraphQL-over-HTTP spec", () => {
  // A client asking for application/graphql-response+json gets the status the spec gives a
  // request that cannot be executed (400); a legacy application/json client gets 200 with the
  // errors, as the spec says for that media type. Either way nothing runs and no data comes back.
  it.each([
    ["application/graphql-response+json", 400],
    ["application/json", 200],
  ] as const)("with Accept: %s a refused document answers %i", async (accept, status) => {
    const aliases = Array.from({ length: graphqlLimits.maxAliases + 1 }, (_, index) => `out${index}: logout`).join(" ");
    for (const query of [deepQuery(3), `mutation { ${aliases} }`]) {
      const response = await fetch(`${api.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", accept, cookie: operatorCookie },
        body: JSON.stringify({ query }),
      });
      expect(response.status).toBe(status);
      expect(response.headers.get("content-type")).toContain(accept);
      const body = (await response.json()) as Answer["body"];
      expect(body.data).toBeUndefined();
      expect(body.errors?.[0]?.message).toMatch(/limit of \d+ exceeded/);
    }
    expect(await sessionStillValid()).toBe(true);
  });
});

describe("document limits over graphql-ws", () => {
  it("applies the same limits to operations sent over the socket", async () => {
    const deep = await overSocket(deepQuery(3));
    expect(deep.errors?.[0]?.message).toMatch(/Query depth limit/);
    const aliases = Array.from({ length: graphqlLimits.maxAliases + 1 }, (_, index) => `me${index}: me { id }`).join(
      " ",
    );
    const aliased = await overSocket(`{ ${aliases} }`);
    expect(aliased.errors?.[0]?.message).toMatch(/Aliases limit/);
    const tokens = await overSocket(`{ ${"__typename ".repeat(graphqlLimits.maxTokens)} }`);
    expect(tokens.errors?.[0]?.message).toMatch(/Token limit/);
    // A normal query over the socket still answers.
    const me = await overSocket("{ me { email } }");
    expect(me).toEqual({ data: { me: { email: "olive@test.example" } } });
  });
});

describe("the dashboard's own operations", () => {
  const operations = dashboardOperations();

  it("are all found in web/src", () => {
    expect(operations.length).toBeGreaterThanOrEqual(25);
    expect(operations.map((operation) => operation.kind)).toEqual(
      expect.arrayContaining(["query", "mutation", "subscription"]),
    );
  });

  it.each(
    operations
      .filter((operation) => operation.kind !== "subscription")
      .map((operation) => [operation.name, operation] as const),
  )("%s passes every document limit", async (_name, operation) => {
    // Anonymously, so nothing the dashboard's mutations do can happen: the limits run first,
    // then the call is refused as UNAUTHENTICATED (or for its missing variables).
    const result = await post(api, { query: operation.source });
    const refused = (result.body.errors ?? []).filter((error) =>
      ["GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"].includes(error.extensions?.code ?? ""),
    );
    expect(refused.map((error) => error.message)).toEqual([]);
  });

  it.each(
    operations
      .filter((operation) => operation.kind === "subscription")
      .map((operation) => [operation.name, operation] as const),
  )("%s subscribes over graphql-ws within the limits", async (_name, operation) => {
    const outcome = await Promise.race([
      overSocket(operation.source),
      new Promise<"listening">((resolve) => setTimeout(() => resolve("listening"), 500)),
    ]);
    // Refused documents answer at once with errors; an accepted subscription just waits for events.
    expect(outcome).toBe("listening");
  });
});

describe("production mode", () => {
  it("refuses introspection in production and answers it in development", async () => {
    const query = "{ __schema { queryType { name } } }";
    const refused = await post(production, { query });
    expect(refused.status).toBe(400);
    expect(refused.body.errors?.[0]?.message).toMatch(/introspection/i);
    const typeProbe = await post(production, { query: `{ __type(name: "Review") { fields { name } } }` });
    expect(typeProbe.status).toBe(400);
    expect(JSON.stringify(typeProbe.body)).not.toContain("aiConfidence");

    const answered = await post(api, { query });
    expect(answered.body).toEqual({ data: { __schema: { queryType: { name: "Query" } } } });
  });

  it("does not suggest field names in production", async () => {
    const production_ = await post(production, { query: "{ revie { id } }" });
    expect(production_.status).toBe(400);
    expect(JSON.stringify(production_.body)).not.toMatch(/Did you mean|reviews/);
    const development = await post(api, { query: "{ revie { id } }" });
    expect(JSON.stringify(development.body)).toMatch(/Did you mean/);
  });

  it("keeps CSRF prevention on in production", async () => {
    const response = await fetch(`${production.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ query: "{ me { email } }" }),
    });
    expect(response.status).toBe(403);
  });
});
