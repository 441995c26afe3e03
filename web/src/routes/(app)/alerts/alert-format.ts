// How alerts read on the page.
import type { Alert, AlertDetail, Severity } from "./alert-operations.ts";

export const severityLabels: Record<Severity, string> = { RED: "Red", YELLOW: "Yellow", GREEN: "Green" };

export const statusLabels: Record<Alert["status"], string> = {
  FIRING: "Firing",
  ACKNOWLEDGED: "Acknowledged",
  RESOLVED: "Resolved",
};

export const deliveryStatusLabels: Record<AlertDetail["deliveries"][number]["status"], string> = {
  PENDING: "Pending",
  SENT: "Sent",
  FAILED: "Retrying",
  DEAD: "Gave up",
};

/** Silence choices offered to the operator; the server refuses anything over 7 days. */
export const silenceChoices = [
  { label: "1 hour", minutes: 60 },
  { label: "4 hours", minutes: 240 },
  { label: "24 hours", minutes: 1440 },
  { label: "7 days", minutes: 7 * 1440 },
] as const;
