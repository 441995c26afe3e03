// API tokens for integrations (ADMIN): list, create (the secret is shown once), revoke.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import type { ResultOf, VariablesOf } from "$lib/graphql.ts";
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
  tokens = $state<ApiToken[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  /** The secret of the token just created; shown once, never stored elsewhere. */
  createdSecret = $state<{ name: string; token: string } | null>(null);
  createError = $state<string | null>(null);
  revokeError = $state<string | null>(null);
  busy = $state(false);

  readonly #client: Client;

  constructor(client: Client) {
    this.#client = client;
  }

  async load(): Promise<void> {
    const result = await this.#client
      .query(ApiTokensQuery, { first: 100 }, { requestPolicy: "network-only" })
      .toPromise();
    this.loading = false;
    if (result.error) {
      this.error = errorMessage(result.error);
      return;
    }
    this.error = null;
    this.tokens = result.data?.apiTokens.edges.map((edge) => edge.node) ?? [];
  }

  /** Resolves true when the token was created. */
  async create(name: string, scopes: Scope[]): Promise<boolean> {
    this.busy = true;
    this.createError = null;
    this.createdSecret = null;
    const result = await this.#client.mutation(CreateApiTokenMutation, { name, scopes }).toPromise();
    this.busy = false;
    const outcome = result.data?.createApiToken;
    if (result.error) this.createError = errorMessage(result.error);
    else if (!outcome) this.createError = "The API returned no answer. Try again.";
    else if (outcome.__typename !== "MutationCreateApiTokenSuccess") this.createError = outcome.message;
    else {
      this.createdSecret = { name, token: outcome.data.token };
      await this.load();
      return true;
    }
    return false;
  }

  async revoke(id: string): Promise<void> {
    this.busy = true;
    this.revokeError = null;
    const result = await this.#client.mutation(RevokeApiTokenMutation, { id }).toPromise();
    this.busy = false;
    const outcome = result.data?.revokeApiToken;
    if (result.error) this.revokeError = errorMessage(result.error);
    else if (!outcome) this.revokeError = "The API returned no answer. Try again.";
    else if (outcome.__typename !== "MutationRevokeApiTokenSuccess") this.revokeError = outcome.message;
    await this.load();
  }

  dismissSecret(): void {
    this.createdSecret = null;
  }
}
