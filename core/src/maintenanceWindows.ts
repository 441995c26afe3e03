// Maintenance windows, declared in advance by an ADMIN: between start and end, alerts of the listed
// rules (every rule when none is listed) are still raised, recorded and shown, but notify no
// channel; the alert's timeline says which window held the notification back. Resolutions still
// notify, so a page opened before the window is closed. Scheduling and ending are audited.
import type { Db, DbTx, MaintenanceWindow } from "@steward/db/client";
import { type Actor, actorId } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { InvalidInputError, NotFoundError } from "./errors.ts";
import { assertOperatorCan } from "./permissions.ts";
import type { CoreDeps } from "./deps.ts";

/** Longest window: a longer one would mute real problems for good (the same bound as a silence). */
export const MAX_WINDOW_MS = 7 * 24 * 3_600_000;
/** Ended windows stay listed this long, so the page shows what was recently muted. */
const RECENT_MS = 7 * 24 * 3_600_000;
const RULE_KEY = /^[a-z0-9][a-z0-9_.-]{0,99}$/;
const MAX_RULES = 50;

export interface MaintenanceWindowInput {
  title: string;
  startsAt: Date;
  endsAt: Date;
  /** Alert rule keys it mutes; empty: every rule. */
  ruleKeys: readonly string[];
}

export function validateWindow(input: MaintenanceWindowInput, now: Date): MaintenanceWindowInput {
  const title = input.title.trim();
  if (title.length < 3 || title.length > 200)
    throw new InvalidInputError("Give the window a title of 3–200 characters", "title");
  if (input.endsAt.getTime() <= input.startsAt.getTime())
    throw new InvalidInputError("The window must end after it starts", "endsAt");
  if (input.endsAt.getTime() <= now.getTime())
    throw new InvalidInputError("The window must end in the future", "endsAt");
  if (input.endsAt.getTime() - input.startsAt.getTime() > MAX_WINDOW_MS)
    throw new InvalidInputError("A maintenance window lasts at most 7 days", "endsAt");
  const ruleKeys = [...new Set(input.ruleKeys.map((key) => key.trim()))];
  if (ruleKeys.length > MAX_RULES) throw new InvalidInputError(`At most ${MAX_RULES} rules per window`, "ruleKeys");
  const malformed = ruleKeys.find((key) => !RULE_KEY.test(key));
  if (malformed !== undefined)
    throw new InvalidInputError(`"${malformed.slice(0, 100)}" is not an alert rule key`, "ruleKeys");
  return { title, startsAt: input.startsAt, endsAt: input.endsAt, ruleKeys };
}

export async function scheduleMaintenanceWindow(
  deps: Pick<CoreDeps, "db" | "clock">,
  actor: Actor,
  input: MaintenanceWindowInput,
): Promise<MaintenanceWindow> {
  const { db } = deps;
  const now = deps.clock();
  assertOperatorCan(actor, "administer");
  const valid = validateWindow(input, now);
  return db.$transaction(async (tx) => {
    const window = await tx.maintenanceWindow.create({
      data: { ...valid, ruleKeys: [...valid.ruleKeys], createdById: actorId(actor) },
    });
    await recordAudit(tx, actor, {
      action: "maintenance_window.scheduled",
      targetType: "MaintenanceWindow",
      targetId: window.id,
      after: {
        title: window.title,
        startsAt: window.startsAt.toISOString(),
        endsAt: window.endsAt.toISOString(),
        ruleKeys: window.ruleKeys,
      },
    });
    return window;
  });
}

/** Cancels a window not yet started, or ends a running one now. An ended window is returned as it is. */
export async function endMaintenanceWindow(
  deps: Pick<CoreDeps, "db" | "clock">,
  actor: Actor,
  input: { id: string },
): Promise<MaintenanceWindow> {
  const { db } = deps;
  const { id } = input;
  const now = deps.clock();
  assertOperatorCan(actor, "administer");
  return db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "MaintenanceWindow" WHERE id = ${id}::uuid FOR UPDATE`;
    const window = await tx.maintenanceWindow.findUnique({ where: { id } });
    if (!window) throw new NotFoundError("MaintenanceWindow", id);
    if (window.cancelledAt || window.endsAt <= now) return window;
    const ended = await tx.maintenanceWindow.update({
      where: { id },
      data: { cancelledAt: now, ...(window.startsAt <= now ? { endsAt: now } : {}) },
    });
    await recordAudit(tx, actor, {
      action: window.startsAt <= now ? "maintenance_window.ended" : "maintenance_window.cancelled",
      targetType: "MaintenanceWindow",
      targetId: id,
      before: { endsAt: window.endsAt.toISOString() },
      after: { endsAt: ended.endsAt.toISOString(), cancelledAt: now.toISOString() },
    });
    return ended;
  });
}

/** The active window that mutes this rule's notifications now, if any. */
export function maintenanceWindowMuting(tx: DbTx, ruleKey: string, now: Date): Promise<MaintenanceWindow | null> {
  return tx.maintenanceWindow.findFirst({
    where: {
      cancelledAt: null,
      startsAt: { lte: now },
      endsAt: { gt: now },
      OR: [{ ruleKeys: { isEmpty: true } }, { ruleKeys: { has: ruleKey } }],
    },
    orderBy: { endsAt: "desc" },
  });
}

/** Upcoming and running windows first (soonest first), then those that ended in the last 7 days. */
export async function listMaintenanceWindows(db: Db, options: { activeOnly?: boolean }, now = new Date()) {
  const windows = await db.maintenanceWindow.findMany({
    where: options.activeOnly
      ? { cancelledAt: null, startsAt: { lte: now }, endsAt: { gt: now } }
      : { endsAt: { gt: new Date(now.getTime() - RECENT_MS) } },
    orderBy: [{ startsAt: "asc" }, { id: "asc" }],
    take: 200,
  });
  const isOver = (window: MaintenanceWindow) => window.cancelledAt !== null || window.endsAt <= now;
  return [...windows.filter((window) => !isOver(window)), ...windows.filter(isOver).reverse()];
}

export type MaintenanceWindowState = "SCHEDULED" | "ACTIVE" | "ENDED" | "CANCELLED";

export function maintenanceWindowState(window: MaintenanceWindow, now = new Date()): MaintenanceWindowState {
  if (window.cancelledAt && window.cancelledAt < window.startsAt) return "CANCELLED";
  if (window.endsAt <= now || window.cancelledAt) return "ENDED";
  return window.startsAt <= now ? "ACTIVE" : "SCHEDULED";
}
