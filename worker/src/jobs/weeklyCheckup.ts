// Sunday 02:00 UTC (operations-self-maintenance.md): the weekly checkup. One stored report,
// Green/Yellow/Red, notified through the channels by its overall status. Run-now from the Jobs
// page, or runWeeklyCheckup on the Reports page.
import { systemActor } from "@steward/core/actor";
import { checkupDeps, runWeeklyCheckup } from "@steward/core/checkup";
import { weeklyCheckup } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const weeklyCheckupJob = handle(weeklyCheckup, async ({ deps }) => {
  const { report, notificationsEnqueued } = await runWeeklyCheckup(
    checkupDeps(deps),
    systemActor("weekly-checkup"),
    "SCHEDULE",
  );
  return {
    summary: `${report.overall}: ${report.summary}`,
    changes: { reportId: report.id, overall: report.overall, notificationsEnqueued },
  };
});
