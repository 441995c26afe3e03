// Every minute: an open alert whose silence has ended notifies its channels again (one reminder)
// and is no longer silenced.
import { remindSilencedAlerts } from "@steward/core/alerts";
import { alertReminders } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const alertRemindersJob = handle(alertReminders, async ({ deps }) => {
  const reminded = await remindSilencedAlerts(deps);
  return { summary: reminded === 0 ? "no silence ended" : `reminded ${reminded} alert(s)`, changes: { reminded } };
});
