// Daily at 02:00 marketplace time: expire placements past featuredUntil, then promote each
// region's queue FIFO until its slots are full. Idempotent: a second run right after changes
// nothing, and two runs at once serialize on the regions' row locks. Also run at once when Redis
// comes back empty: the day's run may have gone with it, and placements past their end stay shown.
import { emailPlacementsEndingSoon } from "@steward/core/businessEmails";
import { describeChanges, expireAndPromote } from "@steward/core/placements";
import { featuredExpiry } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const featuredExpiryJob = handle(featuredExpiry, async ({ db, env }) => {
  const changes = await expireAndPromote(db);
  // Then remind the businesses whose featured period ends within three days (once each).
  const reminded = await emailPlacementsEndingSoon(db, env.MARKETPLACE_TIME_ZONE);
  return {
    summary: `${describeChanges(changes)}; ${reminded} ending-soon ${reminded === 1 ? "reminder" : "reminders"} queued`,
    changes: changes.map((change) => ({
      region: change.regionName,
      expired: change.expired,
      promoted: change.promoted,
    })),
  };
});
