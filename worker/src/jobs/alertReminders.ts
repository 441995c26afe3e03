// Every minute: an open alert whose silence has ended notifies its channels again (one reminder)
// and is no longer silenced.
import { remindSilencedAlerts } from "@steward/core/alerts";
import { z } from "zod";
import { defineJob } from "./definition.ts";

export const alertRemindersJob = defineJob({
  name: "alert-reminders",
  description: "Re-notifies open alerts whose silence window has ended.",
  schedule: { pattern: "*/1 * * * *", tz: "UTC" },
  payload: z.object({}).passthrough(),
  async handler({ db, events }) {
    const reminded = await remindSilencedAlerts({ db, events });
    return { summary: reminded === 0 ? "no silence ended" : `reminded ${reminded} alert(s)`, changes: { reminded } };
  },
});
