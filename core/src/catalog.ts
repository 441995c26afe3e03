// The marketplace's catalog: regions and businesses are its data, keyed by its own ids
// (`externalId`). Integrations (token scope catalog:write), ADMINs and the `steward import`
// command write it through these functions only.
//
//   upsertRegion / upsertBusiness / archiveBusiness   one row, idempotent, audited
//   importCatalog                                     a whole file: every line validated; nothing
//                                                     stored from a file with errors unless the
//                                                     caller skips them. Valid rows are COPYed into
//                                                     the UNLOGGED CatalogImportRow staging table,
//                                                     then merged by one INSERT … ON CONFLICT DO
//                                                     UPDATE … WHERE changed (a re-import of an
//                                                     unchanged catalog writes nothing).
//
// A business arriving releases the Stripe charges that were held waiting for it
// (payments.ts, HoldReason BUSINESS_UNKNOWN): upsertBusiness and importCatalogReleasing queue them
// for the stripe-event job after their commit; the CLI's importCatalog leaves them to the
// stripe-event sweep (it has no queue).
import { randomUUID } from "node:crypto";
import { finished } from "node:stream/promises";
import { once } from "node:events";
import type { Business, Db, DbTx, Region } from "@steward/db/client";
import { z } from "zod";
import type { Actor } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { DomainError, ForbiddenActionError, InvalidInputError, NotFoundError } from "./errors.ts";
import { assertOperatorCan, tokenHasScope } from "./permissions.ts";
import type { CoreDeps } from "./deps.ts";
import { processReleasedStripeEvents } from "./followUps.ts";
import type { CopyIn, CopyInConnection } from "./ports/copyIn.ts";
import { type EffectDeps, inTransaction, withAfterCommit } from "./unitOfWork.ts";

/** The most rows one import takes. A bigger file is refused whole (split it, or raise this after measuring). */
export const CATALOG_IMPORT_MAX_ROWS = 500_000;
/** The most rows one GraphQL importCatalog call takes; bigger catalogs go through the CLI. */
export const CATALOG_GRAPHQL_MAX_ROWS = 5_000;
/** Errors listed in a report; the count covers them all. */
export const CATALOG_MAX_REPORTED_ERRORS = 1_000;

export const ARCHIVED_QUEUE_REASON = "Business archived by the marketplace: it left the queue";

// ───────────────────────────── Errors ─────────────────────────────

/** The upsert would move a business whose placement is active or queued in its current region. */
export class BusinessHasPlacementError extends DomainError {
  readonly code = "BUSINESS_HAS_PLACEMENT";
  constructor(
    readonly externalId: string,
    readonly regionExternalId: string,
  ) {
    super(
      `Business ${externalId} has an active or queued placement in its region; it cannot move to region ${regionExternalId} until the placement ends`,
    );
  }
}

/** The import found bad lines and was asked not to skip them: nothing was stored. */
export class CatalogImportRejectedError extends DomainError {
  readonly code = "CATALOG_IMPORT_REJECTED";
  constructor(readonly report: CatalogImportReport) {
    super(
      `${report.errorCount} bad line(s); nothing was stored (fix them, or import with skipInvalid to store the valid rows)`,
    );
  }
}

// ───────────────────────────── Who may write ─────────────────────────────

/** An integration with catalog:write, an ADMIN, or the system (the `steward import` command). */
export function assertCatalogWriter(actor: Actor): void {
  if (actor.kind === "API_TOKEN") {
    if (!tokenHasScope(actor, "catalog:write"))
      throw new ForbiddenActionError("This token needs the 'catalog:write' scope");
    return;
  }
  assertOperatorCan(actor, "administer");
}

// ───────────────────────────── Validation ─────────────────────────────

// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const CONTROL = /[\u0000-\u001f\u007f]/;
const externalIdSchema = z
  .string({ error: "missing" })
  .trim()
  .min(1, "is empty")
  .max(200, "is longer than 200 characters")
  .refine((value) => !CONTROL.test(value), "contains control characters");

export const catalogBusinessSchema = z.object({
  externalId: externalIdSchema,
  regionId: externalIdSchema,
  name: z
    .string({ error: "missing" })
    .trim()
    .min(1, "is empty")
    .max(200, "is longer than 200 characters")
    .refine((value) => !CONTROL.test(value), "contains control characters"),
  email: z.string({ error: "missing" }).trim().toLowerCase().pipe(z.email("is not an email address").max(320)),
});
export type CatalogBusinessInput = z.input<typeof catalogBusinessSchema>;
export type CatalogBusiness = z.output<typeof catalogBusinessSchema>;

const regionSchema = z.object({
  externalId: externalIdSchema,
  name: z.string().trim().min(1, "is empty").max(200, "is longer than 200 characters"),
});

function issuesText(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".") || "row"} ${issue.message}`).join("; ");
}

/** One business row, or why not (the message names the field). */
export function parseCatalogBusiness(
  input: unknown,
): { ok: true; row: CatalogBusiness } | { ok: false; reason: string } {
  const parsed = catalogBusinessSchema.safeParse(input);
  return parsed.success ? { ok: true, row: parsed.data } : { ok: false, reason: issuesText(parsed.error) };
}

function slugOf(externalId: string): string {
  const slug = externalId
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return slug || "region";
}

// ───────────────────────────── Regions ─────────────────────────────

export interface RegionUpsert {
  region: Region;
  created: boolean;
  changed: boolean;
}

/**
 * Creates or renames a region by the marketplace's id. A region of ours with the same slug and no
 * marketplace id yet (the demo's, or one made before the catalog was connected) is adopted rather
 * than duplicated. The price is not set here: that is an ADMIN's decision (setRegionPrice).
 */
export async function upsertRegion(
  deps: Pick<CoreDeps, "db">,
  actor: Actor,
  input: { externalId: string; name: string },
): Promise<RegionUpsert> {
  const { db } = deps;
  assertCatalogWriter(actor);
  const parsed = regionSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(
      `${String(issue?.path[0] ?? "input")} ${issue?.message ?? "is invalid"}`,
      String(issue?.path[0] ?? ""),
    );
  }
  const { externalId, name } = parsed.data;
  return db.$transaction(async (tx) => {
    const existing =
      (await tx.region.findUnique({ where: { externalId } })) ??
      (await tx.region.findFirst({ where: { slug: slugOf(externalId), externalId: null } }));
    if (existing) {
      if (existing.name === name && existing.externalId === externalId)
        return { region: existing, created: false, changed: false };
      const region = await tx.region.update({ where: { id: existing.id }, data: { name, externalId } });
      await recordAudit(tx, actor, {
        action: "catalog.region_updated",
        targetType: "Region",
        targetId: region.id,
        before: { name: existing.name, externalId: existing.externalId },
        after: { name, externalId },
      });
      return { region, created: false, changed: true };
    }
    let slug = slugOf(externalId);
    for (let suffix = 2; await tx.region.findUnique({ where: { slug }, select: { id: true } }); suffix++)
      slug = `${slugOf(externalId)}-${suffix}`;
    const region = await tx.region.create({ data: { externalId, name, slug } });
    await recordAudit(tx, actor, {
      action: "catalog.region_created",
      targetType: "Region",
      targetId: region.id,
      after: {
        externalId,
        name,
        slug,
        placementPriceCents: region.placementPriceCents,
        placementCurrency: region.placementCurrency,
      },
    });
    return { region, created: true, changed: true };
  });
}

// ───────────────────────────── Businesses ─────────────────────────────

export interface BusinessUpsert {
  business: Business;
  created: boolean;
  changed: boolean;
  /** Stripe events that were held for this business: queue them (stripeEventJobFor). */
  releasedEventIds: string[];
}

/** Held charges naming these businesses (by our id or the marketplace's) go back to be processed. */
async function releaseHeldEvents(tx: DbTx, refs: readonly string[]): Promise<string[]> {
  if (refs.length === 0) return [];
  const rows = await tx.$queryRaw<{ id: string }[]>`
    UPDATE "StripeWebhookEvent" SET status = 'RECEIVED', "lastError" = NULL
     WHERE status = 'HELD' AND "heldBusinessRef" = ANY(${refs as string[]}::text[])
 RETURNING id`;
  return rows.map((row) => row.id);
}

async function hasPlacementInPlay(tx: DbTx, businessId: string): Promise<boolean> {
  const found = await tx.placement.findFirst({
    where: { businessId, status: { in: ["ACTIVE", "QUEUED"] } },
    select: { id: true },
  });
  return found !== null;
}

/**
 * Creates or updates one business by the marketplace's id. Listing an archived business again
 * brings it back (ACTIVE). Moving a business whose placement is active or queued is refused.
 */
export async function upsertBusiness(
  deps: Pick<CoreDeps, "db"> & EffectDeps,
  actor: Actor,
  input: CatalogBusinessInput,
): Promise<BusinessUpsert> {
  assertCatalogWriter(actor);
  const parsed = catalogBusinessSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0] ?? "");
    throw new InvalidInputError(`${field || "input"} ${issue?.message ?? "is invalid"}`, field);
  }
  const row = parsed.data;
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
    const region = await tx.region.findUnique({ where: { externalId: row.regionId }, select: { id: true } });
    if (!region) throw new NotFoundError("Region", row.regionId);
    const existing = await tx.business.findUnique({ where: { externalId: row.externalId } });
    if (!existing) {
      const business = await tx.business.create({
        data: { externalId: row.externalId, regionId: region.id, name: row.name, email: row.email },
      });
      await recordAudit(tx, actor, {
        action: "catalog.business_created",
        targetType: "Business",
        targetId: business.id,
        after: { externalId: row.externalId, regionId: region.id, name: row.name, email: row.email },
      });
      const releasedEventIds = await releaseHeldEvents(tx, [row.externalId, business.id]);
      // If the queue is unreachable the events stay RECEIVED, where the stripe-event sweep finds them.
      processReleasedStripeEvents(unit, releasedEventIds);
      return { business, created: true, changed: true, releasedEventIds };
    }
    await tx.$queryRaw`SELECT id FROM "Business" WHERE id = ${existing.id}::uuid FOR UPDATE`;
    const moves = existing.regionId !== region.id;
    if (moves && (await hasPlacementInPlay(tx, existing.id)))
      throw new BusinessHasPlacementError(row.externalId, row.regionId);
    const unarchive = existing.status === "ARCHIVED";
    const changed = moves || unarchive || existing.name !== row.name || existing.email !== row.email;
    if (!changed) return { business: existing, created: false, changed: false, releasedEventIds: [] };
    const business = await tx.business.update({
      where: { id: existing.id },
      data: {
        regionId: region.id,
        name: row.name,
        email: row.email,
        ...(unarchive ? { status: "ACTIVE", archivedAt: null } : {}),
      },
    });
    await recordAudit(tx, actor, {
      action: "catalog.business_updated",
      targetType: "Business",
      targetId: business.id,
      before: { regionId: existing.regionId, name: existing.name, email: existing.email, status: existing.status },
      after: { regionId: business.regionId, name: business.name, email: business.email, status: business.status },
    });
    return { business, created: false, changed: true, releasedEventIds: [] };
  });
}

export interface BusinessArchive {
  business: Business;
  changed: boolean;
  /** Queued placements that left the queue (with ARCHIVED_QUEUE_REASON). */
  cancelledPlacementIds: string[];
}

/**
 * The business left the marketplace. Its reviews, payments and placements stay (history); its
 * queued placements leave the queue with a reason. An active placement runs its paid course.
 */
export async function archiveBusiness(
  deps: Pick<CoreDeps, "db" | "clock">,
  actor: Actor,
  input: { externalId: string },
): Promise<BusinessArchive> {
  const { db } = deps;
  const now = deps.clock();
  assertCatalogWriter(actor);
  const externalId = input.externalId.trim();
  if (!externalId) throw new InvalidInputError("externalId is empty", "externalId");
  return db.$transaction(async (tx) => {
    const found = await tx.business.findUnique({ where: { externalId } });
    if (!found) throw new NotFoundError("Business", externalId);
    if (found.status === "ARCHIVED") return { business: found, changed: false, cancelledPlacementIds: [] };
    // The region locks serialise this with purchases and the daily promotion (placements.ts).
    const regions = await tx.placement.findMany({
      where: { businessId: found.id, status: "QUEUED" },
      select: { regionId: true },
      distinct: ["regionId"],
    });
    for (const { regionId } of [...regions].sort((a, b) => a.regionId.localeCompare(b.regionId)))
      await tx.$queryRaw`SELECT id FROM "Region" WHERE id = ${regionId}::uuid FOR UPDATE`;
    const cancelled = await tx.$queryRaw<{ id: string }[]>`
      UPDATE "Placement" SET status = 'CANCELLED', "endedAt" = ${now}, "endReason" = ${ARCHIVED_QUEUE_REASON}
       WHERE "businessId" = ${found.id}::uuid AND status = 'QUEUED'
   RETURNING id`;
    const business = await tx.business.update({
      where: { id: found.id },
      data: { status: "ARCHIVED", archivedAt: now },
    });
    await recordAudit(tx, actor, {
      action: "catalog.business_archived",
      targetType: "Business",
      targetId: business.id,
      before: { status: found.status },
      after: { status: "ARCHIVED", externalId, cancelledPlacementIds: cancelled.map((row) => row.id) },
    });
    return { business, changed: true, cancelledPlacementIds: cancelled.map((row) => row.id) };
  });
}

// ───────────────────────────── Bulk import ─────────────────────────────

/** One line of a catalog file as the reader found it: fields, or why they could not be read. */
export type CatalogLine = { line: number; fields: Record<string, unknown> } | { line: number; error: string };

export interface CatalogLineError {
  line: number;
  externalId: string | null;
  reason: string;
}

export interface CatalogImportReport {
  /** Lines read (rows, not counting a CSV header). */
  total: number;
  valid: number;
  created: number;
  updated: number;
  unchanged: number;
  /** Bad lines left out (only with skipInvalid). */
  skipped: number;
  errorCount: number;
  /** The first CATALOG_MAX_REPORTED_ERRORS, in line order. */
  errors: CatalogLineError[];
  stored: boolean;
  releasedEventIds: string[];
  durationMs: number;
}

export interface CatalogImportDeps {
  db: Db;
  /** Stages the rows with COPY, on a connection of its own to the database `db` uses. */
  copyIn: CopyIn;
}

export interface CatalogImportOptions {
  skipInvalid?: boolean;
  maxRows?: number;
  /** Called as rows are read and stored (for a progress bar). */
  onProgress?: (progress: { phase: "validate" | "store"; done: number }) => void;
}

/**
 * importCatalog for a caller holding the process's deps (the GraphQL importCatalog): the held
 * Stripe events it released are queued for the stripe-event job after its commit.
 */
export function importCatalogReleasing(
  deps: CatalogImportDeps & EffectDeps,
  actor: Actor,
  lines: AsyncIterable<CatalogLine> | Iterable<CatalogLine>,
  options: CatalogImportOptions = {},
): Promise<CatalogImportReport> {
  return withAfterCommit(deps, async (effects) => {
    const report = await importCatalog(deps, actor, lines, options);
    processReleasedStripeEvents(effects, report.releasedEventIds);
    return report;
  });
}

const STAGE_COPY = `COPY "CatalogImportRow" ("importId", line, "externalId", "regionExternalId", name, email) FROM STDIN (FORMAT text)`;

/** A value in COPY's text format: backslash, tab, newline and carriage return escaped. */
export function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"))
    : value;
}

interface StagedRow extends CatalogBusiness {
  line: number;
}

/**
 * Imports a whole catalog of businesses. Every line is checked (fields, duplicate ids, unknown
 * regions, region moves of businesses with a placement in play, the row cap). With errors and
 * without skipInvalid it throws CatalogImportRejectedError and stores nothing; otherwise the valid
 * rows are merged in one transaction with one audit event.
 */
export async function importCatalog(
  deps: CatalogImportDeps,
  actor: Actor,
  lines: AsyncIterable<CatalogLine> | Iterable<CatalogLine>,
  options: CatalogImportOptions = {},
): Promise<CatalogImportReport> {
  assertCatalogWriter(actor);
  const started = Date.now();
  const maxRows = options.maxRows ?? CATALOG_IMPORT_MAX_ROWS;
  const errors: CatalogLineError[] = [];
  const rows: StagedRow[] = [];
  const firstLineOf = new Map<string, number>();
  const regionIds = new Map(
    (
      await deps.db.region.findMany({ where: { externalId: { not: null } }, select: { id: true, externalId: true } })
    ).map((region) => [region.externalId ?? "", region.id]),
  );
  let total = 0;
  for await (const entry of lines) {
    total++;
    if (total > maxRows) {
      // Reading on would only count; a 10-million-line file is refused without reading it all.
      errors.push({ line: entry.line, externalId: null, reason: `too many rows: the limit is ${maxRows} per import` });
      break;
    }
    if (total % 5_000 === 0) options.onProgress?.({ phase: "validate", done: total });
    if ("error" in entry) {
      errors.push({ line: entry.line, externalId: null, reason: entry.error });
      continue;
    }
    const candidate = entry.fields.externalId;
    const externalId = typeof candidate === "string" ? candidate.trim() || null : null;
    const parsed = parseCatalogBusiness(entry.fields);
    if (!parsed.ok) {
      errors.push({ line: entry.line, externalId, reason: parsed.reason });
      continue;
    }
    const row = parsed.row;
    const first = firstLineOf.get(row.externalId);
    if (first !== undefined) {
      errors.push({
        line: entry.line,
        externalId: row.externalId,
        reason: `duplicate id ${row.externalId} (first on line ${first})`,
      });
      continue;
    }
    firstLineOf.set(row.externalId, entry.line);
    if (!regionIds.has(row.regionId)) {
      errors.push({ line: entry.line, externalId: row.externalId, reason: `unknown region ${row.regionId}` });
      continue;
    }
    rows.push({ ...row, line: entry.line });
  }
  const tooMany = total > maxRows;

  const importId = randomUUID();
  const client = await deps.copyIn.connect();
  try {
    await stage(client, importId, rows, options);
    // Moves that would take a placement out of its region: checked in the database, set-based.
    const moves = await client.query<{ line: number; externalId: string; regionExternalId: string }>(
      `SELECT s.line, s."externalId", s."regionExternalId"
         FROM "CatalogImportRow" s
         JOIN "Business" b ON b."externalId" = s."externalId"
         JOIN "Region" r ON r."externalId" = s."regionExternalId"
        WHERE s."importId" = $1 AND b."regionId" <> r.id
          AND EXISTS (SELECT 1 FROM "Placement" p WHERE p."businessId" = b.id AND p.status IN ('ACTIVE', 'QUEUED'))`,
      [importId],
    );
    for (const move of moves.rows)
      errors.push({
        line: move.line,
        externalId: move.externalId,
        reason: new BusinessHasPlacementError(move.externalId, move.regionExternalId).message,
      });
    errors.sort((a, b) => a.line - b.line);
    const report = (
      stored: boolean,
      counts: { created: number; updated: number; unchanged: number },
      released: string[],
    ) => ({
      total: Math.min(total, maxRows + (tooMany ? 1 : 0)),
      valid: rows.length - moves.rows.length,
      ...counts,
      skipped: stored ? errors.length : 0,
      errorCount: errors.length,
      errors: errors.slice(0, CATALOG_MAX_REPORTED_ERRORS),
      stored,
      releasedEventIds: released,
      durationMs: Date.now() - started,
    });
    if (errors.length > 0 && (!options.skipInvalid || tooMany)) {
      throw new CatalogImportRejectedError(report(false, { created: 0, updated: 0, unchanged: 0 }, []));
    }
    if (moves.rows.length > 0)
      await client.query(`DELETE FROM "CatalogImportRow" WHERE "importId" = $1 AND line = ANY($2::int[])`, [
        importId,
        moves.rows.map((move) => move.line),
      ]);
    const merged = await deps.db.$transaction(
      async (tx) => {
        const changed = await tx.$queryRaw<{ inserted: boolean }[]>`
          INSERT INTO "Business" (id, "externalId", "regionId", name, email)
          SELECT uuid_generate_v7(), s."externalId", r.id, s.name, s.email
            FROM "CatalogImportRow" s JOIN "Region" r ON r."externalId" = s."regionExternalId"
           WHERE s."importId" = ${importId}::uuid
          ON CONFLICT ("externalId") DO UPDATE
             SET "regionId" = EXCLUDED."regionId", name = EXCLUDED.name, email = EXCLUDED.email,
                 status = CASE WHEN "Business".status = 'ARCHIVED' THEN 'ACTIVE'::"BusinessStatus" ELSE "Business".status END,
                 "archivedAt" = NULL
           WHERE ("Business"."regionId", "Business".name, "Business".email) IS DISTINCT FROM
                 (EXCLUDED."regionId", EXCLUDED.name, EXCLUDED.email)
              OR "Business".status = 'ARCHIVED'
          RETURNING (xmax = 0) AS inserted`;
        const created = changed.filter((row) => row.inserted).length;
        const updated = changed.length - created;
        const released = await tx.$queryRaw<{ id: string }[]>`
          UPDATE "StripeWebhookEvent" e SET status = 'RECEIVED', "lastError" = NULL
            FROM "CatalogImportRow" s
           WHERE e.status = 'HELD' AND s."importId" = ${importId}::uuid AND e."heldBusinessRef" = s."externalId"
       RETURNING e.id`;
        const counts = { created, updated, unchanged: rows.length - moves.rows.length - changed.length };
        await recordAudit(tx, actor, {
          action: "catalog.import",
          targetType: "Catalog",
          targetId: importId,
          after: { ...counts, skipped: errors.length, releasedEvents: released.length },
        });
        return { counts, released: released.map((row) => row.id) };
      },
      { timeout: 600_000 },
    );
    options.onProgress?.({ phase: "store", done: rows.length });
    return report(true, merged.counts, merged.released);
  } finally {
    await client.query(`DELETE FROM "CatalogImportRow" WHERE "importId" = $1`, [importId]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

async function stage(
  client: CopyInConnection,
  importId: string,
  rows: readonly StagedRow[],
  options: CatalogImportOptions,
) {
  const copy = client.copyIn(STAGE_COPY);
  let chunk = "";
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index] as StagedRow;
    chunk += `${importId}\t${row.line}\t${copyText(row.externalId)}\t${copyText(row.regionId)}\t${copyText(row.name)}\t${copyText(row.email)}\n`;
    if (chunk.length > 256 * 1024) {
      if (!copy.write(chunk)) await once(copy, "drain");
      chunk = "";
      options.onProgress?.({ phase: "store", done: index + 1 });
    }
  }
  if (chunk) copy.write(chunk);
  copy.end();
  await finished(copy);
}
