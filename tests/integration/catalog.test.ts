// The catalog comes from the marketplace: idempotent upserts keyed by its own ids (token scope
// catalog:write), archiving, the bulk import (GraphQL and `npm run steward -- import`) with every
// bad line reported and nothing half-stored, and a charge for a business not in the catalog yet
// held until the business arrives, then processed by itself.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { createApiToken } from "@steward/core/apiTokens";
import { pgCopyIn } from "@steward/core/adapters/pgCopy";
import { importCatalog } from "@steward/core/catalog";
import { readCatalogLines } from "@steward/core/catalogFile";
import { systemActor } from "@steward/core/actor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPaidPlacement, localId, type PaymentsStack, startPaymentsStack } from "./payments-stack.ts";
import { TEST_PASSWORD } from "../support/fixtures.ts";

let stack: PaymentsStack;
let catalogToken: string;
let adminCookie: string;

const UPSERT_REGION = `mutation ($externalId: String!, $name: String!) {
  upsertRegion(externalId: $externalId, name: $name) {
    __typename
    ... on MutationUpsertRegionSuccess { data { created changed region { id externalId name placementPriceCents placementCurrency } } }
    ... on Error { message }
  }
}`;
const UPSERT_BUSINESS = `mutation ($input: CatalogBusinessInput!) {
  upsertBusiness(input: $input) {
    __typename
    ... on MutationUpsertBusinessSuccess { data { created changed releasedCharges business { id externalId name } } }
    ... on BusinessHasPlacementError { externalId regionExternalId }
    ... on Error { message }
  }
}`;
const ARCHIVE = `mutation ($externalId: String!) {
  archiveBusiness(externalId: $externalId) {
    __typename
    ... on MutationArchiveBusinessSuccess { data { changed cancelledPlacements business { externalId } } }
    ... on Error { message }
  }
}`;
const IMPORT = `mutation ($rows: [CatalogBusinessInput!]!, $skipInvalid: Boolean) {
  importCatalog(rows: $rows, skipInvalid: $skipInvalid) {
    __typename
    ... on MutationImportCatalogSuccess { data { total valid created updated unchanged skipped errorCount stored errors { line externalId reason } } }
    ... on CatalogImportRejectedError { message report { total errorCount stored errors { line externalId reason } } }
    ... on Error { message }
  }
}`;

type Row = { externalId: string; regionId: string; name: string; email: string };
const row = (externalId: string, regionId = "north", name = `Trainer ${externalId}`): Row => ({
  externalId,
  regionId,
  name,
  email: `${externalId}@example.com`,
});

async function gql<T>(query: string, variables: Record<string, unknown>, auth: { bearer?: string; cookie?: string }) {
  const result = await stack.api.graphql<Record<string, T>>(query, variables, auth);
  expect(result.errors).toBeUndefined();
  return Object.values(result.data ?? {})[0] as T;
}

beforeAll(async () => {
  stack = await startPaymentsStack({ worker: true, webhooks: true });
  const admin = await stack.db.operator.findUniqueOrThrow({ where: { email: "admin@test.example" } });
  const actor = { kind: "OPERATOR" as const, id: admin.id, email: admin.email, name: admin.name, role: admin.role };
  catalogToken = (
    await createApiToken({ db: stack.db }, actor, { name: "marketplace catalog", scopes: ["catalog:write", "read"] })
  ).token;
  adminCookie = await stack.api.loginCookie("admin@test.example", TEST_PASSWORD);
  for (const [externalId, name] of [
    ["north", "North"],
    ["south", "South"],
  ])
    await gql(UPSERT_REGION, { externalId, name }, { bearer: catalogToken });
});
afterAll(async () => {
  await stack?.stop();
});

describe("upserts keyed by the marketplace's ids", () => {
  it("creates a region once and renames it in place; the price is the default until an ADMIN sets it", async () => {
    const again = await gql<{ data: { created: boolean; changed: boolean; region: { id: string } } }>(
      UPSERT_REGION,
      { externalId: "north", name: "North" },
      { bearer: catalogToken },
    );
    expect(again.data).toMatchObject({ created: false, changed: false });
    const renamed = await gql<{ data: { changed: boolean; region: Record<string, unknown> } }>(
      UPSERT_REGION,
      { externalId: "north", name: "North Side" },
      { bearer: catalogToken },
    );
    expect(renamed.data).toMatchObject({
      changed: true,
      region: { externalId: "north", name: "North Side", id: again.data.region.id },
    });
    expect(await stack.db.region.count({ where: { externalId: "north" } })).toBe(1);
    expect(
      await stack.db.auditEvent.count({ where: { action: "catalog.region_updated", targetId: again.data.region.id } }),
    ).toBe(1);
  });

  it("upserts a business idempotently, and a read-only token or an operator may not", async () => {
    const created = await gql<{ __typename: string; data: { created: boolean; business: { externalId: string } } }>(
      UPSERT_BUSINESS,
      { input: row("b-1") },
      { bearer: catalogToken },
    );
    expect(created.data).toMatchObject({ created: true, business: { externalId: "b-1" } });
    const same = await gql<{ data: { created: boolean; changed: boolean } }>(
      UPSERT_BUSINESS,
      { input: row("b-1") },
      { bearer: catalogToken },
    );
    expect(same.data).toMatchObject({ created: false, changed: false });
    const renamed = await gql<{ data: { changed: boolean; business: { name: string } } }>(
      UPSERT_BUSINESS,
      { input: row("b-1", "north", "Good Dog Club") },
      { cookie: adminCookie },
    );
    expect(renamed.data).toMatchObject({ changed: true, business: { name: "Good Dog Club" } });
    expect(await stack.db.business.count({ where: { externalId: "b-1" } })).toBe(1);

    const readOnly = await stack.api.graphql(UPSERT_BUSINESS, { input: row("b-x") }, { bearer: stack.readToken });
    expect(readOnly.errors?.[0]?.message).toBeTruthy();
    const operator = await stack.api.graphql(UPSERT_BUSINESS, { input: row("b-x") }, { cookie: stack.operatorCookie });
    expect(operator.errors?.[0]?.message).toBeTruthy();
    expect(await stack.db.business.count({ where: { externalId: "b-x" } })).toBe(0);
  });

  it("refuses an empty name or an unknown region with a typed error, storing nothing", async () => {
    const empty = await gql<{ __typename: string }>(
      UPSERT_BUSINESS,
      { input: row("b-2", "north", "  ") },
      { bearer: catalogToken },
    );
    expect(empty.__typename).toBe("InvalidInputError");
    const unknown = await gql<{ __typename: string; message: string }>(
      UPSERT_BUSINESS,
      { input: row("b-2", "atlantis") },
      { bearer: catalogToken },
    );
    expect(unknown).toMatchObject({ __typename: "NotFoundError" });
    expect(await stack.db.business.count({ where: { externalId: "b-2" } })).toBe(0);
  });

  it("refuses to move a business with an active placement to another region, and changes nothing", async () => {
    const made = await gql<{ data: { business: { id: string } } }>(
      UPSERT_BUSINESS,
      { input: row("b-3") },
      { bearer: catalogToken },
    );
    await createPaidPlacement(stack, { id: localId(made.data.business.id) }, new Date());
    const moved = await gql<{ __typename: string; externalId: string; regionExternalId: string; message: string }>(
      UPSERT_BUSINESS,
      { input: row("b-3", "south", "Moved Dogs") },
      { bearer: catalogToken },
    );
    expect(moved).toMatchObject({
      __typename: "BusinessHasPlacementError",
      externalId: "b-3",
      regionExternalId: "south",
    });
    expect(moved.message).toMatch(/active or queued placement/);
    const business = await stack.db.business.findUniqueOrThrow({
      where: { externalId: "b-3" },
      include: { region: true },
    });
    expect(business).toMatchObject({ name: "Trainer b-3", region: { externalId: "north" } });
  });

  it("archives a business: history kept, its queued placement leaves the queue with a reason", async () => {
    await stack.db.region.update({ where: { externalId: "south" }, data: { featuredSlots: 1 } });
    const first = await gql<{ data: { business: { id: string } } }>(
      UPSERT_BUSINESS,
      { input: row("b-4", "south") },
      { bearer: catalogToken },
    );
    const second = await gql<{ data: { business: { id: string } } }>(
      UPSERT_BUSINESS,
      { input: row("b-5", "south") },
      { bearer: catalogToken },
    );
    const active = await createPaidPlacement(
      stack,
      { id: localId(first.data.business.id) },
      new Date(Date.now() - 60_000),
    );
    const queued = await createPaidPlacement(stack, { id: localId(second.data.business.id) }, new Date());
    expect((await stack.db.placement.findUniqueOrThrow({ where: { paymentId: queued.id } })).status).toBe("QUEUED");

    const archived = await gql<{
      data: { changed: boolean; cancelledPlacements: number; business: { externalId: string } };
    }>(ARCHIVE, { externalId: "b-5" }, { bearer: catalogToken });
    expect(archived.data).toMatchObject({ changed: true, cancelledPlacements: 1, business: { externalId: "b-5" } });
    expect(await stack.db.business.findUniqueOrThrow({ where: { externalId: "b-5" } })).toMatchObject({
      status: "ARCHIVED",
      archivedAt: expect.any(Date) as Date,
    });
    const placement = await stack.db.placement.findUniqueOrThrow({ where: { paymentId: queued.id } });
    expect(placement).toMatchObject({ status: "CANCELLED", endReason: expect.stringMatching(/archived/) as string });
    expect(await stack.db.payment.count({ where: { id: queued.id } })).toBe(1);
    expect((await stack.db.placement.findUniqueOrThrow({ where: { paymentId: active.id } })).status).toBe("ACTIVE");
    const again = await gql<{ data: { changed: boolean } }>(ARCHIVE, { externalId: "b-5" }, { bearer: catalogToken });
    expect(again.data.changed).toBe(false);
  });
});

describe("bulk import", () => {
  it("reports each bad line by number and reason and stores nothing; skipInvalid stores the valid rows", async () => {
    const rows = [
      row("i-1"),
      row("i-2", "nowhere"),
      row("i-1"),
      row("i-3", "south", " "),
      { ...row("i-4"), email: "not-an-email" },
      row("i-5"),
    ];
    const rejected = await gql<{
      __typename: string;
      report: { errorCount: number; stored: boolean; errors: { line: number; reason: string }[] };
    }>(IMPORT, { rows }, { bearer: catalogToken });
    expect(rejected.__typename).toBe("CatalogImportRejectedError");
    expect(rejected.report).toMatchObject({ errorCount: 4, stored: false });
    expect(rejected.report.errors.map((error) => [error.line, error.reason])).toEqual([
      [2, "unknown region nowhere"],
      [3, "duplicate id i-1 (first on line 1)"],
      [4, "name is empty"],
      [5, "email is not an email address"],
    ]);
    expect(await stack.db.business.count({ where: { externalId: { startsWith: "i-" } } })).toBe(0);

    const skipped = await gql<{ data: { stored: boolean; created: number; skipped: number } }>(
      IMPORT,
      { rows, skipInvalid: true },
      { bearer: catalogToken },
    );
    expect(skipped.data).toMatchObject({ stored: true, created: 2, skipped: 4 });
    expect(await stack.db.business.count({ where: { externalId: { startsWith: "i-" } } })).toBe(2);

    const unchanged = await gql<{ data: { created: number; updated: number; unchanged: number } }>(
      IMPORT,
      { rows: [row("i-1"), row("i-5", "north", "Renamed")] },
      { bearer: catalogToken },
    );
    expect(unchanged.data).toMatchObject({ created: 0, updated: 1, unchanged: 1 });
  });

  it("refuses, line by line, rows that would move a business with a placement", async () => {
    const rejected = await gql<{ __typename: string; report: { errors: { line: number; externalId: string }[] } }>(
      IMPORT,
      { rows: [row("i-9"), row("b-3", "south")] },
      { bearer: catalogToken },
    );
    expect(rejected.__typename).toBe("CatalogImportRejectedError");
    expect(rejected.report.errors).toEqual([
      expect.objectContaining({
        line: 2,
        externalId: "b-3",
        reason: expect.stringMatching(/active or queued placement/) as string,
      }),
    ]);
    expect(await stack.db.business.count({ where: { externalId: "i-9" } })).toBe(0);
  });

  it("reads a file with a wrong encoding line by line, and refuses a file over the row cap without storing any of it", async () => {
    const latin1 = Buffer.concat([
      Buffer.from("external_id,region_id,name,email\nf-1,north,Fine Dogs,f1@example.com\nf-2,north,Caf"),
      Buffer.from([0xe9]),
      Buffer.from(" Dogs,f2@example.com\n"),
    ]);
    const deps = { db: stack.db, copyIn: pgCopyIn(stack.api.env.DATABASE_URL) };
    const rejected = await importCatalog(
      deps,
      systemActor("test"),
      readCatalogLines(Readable.from([latin1]), "csv"),
    ).catch((error: { report?: { errors: unknown[] } }) => error.report);
    expect(rejected?.errors).toEqual([
      { line: 3, externalId: null, reason: expect.stringMatching(/not valid UTF-8/) as string },
    ]);

    let read = 0;
    function* endless() {
      for (let line = 1; ; line++) {
        read++;
        yield { line, fields: row(`cap-${line}`) };
      }
    }
    const capped = await importCatalog(deps, systemActor("test"), endless(), { maxRows: 50 }).catch(
      (error: { report?: { errors: { line: number; reason: string }[]; stored: boolean } }) => error.report,
    );
    expect(capped).toMatchObject({
      stored: false,
      errors: [{ line: 51, reason: "too many rows: the limit is 50 per import" }],
    });
    expect(read).toBe(51);
    expect(await stack.db.business.count({ where: { externalId: { startsWith: "f-" } } })).toBe(0);
    expect(await stack.db.business.count({ where: { externalId: { startsWith: "cap-" } } })).toBe(0);
  });

  it("imports a CSV through `npm run steward -- import` with line-numbered errors, or stores it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "steward-import-"));
    const bad = join(dir, "bad.csv");
    writeFileSync(
      bad,
      'external_id,region_id,name,email\nc-1,north,"Dogs, Inc",c1@example.com\nc-1,north,Again,c1@example.com\n',
    );
    const good = join(dir, "good.ndjson");
    writeFileSync(
      good,
      `${JSON.stringify(row("c-1"))}\n${JSON.stringify({ external_id: "c-2", region_id: "south", name: "Two", email: "c2@example.com" })}\n`,
    );
    const env = {
      ...process.env,
      DATABASE_URL: stack.api.env.DATABASE_URL,
      REDIS_URL: stack.api.env.REDIS_URL,
      REDIS_PREFIX: stack.api.env.REDIS_PREFIX,
    };
    const cli = (file: string) =>
      spawnSync("npx", ["tsx", "scripts/steward.ts", "import", file], { env, encoding: "utf8", timeout: 60_000 });
    const refused = cli(bad);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/line 3 \(c-1\): duplicate id c-1 \(first on line 2\)/);
    expect(await stack.db.business.count({ where: { externalId: { startsWith: "c-" } } })).toBe(0);
    const stored = cli(good);
    expect(stored.status).toBe(0);
    expect(stored.stdout).toMatch(/Imported 2 business\(es\).*2 created/);
    expect(await stack.db.business.count({ where: { externalId: { in: ["c-1", "c-2"] } } })).toBe(2);
  });
});

describe("a charge for a business not in the catalog yet", () => {
  it("is held with an alert, then processed by itself once the business arrives", async () => {
    const region = await stack.db.region.findUniqueOrThrow({ where: { externalId: "north" } });
    await stack.db.region.update({ where: { id: region.id }, data: { featuredSlots: 50 } });
    const charge = await stack.stripe.charges.create({
      amount: 2200,
      currency: "aud",
      metadata: { business_id: "late-arrival" },
    });
    await stack.stripeSandbox.waitForWebhooks();
    await expect
      .poll(async () => (await stack.db.stripeWebhookEvent.findFirst({ where: { objectId: charge.id } }))?.status, {
        timeout: 20_000,
      })
      .toBe("HELD");
    expect(await stack.db.payment.count({ where: { stripeChargeId: charge.id } })).toBe(0);
    // Raised right after the event's transaction commits.
    await expect
      .poll(async () => stack.db.alert.findUnique({ where: { fingerprint: `charge-held:${charge.id}` } }), {
        timeout: 10_000,
      })
      .toMatchObject({ status: "FIRING", title: expect.stringMatching(/business not in the catalog/) as string });

    const arrived = await gql<{ data: { releasedCharges: number } }>(
      UPSERT_BUSINESS,
      { input: row("late-arrival") },
      { bearer: catalogToken },
    );
    expect(arrived.data.releasedCharges).toBeGreaterThanOrEqual(1);
    await expect
      .poll(
        async () =>
          (await stack.db.payment.findUnique({ where: { stripeChargeId: charge.id }, include: { placement: true } }))
            ?.placement?.status,
        { timeout: 20_000 },
      )
      .toBe("ACTIVE");
    await expect
      .poll(
        async () =>
          (await stack.db.alert.findUniqueOrThrow({ where: { fingerprint: `charge-held:${charge.id}` } })).status,
        {
          timeout: 10_000,
        },
      )
      .toBe("RESOLVED");
  });
});
