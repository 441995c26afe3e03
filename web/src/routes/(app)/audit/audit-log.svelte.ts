// The audit log page's state: the filter, the events read so far and the Relay cursor.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import type { ResultOf, VariablesOf } from "$lib/graphql.ts";
import { appendPage, nextPage } from "$lib/pages.ts";
import { AuditEventsQuery } from "./audit-operations.ts";

export type AuditEvent = ResultOf<typeof AuditEventsQuery>["auditEvents"]["edges"][number]["node"];
type AuditFilter = NonNullable<VariablesOf<typeof AuditEventsQuery>["filter"]>;

export interface FilterForm {
  action: string;
  actorId: string;
  targetType: string;
  targetId: string;
}

export const emptyFilter = (): FilterForm => ({ action: "", actorId: "", targetType: "", targetId: "" });

function toFilter(form: FilterForm): AuditFilter | null {
  const filter: AuditFilter = {};
  for (const key of ["action", "actorId", "targetType", "targetId"] as const) {
    const value = form[key].trim();
    if (value) filter[key] = value;
  }
  return Object.keys(filter).length > 0 ? filter : null;
}

export class AuditLog {
  events = $state<AuditEvent[]>([]);
  hasMore = $state(false);
  loading = $state(false);
  error = $state<string | null>(null);

  readonly #client: Client;
  readonly #pageSize: number;
  #filter: AuditFilter | null = null;
  #cursor: string | null = null;
  /** Ignores answers to a search that a newer one replaced. */
  #request = 0;

  constructor(client: Client, pageSize = 50) {
    this.#client = client;
    this.#pageSize = pageSize;
  }

  /** Reads the first page for this filter (always fresh). */
  async search(form: FilterForm): Promise<void> {
    this.#filter = toFilter(form);
    this.#cursor = null;
    await this.#fetch(true);
  }

  async loadMore(): Promise<void> {
    if (this.hasMore && !this.loading) await this.#fetch(false);
  }

  async #fetch(replace: boolean): Promise<void> {
    const request = ++this.#request;
    this.loading = true;
    const result = await this.#client
      .query(
        AuditEventsQuery,
        { first: this.#pageSize, after: this.#cursor, filter: this.#filter },
        { requestPolicy: "network-only" },
      )
      .toPromise();
    if (request !== this.#request) return;
    this.loading = false;
    if (result.error) {
      this.error = errorMessage(result.error);
      if (replace) this.events = [];
      this.hasMore = false;
      return;
    }
    const connection = result.data?.auditEvents;
    if (!connection) return;
    this.error = null;
    const page = connection.edges.map((edge) => edge.node);
    this.events = appendPage(replace ? [] : this.events, page);
    ({ hasMore: this.hasMore, cursor: this.#cursor } = nextPage(connection.pageInfo, this.#cursor, replace));
  }
}
