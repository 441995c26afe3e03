// Playbook 1 (AI provider down > 30 min) done by the system itself, within what it may do:
//   - down longer than the rule's downMinutes while AI_MODE is 'provider' → switch AI_MODE to
//     'deterministic' (recorded as a flag change by the system, with the reason, in the audit log
//     and the flag's history), and raise the YELLOW alert automation.ai_mode_switched, which the
//     notification routing delivers. Once per outage: an operator who switches back during the
//     same outage is not overruled.
//   - healthy again for healthyMinutesBeforeProposal after an automatic switch → PROPOSE the switch
//     back (a pending suggestion on the flag and a GREEN alert); a person decides.
//   - down again while a proposal is pending → the proposal is withdrawn.
// Flag AI_FAILOVER = 'alert-only' leaves the switching to people (the red alert still fires).
import type { FeatureFlagChange } from "@steward/db/client";
import { systemActor } from "./actor.ts";
import { type AlertDeps, clearAlert, raiseAlert } from "./alerts.ts";
import type { Env } from "./env.ts";
import { getFlag, proposeFlagValue, setFeatureFlag, withdrawFlagProposal } from "./featureFlags.ts";

export const FAILOVER_ACTOR = systemActor("automation.ai_failover");
export const SWITCHED_FINGERPRINT = "automation.ai_mode_switched";
export const PROPOSAL_FINGERPRINT = "automation.ai_mode_switch_back_proposed";

export interface FailoverInput {
  mode: "provider" | "deterministic";
  failover: "auto" | "alert-only";
  configured: boolean;
  downForMinutes: number | null;
  healthyForMinutes: number | null;
  /** The system already switched AI_MODE during this outage. */
  switchedThisOutage: boolean;
  /** The last change of AI_MODE was the system's own switch to deterministic. */
  lastChangeWasAutomaticSwitch: boolean;
  proposalPending: boolean;
}

export interface FailoverThresholds {
  downMinutes: number;
  healthyMinutesBeforeProposal: number;
}

export type FailoverDecision =
  | { action: "SWITCH_TO_DETERMINISTIC"; reason: string }
  | { action: "PROPOSE_PROVIDER"; reason: string }
  | { action: "WITHDRAW_PROPOSAL"; reason: string }
  | { action: "NONE" };

/** Pure: what the automation does now (tested at 29 and 31 minutes). */
export function decideAiFailover(input: FailoverInput, thresholds: FailoverThresholds): FailoverDecision {
  if (!input.configured) return { action: "NONE" };
  if (input.downForMinutes !== null) {
    if (input.proposalPending)
      return { action: "WITHDRAW_PROPOSAL", reason: "The AI provider is down again; switching back is not advised" };
    if (
      input.mode === "provider" &&
      input.failover === "auto" &&
      !input.switchedThisOutage &&
      input.downForMinutes > thresholds.downMinutes
    )
      return {
        action: "SWITCH_TO_DETERMINISTIC",
        reason: `AI provider down for ${Math.floor(input.downForMinutes)} min (more than ${thresholds.downMinutes}): switched to the deterministic classifier automatically (playbook 1)`,
      };
    return { action: "NONE" };
  }
  if (
    input.healthyForMinutes !== null &&
    input.mode === "deterministic" &&
    input.lastChangeWasAutomaticSwitch &&
    !input.proposalPending &&
    input.healthyForMinutes >= thresholds.healthyMinutesBeforeProposal
  )
    return {
      action: "PROPOSE_PROVIDER",
      reason: `The AI provider has been healthy for ${Math.floor(input.healthyForMinutes)} min (at least ${thresholds.healthyMinutesBeforeProposal}); switch AI_MODE back to 'provider' when you are ready`,
    };
  return { action: "NONE" };
}

export interface FailoverOutcome {
  decision: FailoverDecision;
  change: FeatureFlagChange | null;
}

interface ProbeState {
  configured: boolean;
  ok: boolean;
  downForMinutes: number | null;
  healthyForMinutes: number | null;
  thresholds: FailoverThresholds;
}

export async function decideAndApplyAiFailover(
  deps: AlertDeps & { env: Pick<Env, "AI_MODE"> },
  probe: ProbeState,
  now = new Date(),
): Promise<FailoverOutcome> {
  const { db, env } = deps;
  const [mode, failover, lastChange] = await Promise.all([
    getFlag(db, env, "AI_MODE"),
    getFlag(db, env, "AI_FAILOVER"),
    db.featureFlagChange.findFirst({ where: { flagKey: "AI_MODE" }, orderBy: { id: "desc" } }),
  ]);
  const outageStart =
    probe.downForMinutes !== null ? new Date(now.getTime() - probe.downForMinutes * 60_000 - 1) : null;
  const switchedThisOutage =
    outageStart !== null &&
    (await db.featureFlagChange.count({
      where: { flagKey: "AI_MODE", actorKind: "SYSTEM", toValue: "deterministic", createdAt: { gte: outageStart } },
    })) > 0;
  const decision = decideAiFailover(
    {
      mode: mode.value === "provider" ? "provider" : "deterministic",
      failover: failover.value === "alert-only" ? "alert-only" : "auto",
      configured: probe.configured,
      downForMinutes: probe.downForMinutes,
      healthyForMinutes: probe.healthyForMinutes,
      switchedThisOutage,
      lastChangeWasAutomaticSwitch: lastChange?.actorKind === "SYSTEM" && lastChange.toValue === "deterministic",
      proposalPending: mode.proposedValue !== null,
    },
    probe.thresholds,
  );

  let change: FeatureFlagChange | null = null;
  switch (decision.action) {
    case "SWITCH_TO_DETERMINISTIC": {
      change = await setFeatureFlag(
        deps,
        FAILOVER_ACTOR,
        { key: "AI_MODE", value: "deterministic", reason: decision.reason },
        { now },
      );
      await raiseAlert(
        deps,
        {
          fingerprint: SWITCHED_FINGERPRINT,
          ruleKey: SWITCHED_FINGERPRINT,
          severity: "YELLOW",
          title: "AI_MODE switched to deterministic automatically",
          detail: decision.reason,
          labels: { flag: "AI_MODE", value: "deterministic" },
        },
        now,
      );
      // On the outage's own timeline too, so whoever opens the red alert sees what was done.
      const outage = await db.alert.findUnique({ where: { fingerprint: "ai.provider_down" }, select: { id: true } });
      if (outage)
        await db.alertEvent.create({
          data: { alertId: outage.id, kind: "ACTION_TAKEN", actorKind: "SYSTEM", message: decision.reason },
        });
      break;
    }
    case "PROPOSE_PROVIDER":
      await proposeFlagValue(deps, FAILOVER_ACTOR, { key: "AI_MODE", value: "provider", reason: decision.reason }, now);
      await raiseAlert(
        deps,
        {
          fingerprint: PROPOSAL_FINGERPRINT,
          ruleKey: PROPOSAL_FINGERPRINT,
          severity: "GREEN",
          title: "Proposal: switch AI_MODE back to provider",
          detail: decision.reason,
          labels: { flag: "AI_MODE", value: "provider" },
        },
        now,
      );
      break;
    case "WITHDRAW_PROPOSAL":
      await withdrawFlagProposal(deps, FAILOVER_ACTOR, { key: "AI_MODE", reason: decision.reason });
      await clearAlert(deps, PROPOSAL_FINGERPRINT, decision.reason, FAILOVER_ACTOR);
      break;
    case "NONE":
      break;
  }

  // Alerts about flag decisions end when a person has decided.
  const after = decision.action === "NONE" ? mode : await getFlag(db, env, "AI_MODE");
  if (after.value === "provider")
    await clearAlert(deps, SWITCHED_FINGERPRINT, "AI_MODE is 'provider' again", FAILOVER_ACTOR);
  if (after.proposedValue === null && decision.action !== "WITHDRAW_PROPOSAL")
    await clearAlert(
      deps,
      PROPOSAL_FINGERPRINT,
      "The proposal was answered: AI_MODE was set by an operator",
      FAILOVER_ACTOR,
    );
  return { decision, change };
}
