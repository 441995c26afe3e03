// Who is acting: every state change records one of these in the audit log.
import type { ActorKind, Role } from "@steward/db/client";

export interface OperatorActor {
  kind: "OPERATOR";
  id: string;
  email: string;
  name: string;
  role: Role;
  sessionId?: string;
  sessionExpiresAt?: Date;
}

export interface ApiTokenActor {
  kind: "API_TOKEN";
  id: string;
  name: string;
  scopes: readonly string[];
}

export interface SystemActor {
  kind: "SYSTEM";
  /** What acted: a job name, a rule, the seed. */
  label: string;
}

export interface AnonymousActor {
  kind: "ANONYMOUS";
}

export type Actor = OperatorActor | ApiTokenActor | SystemActor | AnonymousActor;

export const ANONYMOUS: AnonymousActor = { kind: "ANONYMOUS" };

export function systemActor(label: string): SystemActor {
  return { kind: "SYSTEM", label };
}

export function actorKind(actor: Actor): ActorKind {
  return actor.kind;
}

export function actorId(actor: Actor): string | null {
  return actor.kind === "OPERATOR" || actor.kind === "API_TOKEN" ? actor.id : null;
}

export function actorLabel(actor: Actor): string {
  switch (actor.kind) {
    case "OPERATOR":
      return actor.email;
    case "API_TOKEN":
      return `token:${actor.name}`;
    case "SYSTEM":
      return `system:${actor.label}`;
    case "ANONYMOUS":
      return "anonymous";
  }
}
