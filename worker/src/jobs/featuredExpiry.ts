// Daily at 02:00 marketplace time: expire placements past featuredUntil, then promote each
// region's queue FIFO until its slots are full. Idempotent: a second run right after changes
// nothing, and two runs at once serialize on the regions' row locks. Also run at once when Redis
// comes back empty: the day's run may have gone with it, and placements past their end stay shown.
import { expireFeaturedPlacements } from "@steward/core/businessEmails";
import { featuredExpiry } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const featuredExpiryJob = handle(featuredExpiry, ({ deps }) => expireFeaturedPlacements(deps));
