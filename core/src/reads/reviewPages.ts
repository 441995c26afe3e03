// The review queue's page and count, and a business's published reviews, as one hand-written
// statement each (issue 17): these are the dashboard's and the integrations' hottest reads, and
// through Prisma each cost several times the statement itself. The filter is the queue's filter
// (../reviews.ts reviewWhere is its Prisma twin, used by bulk decisions); the equivalence test
// (tests/integration/hot-reads.test.ts) holds the two to the same rows for random filters.
import type { Prisma, Review } from "@steward/db/client";
import type { CoreDeps } from "../deps.ts";
import { isUuid } from "../ids.ts";
import {
  MAX_SEARCH_LENGTH,
  type ReviewQuery,
  type ReviewSort,
  reviewWhere,
  withSearchBusinesses,
  REVIEW_SORTS,
} from "../reviews.ts";
import { literalLike } from "../text.ts";
import { InvalidInputError } from "../errors.ts";
import { forwardWindow, fromJson, type JsonRow, operatorJson, Params, type PageWindow, requested } from "./rows.ts";

export interface ReviewPageQuery extends Omit<PageWindow, "cursor"> {
  include?: Prisma.ReviewInclude;
  select?: Prisma.ReviewSelect;
  cursor?: Prisma.ReviewWhereUniqueInput;
}

type ReadDeps = Pick<CoreDeps, "db" | "sql">;

/** Orders a keyset can follow from the cursor's row (the other sorts page through Prisma after page one). */
const KEYSET_SORTS: Partial<Record<ReviewSort, { after: string }>> = {
  // The `createdAt` bound on its own starts the range scan of Review(status, createdAt, id) at the cursor.
  OLDEST: { after: `r."createdAt" >= c."createdAt" AND (r."createdAt", r.id) > (c."createdAt", c.id)` },
  NEWEST: { after: `r."createdAt" <= c."createdAt" AND (r."createdAt", r.id) < (c."createdAt", c.id)` },
};

const FIRST_PAGE_ORDER: Record<ReviewSort, string> = {
  OLDEST: `r."createdAt", r.id`,
  NEWEST: `r."createdAt" DESC, r.id DESC`,
  CONFIDENCE_ASC: `r."aiConfidence" ASC NULLS LAST, r.id`,
  CONFIDENCE_DESC: `r."aiConfidence" DESC NULLS LAST, r.id`,
  RATING_ASC: `r.rating, r."createdAt", r.id`,
  RATING_DESC: `r.rating DESC, r."createdAt", r.id`,
};

/** The queue's filter as SQL over `r` (Review); null when it can match nothing. */
function filterSql(filter: ReviewQuery | null | undefined, params: Params): string | null {
  const search = filter?.search?.trim() ?? "";
  if (search.length > MAX_SEARCH_LENGTH)
    throw new InvalidInputError(`Search for at most ${MAX_SEARCH_LENGTH} characters`, "search");
  const { minConfidence, maxConfidence, businessId, regionId } = filter ?? {};
  if (minConfidence != null && maxConfidence != null && minConfidence > maxConfidence)
    throw new InvalidInputError("The minimum confidence is above the maximum", "minConfidence");
  // A malformed id names no row (Prisma would fail the cast instead).
  if ((businessId && !isUuid(businessId)) || (regionId && !isUuid(regionId))) return null;
  const conditions = [`r.status = ${params.add(filter?.status ?? "PENDING", `"ReviewStatus"`)}`];
  if (minConfidence != null) conditions.push(`r."aiConfidence" >= ${params.add(minConfidence, "float8")}`);
  if (maxConfidence != null) conditions.push(`r."aiConfidence" <= ${params.add(maxConfidence, "float8")}`);
  if (businessId) conditions.push(`r."businessId" = ${params.add(businessId, "uuid")}`);
  if (regionId)
    conditions.push(
      `EXISTS (SELECT 1 FROM "Business" rb WHERE rb.id = r."businessId" AND rb."regionId" = ${params.add(regionId, "uuid")})`,
    );
  if (filter?.suggestedOnly) conditions.push(`r."suggestedReason" IS NOT NULL`);
  if (search) {
    // The words as they are (trigram-indexed ILIKE), as reviewWhere's `contains`.
    const pattern = params.add(`%${literalLike(search)}%`);
    // The businesses the words name, looked up first (withSearchBusinesses) and passed as values, so the
    // planner sees how few they are and takes the indexed OR (body trigram index, businessId index);
    // as a subquery it could not, and walked the whole queue in order for a rare word (1.2 s at 1M).
    conditions.push(
      filter?.searchBusinessIds
        ? `(r.body ILIKE ${pattern} OR r."businessId" = ANY(${params.add(filter.searchBusinessIds, "uuid[]")}))`
        : `(r.body ILIKE ${pattern} OR r."businessId" IN (SELECT id FROM "Business" WHERE name ILIKE ${pattern}))`,
    );
  }
  return conditions.join(" AND ");
}

/** Whether a Pothos query asks for the business's region too (`business: { include: { region: true } }`). */
function requestsBusinessRegion(query: ReviewPageQuery): boolean {
  const business = (query.include ?? query.select ?? {}).business;
  return typeof business === "object" && business !== null && requested(business, "region");
}

/** The review's columns and only the relations the query asks for (an integration's page wants its business alone). */
function reviewColumns(query: ReviewPageQuery): string {
  const columns = [`r.*`];
  if (requested(query, "business")) columns.push(`to_jsonb(b) AS business`);
  if (requestsBusinessRegion(query)) columns.push(`to_jsonb(g) AS region`);
  if (requested(query, "moderator")) columns.push(`${operatorJson("m")} AS moderator`);
  if (requested(query, "scores"))
    columns.push(`(SELECT coalesce(jsonb_agg(to_jsonb(s) ORDER BY s."createdAt", s.id), '[]')
        FROM "ReviewScore" s WHERE s."reviewId" = r.id) AS scores`);
  if (requested(query, "decisions"))
    columns.push(`(SELECT coalesce(jsonb_agg(to_jsonb(d) || jsonb_build_object('actor', ${operatorJson("a")})
                 ORDER BY d."createdAt", d.id), '[]')
        FROM "ReviewDecision" d LEFT JOIN "Operator" a ON a.id = d."actorId" WHERE d."reviewId" = r.id) AS decisions`);
  return columns.join(",\n  ");
}

const REVIEW_JOINS = `FROM "Review" r
  JOIN "Business" b ON b.id = r."businessId"
  JOIN "Region" g ON g.id = b."regionId"
  LEFT JOIN "Operator" m ON m.id = r."moderatorId"`;

type RawReview = Review & {
  business?: JsonRow;
  region?: JsonRow;
  moderator?: JsonRow | null;
  scores?: JsonRow[];
  decisions?: JsonRow[];
};

/** A statement's row as Prisma returns a review with the relations asked for: business (and region), moderator, scores, decisions. */
function toReview(row: RawReview): Review {
  const { region, ...rest } = row;
  const review = rest as JsonRow;
  if (row.business) {
    const business = fromJson<JsonRow>(row.business, "Business");
    if (region) business.region = fromJson(region, "Region");
  }
  if (row.moderator) fromJson(row.moderator, "Operator");
  if (row.scores) for (const score of row.scores) fromJson(score, "ReviewScore");
  if (row.decisions)
    for (const decision of row.decisions) {
      fromJson(decision, "ReviewDecision");
      if (decision.actor) fromJson(decision.actor, "Operator");
    }
  return review as unknown as Review;
}

/**
 * The moderation queue's page: one statement with every relation the dashboard shows. Backward
 * pages and cursors of the sorts a keyset cannot follow go through Prisma (`reviewWhere`).
 */
export async function reviewQueuePage(
  deps: ReadDeps,
  query: ReviewPageQuery,
  filter: ReviewQuery | null | undefined,
  sort: ReviewSort = "OLDEST",
): Promise<Review[]> {
  const window = forwardWindow(query);
  const keyset = KEYSET_SORTS[sort];
  if (!window || (window.after && !keyset)) {
    return deps.db.review.findMany({ ...query, where: reviewWhere(filter), orderBy: REVIEW_SORTS[sort] });
  }
  const params = new Params();
  const where = filterSql(await withSearchBusinesses(deps.db, filter), params);
  if (where === null) return [];
  // An unknown cursor joins no row: an empty page, as Prisma answers one.
  const cursor = window.after
    ? `, (SELECT id, "createdAt" FROM "Review" WHERE id = ${params.add(window.after, "uuid")}) c`
    : "";
  const after = window.after && keyset ? ` AND ${keyset.after}` : "";
  const rows = await deps.sql.rows<RawReview>(
    `SELECT ${reviewColumns(query)}
     ${REVIEW_JOINS}${cursor}
     WHERE ${where}${after}
     ORDER BY ${FIRST_PAGE_ORDER[sort]} LIMIT ${params.add(window.take, "int")}`,
    params.values,
  );
  return rows.map(toReview);
}

/** How many reviews match a filter (the list shows "N of M" instead of an endless "Load more"). */
export async function countReviews(deps: ReadDeps, filter: ReviewQuery | null | undefined): Promise<number> {
  const params = new Params();
  const where = filterSql(await withSearchBusinesses(deps.db, filter), params);
  if (where === null) return 0;
  const rows = await deps.sql.rows<{ n: number }>(
    `SELECT count(*)::int AS n FROM "Review" r WHERE ${where}`,
    params.values,
  );
  return rows[0]?.n ?? 0;
}

/** A business's approved reviews, newest first (what the marketplace shows): one statement. */
export async function publishedReviews(deps: ReadDeps, query: ReviewPageQuery, businessId: string): Promise<Review[]> {
  const window = forwardWindow(query);
  const where: Prisma.ReviewWhereInput = { businessId, status: "APPROVED" };
  if (!window) return deps.db.review.findMany({ ...query, where, orderBy: { id: "desc" } });
  if (!isUuid(businessId) || (window.after && !isUuid(window.after))) return [];
  const params = new Params();
  const business = params.add(businessId, "uuid");
  // After a cursor naming no review, nothing (as Prisma answers).
  const cursor = window.after ? params.add(window.after, "uuid") : "";
  const after = cursor ? ` AND r.id < ${cursor} AND EXISTS (SELECT 1 FROM "Review" WHERE id = ${cursor})` : "";
  const rows = await deps.sql.rows<RawReview>(
    `SELECT ${reviewColumns(query)}
     ${REVIEW_JOINS}
     WHERE r."businessId" = ${business} AND r.status = 'APPROVED'${after}
     ORDER BY r.id DESC LIMIT ${params.add(window.take, "int")}`,
    params.values,
  );
  return rows.map(toReview);
}
