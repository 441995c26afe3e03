// Keyboard triage on the Reviews page, as a pure mapping from a key (and whether a reason is being
// chosen) to a command: j/k move, a approves, r then 1–4 rejects with a reason, x selects, ? help.
import type { RejectionReason } from "./review-operations.ts";

export const REASON_KEYS: Record<string, RejectionReason> = {
  "1": "SPAM",
  "2": "PROFANITY",
  "3": "OFF_TOPIC",
  "4": "OTHER",
};

export type TriageCommand =
  | { kind: "move"; by: 1 | -1 }
  | { kind: "approve" }
  | { kind: "choose-reason" }
  | { kind: "reject"; reason: RejectionReason }
  | { kind: "cancel" }
  | { kind: "select" }
  | { kind: "help" };

export const TRIAGE_HELP: { keys: string; what: string }[] = [
  { keys: "j / k", what: "next / previous review" },
  { keys: "a", what: "approve the current review" },
  { keys: "r then 1–4", what: "reject it: 1 Spam, 2 Profanity, 3 Off topic, 4 Other" },
  { keys: "x", what: "select or unselect it" },
  { keys: "Esc", what: "cancel a rejection, close this help" },
  { keys: "?", what: "show or hide this help" },
];

/** Keys typed into a field belong to the field, and modified keys to the browser. */
export function isTriageKey(event: Pick<KeyboardEvent, "ctrlKey" | "metaKey" | "altKey" | "target">): boolean {
  if (event.ctrlKey || event.metaKey || event.altKey) return false;
  const target = event.target;
  if (!target || typeof (target as HTMLElement).closest !== "function") return true;
  return !(target as HTMLElement).closest(
    "input:not([type='checkbox']):not([type='radio']), select, textarea, [contenteditable='true']",
  );
}

export function triageCommand(key: string, choosingReason: boolean): TriageCommand | null {
  if (choosingReason) {
    const reason = REASON_KEYS[key];
    if (reason) return { kind: "reject", reason };
    return key === "Escape" || key === "r" ? { kind: "cancel" } : null;
  }
  switch (key) {
    case "j":
    case "ArrowDown":
      return { kind: "move", by: 1 };
    case "k":
    case "ArrowUp":
      return { kind: "move", by: -1 };
    case "a":
      return { kind: "approve" };
    case "r":
      return { kind: "choose-reason" };
    case "x":
      return { kind: "select" };
    case "?":
      return { kind: "help" };
    case "Escape":
      return { kind: "cancel" };
    default:
      return null;
  }
}
