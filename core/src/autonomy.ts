// What the system itself may never do (PRODUCT.md §8, operations-self-maintenance "Forbidden
// automated actions"): refund, change prices or subscriptions, alter or delete financial records,
// run migrations. Core calls this guard where such an action starts, so no job, rule or
// automation can do it, whatever its caller forgets. A person's or an integration's action passes
// through to the usual permission checks.
//
// Finishing a refund an operator already approved (refund-recovery replaying the same idempotent
// Stripe call) is not a decision and is not guarded here: the decision was the operator's.
import type { Actor } from "./actor.ts";
import { ForbiddenActionError } from "./errors.ts";

export const forbiddenSystemActions = {
  "refund.request": "ask for a refund",
  "refund.approve": "approve a refund",
  "price.change": "change a price",
  "subscription.change": "change a subscription or placement a business bought",
  "financialRecord.modify": "alter a financial record (payments, refunds, reconciliation evidence)",
  "financialRecord.delete": "delete a financial record",
  "migration.run": "run a database migration",
} as const;

export type ForbiddenSystemAction = keyof typeof forbiddenSystemActions;

export function assertSystemMayPerform(actor: Actor, action: ForbiddenSystemAction): void {
  if (actor.kind !== "SYSTEM") return;
  throw new ForbiddenActionError(
    `The system (${actor.label}) may never ${forbiddenSystemActions[action]} on its own; a person must do it`,
  );
}
