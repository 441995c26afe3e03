// The AI failover decision: switch past the threshold (once per outage), propose (never perform)
// the switch back after the provider has been healthy long enough.
import { describe, expect, it } from "vitest";
import { decideAiFailover, type FailoverInput } from "./aiFailover.ts";

const thresholds = { downMinutes: 30, healthyMinutesBeforeProposal: 30 };
const base: FailoverInput = {
  mode: "provider",
  failover: "auto",
  configured: true,
  downForMinutes: null,
  healthyForMinutes: 120,
  switchedThisOutage: false,
  lastChangeWasAutomaticSwitch: false,
  proposalPending: false,
};
const decide = (change: Partial<FailoverInput>) => decideAiFailover({ ...base, ...change }, thresholds).action;

describe("decideAiFailover", () => {
  it("switches only when the provider has been down more than 30 minutes", () => {
    expect(decide({ downForMinutes: 29, healthyForMinutes: null })).toBe("NONE");
    expect(decide({ downForMinutes: 30, healthyForMinutes: null })).toBe("NONE");
    expect(decide({ downForMinutes: 31, healthyForMinutes: null })).toBe("SWITCH_TO_DETERMINISTIC");
  });

  it("does not switch twice in one outage, when already deterministic, or when failover is alert-only", () => {
    const down = { downForMinutes: 45, healthyForMinutes: null };
    expect(decide({ ...down, switchedThisOutage: true })).toBe("NONE");
    expect(decide({ ...down, mode: "deterministic" })).toBe("NONE");
    expect(decide({ ...down, failover: "alert-only" })).toBe("NONE");
  });

  it("proposes switching back after an automatic switch once healthy for the configured time", () => {
    const recovered = { mode: "deterministic" as const, lastChangeWasAutomaticSwitch: true };
    expect(decide({ ...recovered, healthyForMinutes: 29 })).toBe("NONE");
    expect(decide({ ...recovered, healthyForMinutes: 30 })).toBe("PROPOSE_PROVIDER");
    // An operator chose deterministic: nothing to propose. A proposal already pending: not again.
    expect(decide({ ...recovered, lastChangeWasAutomaticSwitch: false, healthyForMinutes: 60 })).toBe("NONE");
    expect(decide({ ...recovered, proposalPending: true, healthyForMinutes: 60 })).toBe("NONE");
  });

  it("withdraws a pending proposal when the provider goes down again", () => {
    expect(decide({ mode: "deterministic", proposalPending: true, downForMinutes: 1, healthyForMinutes: null })).toBe(
      "WITHDRAW_PROPOSAL",
    );
  });

  it("does nothing without a configured provider", () => {
    expect(decide({ configured: false, downForMinutes: 99, healthyForMinutes: null })).toBe("NONE");
  });
});
