// The audit log page's state: the filter and the events read so far, a Relay page at a time.
import type { Client } from "@urql/core";
import type { ResultOf, VariablesOf } from "$lib/graphql.ts";
import type { LiveConnection } from "$lib/live.svelte.ts";
import { PagedQuery } from "$lib/paged-query.svelte.ts";
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
  /** The pages read so far: their `rows`, `loading`, `error`, `hasMore` and `loadMore()` are the page's. */
  readonly pages;
  #filter: AuditFilter | null = null;

  constructor(client: Client, live: LiveConnection, pageSize = 50) {
    this.pages = new PagedQuery({
      client,
      live,
      query: AuditEventsQuery,
      variables: (after) => ({ first: pageSize, after, filter: this.#filter }),
      connection: (data) => data.auditEvents,
    });
  }

  /** Reads the first page for this filter. */
  search(form: FilterForm): void {
    this.#filter = toFilter(form);
    this.pages.reload();
  }
}
