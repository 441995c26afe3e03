// The worker must refuse to start with a broken catalog: a job listed twice would run twice
// per schedule; a contract without a handler would never run; a handler without a contract
// could never be queued.
import { defineContract } from "@steward/jobs/contract";
import { contracts, jobContracts } from "@steward/jobs/contracts";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { loadEnv } from "@steward/core/env";
import { handle, type JobBinding } from "./jobs/definition.ts";
import { jobHandlers, validateBindings, validateCatalog, validateSchedules } from "./registry.ts";

const contract = (name: string) =>
  defineContract({ name, description: `${name} for tests`, queue: "maintenance", payload: z.object({}) });
const job = (name: string): JobBinding => handle(contract(name), () => Promise.resolve({ summary: "done" }));

describe("validateCatalog", () => {
  it("refuses a job name listed twice", () => {
    expect(() =>
      validateCatalog(
        [contract("expire-placements"), contract("reconcile")],
        [job("expire-placements"), job("reconcile"), job("expire-placements")],
      ),
    ).toThrow("Job 'expire-placements' is defined twice");
  });

  it("refuses a definition without a handler", () => {
    // A catalog assembled from untyped sources (or a typo) can lack the function at runtime.
    const broken = { ...job("weekly-checkup"), handler: undefined } as unknown as JobBinding;
    expect(() => validateBindings([job("reconcile"), broken])).toThrow("Job 'weekly-checkup' has no handler");
  });

  it("refuses a contract without a handler", () => {
    expect(() => validateCatalog([contract("a"), contract("b")], [job("a")])).toThrow("Job 'b' has no handler");
  });

  it("refuses a handler without a contract", () => {
    expect(() => validateCatalog([contract("a")], [job("a"), job("stray")])).toThrow("Job 'stray' has no contract");
  });

  it("indexes a valid catalog by name", () => {
    const bindings = [job("a"), job("b")];
    const byName = validateCatalog([contract("a"), contract("b")], bindings);
    expect([...byName.keys()]).toEqual(["a", "b"]);
    expect(byName.get("b")).toBe(bindings[1]);
  });

  it("refuses a schedule in an unknown time zone", () => {
    expect(() =>
      validateSchedules([{ ...contract("nightly"), schedule: { pattern: "0 3 * * *", tz: "Mars/Olympus" } }]),
    ).toThrow("Job 'nightly' has an unknown time zone 'Mars/Olympus'");
  });

  it("accepts the real catalog: one handler per contract, schedules from the env", () => {
    const env = loadEnv({ BACKUP_CRON: "5 1 * * *", MARKETPLACE_TIME_ZONE: "Europe/Paris" });
    const resolved = jobContracts(env);
    const handlers = jobHandlers(() => resolved);
    const byName = validateCatalog(resolved, handlers);
    expect(byName.size).toBe(Object.keys(contracts).length);
    expect(byName.has("heartbeat")).toBe(true);
    validateSchedules(resolved);
    for (const resolvedContract of resolved) {
      expect(resolvedContract.description.length).toBeGreaterThan(0);
      if (resolvedContract.schedule) expect(resolvedContract.schedule.tz.length).toBeGreaterThan(0);
    }
    // Built from the validated env, not process.env at module load.
    expect(resolved.find((entry) => entry.name === "backup")?.schedule?.pattern).toBe("5 1 * * *");
    expect(resolved.find((entry) => entry.name === "payment-reconciliation")?.schedule?.tz).toBe("Europe/Paris");
  });
});
