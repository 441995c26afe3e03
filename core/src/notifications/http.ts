// What every channel sender shares: one HTTP POST with a timeout, and the failure a deliverer
// needs to decide between retrying and giving up.
import { z } from "zod";

/** A notification as stored in its outbox row (see enqueueNotification). */
export const notificationPayloadSchema = z.object({
  dedupKey: z.string().min(1).max(255),
  severity: z.enum(["GREEN", "YELLOW", "RED"]),
  event: z.enum(["trigger", "acknowledge", "resolve"]),
  title: z.string().min(1),
  text: z.string(),
  source: z.string().min(1),
  fields: z.record(z.string(), z.string()).default({}),
  /** The cause its alert shares with others (grouping.ts): a trigger lists the group's open members. */
  group: z.string().min(1).optional(),
});
export type NotificationPayload = z.infer<typeof notificationPayloadSchema>;

export interface SendOutcome {
  responseCode: number | null;
  /** The receiver's answer, shortened, for the delivery log. */
  response: string;
}

/** A delivery the receiver refused or could not take. `permanent`: retrying cannot help. */
export class DeliveryFailure extends Error {
  constructor(
    message: string,
    readonly responseCode: number | null,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

const TIMEOUT_MS = 10_000;

/** 4xx means the request itself is wrong (bad key, bad payload), except "try later" answers. */
function isPermanent(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

export async function postJson(url: string, body: string, headers: Record<string, string> = {}): Promise<SendOutcome> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
      redirect: "error",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    throw new DeliveryFailure(`${error instanceof Error ? error.message : String(error)}${cause}`, null, false);
  }
  const text = (await response.text().catch(() => "")).slice(0, 500);
  if (!response.ok)
    throw new DeliveryFailure(`HTTP ${response.status}: ${text}`, response.status, isPermanent(response.status));
  return { responseCode: response.status, response: text };
}

/** Title prefix every channel uses, so a reader sees at once what happened. */
export function headline(notification: NotificationPayload): string {
  const verb =
    notification.event === "resolve" ? "Resolved" : notification.event === "acknowledge" ? "Acknowledged" : "Firing";
  return `[${notification.severity}] ${verb}: ${notification.title}`;
}
