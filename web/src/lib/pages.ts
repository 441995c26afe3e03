// Relay pages read one after another into one list (the Reviews queue, the audit log).

/** The rows of `page` added to `rows`: a row already listed is replaced in its place, not repeated. */
export function appendPage<Row extends { id: string }>(rows: readonly Row[], page: readonly Row[]): Row[] {
  const index = new Map(rows.map((row, position) => [row.id, position]));
  const next = [...rows];
  for (const row of page) {
    const position = index.get(row.id);
    if (position === undefined) {
      index.set(row.id, next.length);
      next.push(row);
    } else next[position] = row;
  }
  return next;
}

/**
 * Where the next page starts and whether there is one. A cursor that does not move on would
 * return the same page forever, so a next page with the same cursor is not offered.
 */
export function nextPage(
  pageInfo: { hasNextPage: boolean; endCursor?: string | null },
  previousCursor: string | null,
  replaced: boolean,
): { hasMore: boolean; cursor: string | null } {
  const cursor = pageInfo.endCursor ?? null;
  return { hasMore: pageInfo.hasNextPage && cursor !== null && (replaced || cursor !== previousCursor), cursor };
}
