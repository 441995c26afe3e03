// The Operators page (ADMIN): everyone with an account, pending invitations, and the actions on
// them. Every action answers with a typed result; its message is shown next to what it concerned.
import type { Client } from "@urql/core";
import type { ResultOf } from "$lib/graphql.ts";
import { LiveQuery } from "$lib/live-query.svelte.ts";
import type { LiveConnection } from "$lib/live.svelte.ts";
import { type Result, runMutation } from "$lib/mutation.ts";
import type { Notice } from "$lib/notice.ts";
import {
  ChangeRoleMutation,
  DisableMutation,
  EnableMutation,
  EndSessionsMutation,
  InviteMutation,
  OperatorsQuery,
  RevokeInviteMutation,
  SendResetMutation,
} from "./operator-operations.ts";

type Data = ResultOf<typeof OperatorsQuery>;
export type OperatorRow = Data["operators"][number];
export type InviteRow = Data["operatorInvites"][number];
export type Role = OperatorRow["role"];

export const roleChoices: { value: Role; label: string }[] = [
  { value: "VIEWER", label: "Viewer" },
  { value: "OPERATOR", label: "Operator" },
  { value: "ADMIN", label: "Admin" },
];

/** What an action said, shown by the row (or the invite form) it concerned. */
export interface OperatorNotice extends Notice {
  about: string;
}

export class Operators {
  busy = $state(false);
  notice = $state<OperatorNotice | null>(null);

  readonly #client: Client;
  /** The read itself: its `loading`, `error` and `start()` are the page's. */
  readonly query;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.query = new LiveQuery({ client, live, query: OperatorsQuery, variables: () => ({}) });
  }

  get operators(): OperatorRow[] {
    return this.query.data?.operators ?? [];
  }

  get invites(): InviteRow[] {
    return this.query.data?.operatorInvites ?? [];
  }

  /** Runs one action; `success` is the message when it worked. Resolves true when it did. */
  async #act(about: string, action: Promise<Result<unknown>>, success: string): Promise<boolean> {
    this.busy = true;
    this.notice = null;
    const outcome = await action;
    this.busy = false;
    this.notice = outcome.ok
      ? { about, kind: "success", text: success }
      : { about, kind: "error", text: outcome.message };
    // Invitations come and go, sessions end: the list is read again after any action.
    await this.query.refetchNow();
    return outcome.ok;
  }

  invite(email: string, role: Role): Promise<boolean> {
    return this.#act(
      "invite",
      runMutation(this.#client, InviteMutation, { email, role }, (data) => data.inviteOperator),
      `Invitation sent to ${email.trim().toLowerCase()}.`,
    );
  }

  revokeInvite(invite: InviteRow): Promise<boolean> {
    return this.#act(
      invite.id,
      runMutation(this.#client, RevokeInviteMutation, { id: invite.id }, (data) => data.revokeOperatorInvite),
      `Withdrew the invitation to ${invite.email}.`,
    );
  }

  changeRole(operator: OperatorRow, role: Role): Promise<boolean> {
    return this.#act(
      operator.id,
      runMutation(
        this.#client,
        ChangeRoleMutation,
        { operatorId: operator.id, role },
        (data) => data.changeOperatorRole,
      ),
      `${operator.name} is now ${roleChoices.find((choice) => choice.value === role)?.label ?? role}.`,
    );
  }

  disable(operator: OperatorRow): Promise<boolean> {
    return this.#act(
      operator.id,
      runMutation(this.#client, DisableMutation, { operatorId: operator.id }, (data) => data.disableOperator),
      `Disabled ${operator.name}; their sessions ended.`,
    );
  }

  enable(operator: OperatorRow): Promise<boolean> {
    return this.#act(
      operator.id,
      runMutation(this.#client, EnableMutation, { operatorId: operator.id }, (data) => data.enableOperator),
      `Enabled ${operator.name}.`,
    );
  }

  endSessions(operator: OperatorRow): Promise<boolean> {
    return this.#act(
      operator.id,
      runMutation(
        this.#client,
        EndSessionsMutation,
        { operatorId: operator.id },
        (data) => data.revokeOperatorSessions,
      ),
      `Ended ${operator.name}'s sessions.`,
    );
  }

  sendReset(operator: OperatorRow): Promise<boolean> {
    return this.#act(
      operator.id,
      runMutation(this.#client, SendResetMutation, { operatorId: operator.id }, (data) => data.sendPasswordReset),
      `Sent ${operator.name} a link to choose a new password.`,
    );
  }
}
