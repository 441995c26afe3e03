// A one-shot read answers with one outcome, as a mutation does: the data, or why there is none.
import { type Client, CombinedError, gql } from "@urql/core";
import { describe, expect, it } from "vitest";
import { readOnce } from "./live-query.svelte.ts";
import { NO_ANSWER } from "./mutation.ts";

interface Count {
  bulkApprovableCount: number;
}

const CountQuery = gql<Count, { threshold: number }>`
  query Count($threshold: Float!) {
    bulkApprovableCount(threshold: $threshold)
  }
`;

/** A client whose query answers `answer`, recording the request policy each read asked for. */
function clientAnswering(answer: { data?: Count; error?: CombinedError }): { client: Client; policies: string[] } {
  const policies: string[] = [];
  const fake = {
    query: (_query: unknown, _variables: unknown, context: { requestPolicy: string }) => {
      policies.push(context.requestPolicy);
      return { toPromise: () => Promise.resolve(answer) };
    },
  };
  return { client: fake as unknown as Client, policies };
}

describe("readOnce", () => {
  it("gives the data, always read from the network", async () => {
    const { client, policies } = clientAnswering({ data: { bulkApprovableCount: 7 } });
    expect(await readOnce(client, CountQuery, { threshold: 0.9 })).toEqual({
      ok: true,
      data: { bulkApprovableCount: 7 },
    });
    expect(policies).toEqual(["network-only"]);
  });

  it("gives a top-level error's message", async () => {
    const { client } = clientAnswering({ error: new CombinedError({ graphQLErrors: [{ message: "Not allowed" }] }) });
    const outcome = await readOnce(client, CountQuery, { threshold: 0.9 });
    expect(outcome.ok ? null : outcome.message).toContain("Not allowed");
  });

  it("says so when there is no answer", async () => {
    const { client } = clientAnswering({});
    expect(await readOnce(client, CountQuery, { threshold: 0.9 })).toEqual({ ok: false, message: NO_ANSWER });
  });
});
