// API tokens for integrations (ADMIN): list, create (the secret is shown once), revoke.
import type { Client } from "@urql/core";
import type { ResultOf, VariablesOf } from "$lib/graphql.ts";
import { LiveQuery } from "$lib/live-query.svelte.ts";
import type { LiveConnection } from "$lib/live.svelte.ts";
import { runMutation } from "$lib/mutation.ts";
import { ApiTokensQuery, CreateApiTokenMutation, RevokeApiTokenMutation } from "./api-token-operations.ts";

export type ApiToken = ResultOf<typeof ApiTokensQuery>["apiTokens"]["edges"][number]["node"];
export type Scope = VariablesOf<typeof CreateApiTokenMutation>["scopes"][number];

/** The scopes an integration can be given, as the API names them in the token. */
export const scopeChoices: { value: Scope; label: string }[] = [
  { value: "READ", label: "read" },
  { value: "REVIEWS_WRITE", label: "reviews:write" },
  { value: "REFUNDS_WRITE", label: "refunds:write" },
  { value: "SEARCHES_WRITE", label: "searches:write" },
  { value: "ALERTS_READ", label: "alerts:read" },
  { value: "ALERTS_WRITE", label: "alerts:write" },
  { value: "METRICS_READ", label: "metrics:read (also GET /metrics)" },
  { value: "CATALOG_WRITE", label: "catalog:write" },
];

export class ApiTokens {
  /** The secret of the token just created; shown once, never stored elsewhere. */
  createdSecret = $state<{ name: string; token: string } | null>(null);
  createError = $state<string | null>(null);
  revokeError = $state<string | null>(null);
  busy = $state(false);

  readonly #client: Client;
  /** The read itself: its `loading`, `error` and `start()` are the page's. */
  readonly query;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.query = new LiveQuery({ client, live, query: ApiTokensQuery, variables: () => ({ first: 100 }) });
  }

  get tokens(): ApiToken[] {
    return this.query.data?.apiTokens.edges.map((edge) => edge.node) ?? [];
  }

  /** Resolves true when the token was created. */
  async create(name: string, scopes: Scope[]): Promise<boolean> {
    this.busy = true;
    this.createError = null;
    this.createdSecret = null;
    const outcome = await runMutation(
      this.#client,
      CreateApiTokenMutation,
      { name, scopes },
      (data) => data.createApiToken,
    );
    this.busy = false;
    if (!outcome.ok) {
      this.createError = outcome.message;
      return false;
    }
    this.createdSecret = { name, token: outcome.data.token };
    // A new token joins the list.
    await this.query.refetchNow();
    return true;
  }

  async revoke(id: string): Promise<void> {
    this.busy = true;
    this.revokeError = null;
    const outcome = await runMutation(this.#client, RevokeApiTokenMutation, { id }, (data) => data.revokeApiToken);
    this.busy = false;
    if (!outcome.ok) this.revokeError = outcome.message;
    await this.query.refetchNow();
  }

  dismissSecret(): void {
    this.createdSecret = null;
  }
}
