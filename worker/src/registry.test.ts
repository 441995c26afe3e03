// The worker must refuse to start with a broken catalog: a job listed twice would run twice
// per schedule; a job without a handler would fail every run.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineJob, type JobDefinition } from "./jobs/definition.ts";
import { jobCatalog, validateCatalog } from "./registry.ts";

const job = (name: string): JobDefinition =>
  defineJob({
    name,
    description: `${name} for tests`,
    payload: z.object({}),
    handler: () => Promise.resolve({ summary: "done" }),
  });

describe("validateCatalog", () => {
  it("refuses a job name listed twice", () => {
    expect(() => validateCatalog([job("expire-placements"), job("reconcile"), job("expire-placements")])).toThrow(
      "Job 'expire-placements' is defined twice",
    );
  });

  it("refuses a definition without a handler", () => {
    // A catalog assembled from untyped sources (or a typo) can lack the function at runtime.
    const broken = { ...job("weekly-checkup"), handler: undefined } as unknown as JobDefinition;
    expect(() => validateCatalog([job("reconcile"), broken])).toThrow("Job 'weekly-checkup' has no handler");
  });

  it("indexes a valid catalog by name", () => {
    const catalog = [job("a"), job("b")];
    const byName = validateCatalog(catalog);
    expect([...byName.keys()]).toEqual(["a", "b"]);
    expect(byName.get("b")).toBe(catalog[1]);
  });

  it("accepts the real job catalog, with unique names and a handler for each", () => {
    const byName = validateCatalog(jobCatalog);
    expect(byName.size).toBe(jobCatalog.length);
    expect(byName.has("heartbeat")).toBe(true);
    for (const definition of jobCatalog) {
      expect(definition.description.length).toBeGreaterThan(0);
      if (definition.schedule) expect(definition.schedule.tz.length).toBeGreaterThan(0);
    }
  });
});
