// The system actor is refused every forbidden automated action; people and integrations pass to
// their usual permission checks.
import { describe, expect, it } from "vitest";
import { systemActor } from "./actor.ts";
import { assertSystemMayPerform, type ForbiddenSystemAction, forbiddenSystemActions } from "./autonomy.ts";
import { ForbiddenActionError } from "./errors.ts";

const actions = Object.keys(forbiddenSystemActions) as ForbiddenSystemAction[];

describe("assertSystemMayPerform", () => {
  it.each(actions)("refuses the system '%s'", (action) => {
    expect(() => assertSystemMayPerform(systemActor("automation.ai_failover"), action)).toThrow(ForbiddenActionError);
  });

  it("covers refunds, prices, subscriptions, financial records and migrations", () => {
    expect(actions).toEqual(
      expect.arrayContaining([
        "refund.approve",
        "price.change",
        "subscription.change",
        "financialRecord.delete",
        "migration.run",
      ]),
    );
  });

  it("lets an operator through (the role check decides)", () => {
    const operator = { kind: "OPERATOR", id: "o", email: "o@x", name: "O", role: "OPERATOR" } as const;
    for (const action of actions) expect(() => assertSystemMayPerform(operator, action)).not.toThrow();
  });
});
