// The autonomy rules of PRODUCT.md §8 as data: what each role may do. The API enforces them on
// every field; core re-checks them where an action is taken, so no caller can skip them.
import type { ReviewStatus, Role } from "@steward/db/client";
import type { Actor } from "./actor.ts";
import { ForbiddenActionError } from "./errors.ts";

export const capabilities = {
  /** See everything on the dashboard. */
  read: ["VIEWER", "OPERATOR", "ADMIN"],
  /** Approve/reject reviews, process refunds, run/pause jobs, switch flags, flag accounts, fix reconciliation, handle alerts. */
  operate: ["OPERATOR", "ADMIN"],
  /** Operators, API tokens, channels, thresholds, prices, slots. */
  administer: ["ADMIN"],
} as const satisfies Record<string, readonly Role[]>;

export type Capability = keyof typeof capabilities;

export function roleCan(role: Role, capability: Capability): boolean {
  return (capabilities[capability] as readonly Role[]).includes(role);
}

export const apiTokenScopes = [
  "read",
  "reviews:write",
  "refunds:write",
  "searches:write",
  // On-call tools: alerts and health (alerts:write also reads them, to act on what it sees), and the
  // marketplace metrics (GraphQL, and the Prometheus scrape at GET /metrics).
  "alerts:read",
  "alerts:write",
  "metrics:read",
  // The marketplace keeps its catalog (regions, businesses) in Steward.
  "catalog:write",
] as const;
export type ApiTokenScope = (typeof apiTokenScopes)[number];

export function tokenHasScope(actor: Actor, scope: ApiTokenScope): boolean {
  return actor.kind === "API_TOKEN" && actor.scopes.includes(scope);
}

/**
 * Who may read a review: any operator; an integration with `read` once it is published; the
 * `reviews:write` token that submitted it, whatever its status. A plain predicate, not a scope
 * map, because the API asks it once per row of every review page (issue 17).
 */
export function mayReadReview(
  actor: Actor,
  review: { status: ReviewStatus; submittedByTokenId: string | null },
): boolean {
  if (actor.kind === "OPERATOR") return roleCan(actor.role, "read");
  if (actor.kind !== "API_TOKEN") return false;
  if (review.status === "APPROVED" && actor.scopes.includes("read")) return true;
  return review.submittedByTokenId === actor.id && actor.scopes.includes("reviews:write");
}

export function assertOperatorCan(actor: Actor, capability: Capability): void {
  if (actor.kind === "SYSTEM") return;
  if (actor.kind !== "OPERATOR" || !roleCan(actor.role, capability)) {
    throw new ForbiddenActionError(`This action needs the '${capability}' permission`);
  }
}
