// Alerts of one cause notify as one message (PRODUCT: one message for the backlog of many
// regions, not one page per region). An alert carries its cause as `groupKey`:
//   - the first member of a group to trigger enqueues the group's notification, held for
//     GROUP_WINDOW_MS so the members raised by the same run join it;
//   - when it is sent, the message lists every open member of the group at that moment;
//   - a later member, while a notified member of its group at least as severe is open, pages no
//     one (its timeline says which notification covers it);
//   - the group's resolve goes out when its last open member resolves.
// PagerDuty sees one incident per group: the group's dedup key replaces the alert's fingerprint.
import type { Alert, Db, DbTx, Severity } from "@steward/db/client";
import type { NotificationPayload } from "./http.ts";

/** How long a group's first notification waits for the rest of its members. */
export const GROUP_WINDOW_MS = 15_000;
/** Members listed in one message; the rest are counted. */
const MAX_LISTED = 20;

export const groupDedupKey = (groupKey: string) => `group:${groupKey}`;

type Member = Pick<Alert, "id" | "groupKey">;

const openMembersOf = (member: Member & { groupKey: string }) => ({
  groupKey: member.groupKey,
  status: { not: "RESOLVED" as const },
  id: { not: member.id },
});

const AT_LEAST: Record<Severity, Severity[]> = {
  GREEN: ["GREEN", "YELLOW", "RED"],
  YELLOW: ["YELLOW", "RED"],
  RED: ["RED"],
};

/**
 * Another open member of the alert's group, at least as severe, whose notification went out (or
 * waits to): it covers this one. A member graver than the group's notification still notifies
 * (a red one pages even if the group was only emailed as yellow).
 */
export async function notifiedGroupMember(
  tx: DbTx,
  alert: Member & Pick<Alert, "severity">,
): Promise<Pick<Alert, "title"> | null> {
  if (!alert.groupKey) return null;
  return tx.alert.findFirst({
    where: {
      ...openMembersOf({ ...alert, groupKey: alert.groupKey }),
      severity: { in: AT_LEAST[alert.severity] },
      // A channel delivery (notify.*) enqueued for it: its group's notification is out or waiting.
      outbox: { some: { channelId: { not: null } } },
    },
    orderBy: { firstSeenAt: "asc" },
    select: { title: true },
  });
}

/** How many other members of the alert's group are still open (its resolve waits for the last). */
export async function otherOpenMembers(tx: DbTx, alert: Member): Promise<number> {
  if (!alert.groupKey) return 0;
  return tx.alert.count({ where: openMembersOf({ ...alert, groupKey: alert.groupKey }) });
}

/** At send time: a group's trigger lists the group's open members (none left: sent as enqueued). */
export async function withGroupMembers(db: Db, payload: NotificationPayload): Promise<NotificationPayload> {
  if (!payload.group || payload.event !== "trigger") return payload;
  const members = await db.alert.findMany({
    where: { groupKey: payload.group, status: { not: "RESOLVED" } },
    orderBy: [{ firstSeenAt: "asc" }, { id: "asc" }],
    select: { title: true },
  });
  if (members.length <= 1) return payload;
  const listed = members.slice(0, MAX_LISTED).map((member) => `• ${member.title}`);
  if (members.length > MAX_LISTED) listed.push(`… and ${members.length - MAX_LISTED} more`);
  return {
    ...payload,
    title: `${members.length} alerts of one cause (${payload.group}): ${members[0]?.title ?? payload.title}`,
    text: `${members.length} open alerts share one cause; one notification for all of them:\n${listed.join("\n")}`,
    fields: { ...payload.fields, Group: payload.group, Members: String(members.length) },
  };
}
