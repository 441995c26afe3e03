// The featured queue: businesses waiting for a slot, per region, longest first (queue.backlog).
import type { Db } from "@steward/db/client";
import type { HealthSnapshot } from "../../alertRules.ts";
import type { HealthCheck } from "../check.ts";

async function queueBacklog(db: Db): Promise<HealthSnapshot["queueBacklog"]> {
  const grouped = await db.placement.groupBy({ by: ["regionId"], where: { status: "QUEUED" }, _count: true });
  if (grouped.length === 0) return [];
  const regions = await db.region.findMany({
    where: { id: { in: grouped.map((group) => group.regionId) } },
    select: { id: true, name: true },
  });
  const names = new Map(regions.map((region) => [region.id, region.name]));
  return grouped
    .map((group) => ({ regionId: group.regionId, regionName: names.get(group.regionId) ?? "?", queued: group._count }))
    .sort((a, b) => b.queued - a.queued);
}

export const queueBacklogCheck: HealthCheck = {
  name: "queue_backlog",
  async measure({ db }) {
    const backlog = await queueBacklog(db);
    const maxQueued = backlog[0];
    return {
      snapshot: { queueBacklog: backlog },
      result: {
        ok: true,
        latencyMs: null,
        value: maxQueued?.queued ?? 0,
        detail: maxQueued
          ? backlog
              .slice(0, 5)
              .map((region) => `${region.regionName} ${region.queued}`)
              .join(", ")
          : "no business waiting",
      },
    };
  },
};
