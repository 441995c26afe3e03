// Search events the marketplace sends (scope searches:write), for the search-volume metric. They
// are telemetry, not a change to anyone's data, so they are not written to the audit log (which
// would otherwise grow by every search); the token that sent each one is kept for the weekly
// checkup's "one token calling far above its usual rate".
import type { SearchEvent } from "@steward/db/client";
import { type Actor, actorLabel } from "./actor.ts";
import { ForbiddenActionError, InvalidInputError, NotFoundError } from "./errors.ts";
import { isUuid } from "./ids.ts";
import { SEARCH_MAX_AGE_MS } from "./metrics.ts";
import { tokenHasScope } from "./permissions.ts";
import type { CoreDeps } from "./deps.ts";

const CLOCK_SKEW_MS = 5 * 60_000;
export const MAX_QUERY_LENGTH = 500;

export interface SearchInput {
  query: string;
  resultCount: number;
  /** The region searched in: its id or slug; omitted for searches across all regions. */
  region?: string | null;
  /** When the visitor searched; defaults to now. At most a day ago (the rollup re-reads 2 days). */
  occurredAt?: Date | null;
}

export async function recordSearch(
  deps: Pick<CoreDeps, "db" | "clock">,
  actor: Actor,
  input: SearchInput,
): Promise<SearchEvent> {
  const { db } = deps;
  const now = deps.clock();
  if (actor.kind !== "SYSTEM" && !tokenHasScope(actor, "searches:write"))
    throw new ForbiddenActionError("This token needs the 'searches:write' scope");
  // PostgreSQL text cannot hold NUL: refuse it here rather than fail in the database.
  if (input.query.includes("\u0000") || input.region?.includes("\u0000"))
    throw new InvalidInputError(
      "Text must not contain NUL characters",
      input.query.includes("\u0000") ? "query" : "region",
    );
  const query = input.query.trim();
  if (query.length > MAX_QUERY_LENGTH)
    throw new InvalidInputError(`The query is longer than ${MAX_QUERY_LENGTH} characters`, "query");
  if (!Number.isSafeInteger(input.resultCount) || input.resultCount < 0)
    throw new InvalidInputError("resultCount must be a whole number, 0 or more", "resultCount");
  const occurredAt = input.occurredAt ?? now;
  if (occurredAt.getTime() > now.getTime() + CLOCK_SKEW_MS)
    throw new InvalidInputError("occurredAt is in the future", "occurredAt");
  if (occurredAt.getTime() < now.getTime() - SEARCH_MAX_AGE_MS)
    throw new InvalidInputError("occurredAt is more than a day ago; send searches as they happen", "occurredAt");
  let regionId: string | null = null;
  if (input.region) {
    const region = isUuid(input.region)
      ? await db.region.findUnique({ where: { id: input.region }, select: { id: true } })
      : await db.region.findUnique({ where: { slug: input.region }, select: { id: true } });
    if (!region) throw new NotFoundError("Region", input.region);
    regionId = region.id;
  }
  return db.searchEvent.create({
    data: {
      query,
      resultCount: input.resultCount,
      regionId,
      occurredAt,
      source: actorLabel(actor),
      apiTokenId: actor.kind === "API_TOKEN" ? actor.id : null,
    },
  });
}
