// Effects collected during a change go out only after it commits, in order, and never when it
// rolls back; a failed enqueue after the commit does not undo the change.
import type { Db } from "@steward/db/client";
import type { JobQueue } from "@steward/jobs/queue";
import { describe, expect, it } from "vitest";
import type { EventBus } from "./ports/events.ts";
import { createLogger } from "./logger.ts";
import { inTransaction, withAfterCommit } from "./unitOfWork.ts";

function fakes(options: { enqueueFails?: boolean } = {}) {
  const log: string[] = [];
  const jobs: JobQueue = {
    enqueue(name) {
      if (options.enqueueFails) return Promise.reject(new Error("Redis is down"));
      log.push(`enqueue ${name}`);
      return Promise.resolve("id");
    },
    enqueueMany: () => Promise.resolve(),
    isActive: () => Promise.resolve(false),
  };
  const events = {
    publish: (topic: string) => void log.push(`publish ${topic}`),
  } as unknown as EventBus;
  // A transaction that commits (or rolls back) by resolving (or rejecting) the work.
  const db = {
    $transaction: async (work: (tx: unknown) => Promise<unknown>) => {
      const result = await work({});
      log.push("commit");
      return result;
    },
  } as unknown as Db;
  return { log, deps: { db, jobs, events, logger: createLogger("test", "silent") } };
}

describe("inTransaction", () => {
  it("publishes and enqueues after the commit, in the order they were asked for", async () => {
    const { log, deps } = fakes();
    const result = await inTransaction(deps, (unit) => {
      unit.enqueue("outbox-delivery", { cause: "refund-denied-1" });
      unit.publish("metricsUpdated", { computedAt: "now" });
      log.push("write");
      return Promise.resolve(42);
    });
    expect(result).toBe(42);
    expect(log).toEqual(["write", "commit", "enqueue outbox-delivery", "publish metricsUpdated"]);
  });

  it("enqueues and publishes nothing when the change rolls back", async () => {
    const { log, deps } = fakes();
    await expect(
      inTransaction(deps, (unit) => {
        unit.enqueue("score-review", { reviewId: "6f1c1f4e-8f36-4a43-9d7e-1d1a5c1b2a11" });
        unit.publish("metricsUpdated", { computedAt: "now" });
        return Promise.reject(new Error("conflict"));
      }),
    ).rejects.toThrow("conflict");
    expect(log).toEqual([]);
  });

  it("keeps the committed change when the queue cannot be reached (the sweeps pick the work up)", async () => {
    const { log, deps } = fakes({ enqueueFails: true });
    await expect(
      withAfterCommit(deps, (effects) => {
        effects.enqueue("outbox-delivery", {});
        effects.publish("metricsUpdated", { computedAt: "now" });
        return Promise.resolve("done");
      }),
    ).resolves.toBe("done");
    expect(log).toEqual(["publish metricsUpdated"]);
  });
});
