// The Operators page (ADMIN): everyone with an account, pending invitations, and the actions on
// them. Every action answers with a typed result; its message is shown next to what it concerned.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import type { ResultOf } from "$lib/graphql.ts";
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

type Outcome = { __typename: string; message?: string } | undefined;

export class Operators {
  operators = $state<OperatorRow[]>([]);
  invites = $state<InviteRow[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  busy = $state(false);
  notice = $state<OperatorNotice | null>(null);

  readonly #client: Client;

  constructor(client: Client) {
    this.#client = client;
  }

  async load(): Promise<void> {
    const result = await this.#client.query(OperatorsQuery, {}, { requestPolicy: "network-only" }).toPromise();
    this.loading = false;
    if (result.error) {
      this.error = errorMessage(result.error);
      return;
    }
    this.error = null;
    this.operators = result.data?.operators ?? [];
    this.invites = result.data?.operatorInvites ?? [];
  }

  /** Runs one action; `success` is the message when it worked. Resolves true when it did. */
  async #act(about: string, run: () => Promise<{ outcome: Outcome; error?: string }>, success: string) {
    this.busy = true;
    this.notice = null;
    const { outcome, error } = await run();
    this.busy = false;
    if (error) this.notice = { about, kind: "error", text: error };
    else if (!outcome) this.notice = { about, kind: "error", text: "The API returned no answer. Try again." };
    else if (!outcome.__typename.endsWith("Success"))
      this.notice = { about, kind: "error", text: outcome.message ?? "Refused." };
    else this.notice = { about, kind: "success", text: success };
    await this.load();
    return this.notice.kind === "success";
  }

  invite(email: string, role: Role): Promise<boolean> {
    return this.#act(
      "invite",
      async () => {
        const result = await this.#client.mutation(InviteMutation, { email, role }).toPromise();
        return { outcome: result.data?.inviteOperator, error: result.error && errorMessage(result.error) };
      },
      `Invitation sent to ${email.trim().toLowerCase()}.`,
    );
  }

  revokeInvite(invite: InviteRow): Promise<boolean> {
    return this.#act(
      invite.id,
      async () => {
        const result = await this.#client.mutation(RevokeInviteMutation, { id: invite.id }).toPromise();
        return { outcome: result.data?.revokeOperatorInvite, error: result.error && errorMessage(result.error) };
      },
      `Withdrew the invitation to ${invite.email}.`,
    );
  }

  changeRole(operator: OperatorRow, role: Role): Promise<boolean> {
    return this.#act(
      operator.id,
      async () => {
        const result = await this.#client.mutation(ChangeRoleMutation, { operatorId: operator.id, role }).toPromise();
        return { outcome: result.data?.changeOperatorRole, error: result.error && errorMessage(result.error) };
      },
      `${operator.name} is now ${roleChoices.find((choice) => choice.value === role)?.label ?? role}.`,
    );
  }

  disable(operator: OperatorRow): Promise<boolean> {
    return this.#act(
      operator.id,
      async () => {
        const result = await this.#client.mutation(DisableMutation, { operatorId: operator.id }).toPromise();
        return { outcome: result.data?.disableOperator, error: result.error && errorMessage(result.error) };
      },
      `Disabled ${operator.name}; their sessions ended.`,
    );
  }

  enable(operator: OperatorRow): Promise<boolean> {
    return this.#act(
      operator.id,
      async () => {
        const result = await this.#client.mutation(EnableMutation, { operatorId: operator.id }).toPromise();
        return { outcome: result.data?.enableOperator, error: result.error && errorMessage(result.error) };
      },
      `Enabled ${operator.name}.`,
    );
  }

  endSessions(operator: OperatorRow): Promise<boolean> {
    return this.#act(
      operator.id,
      async () => {
        const result = await this.#client.mutation(EndSessionsMutation, { operatorId: operator.id }).toPromise();
        return { outcome: result.data?.revokeOperatorSessions, error: result.error && errorMessage(result.error) };
      },
      `Ended ${operator.name}'s sessions.`,
    );
  }

  sendReset(operator: OperatorRow): Promise<boolean> {
    return this.#act(
      operator.id,
      async () => {
        const result = await this.#client.mutation(SendResetMutation, { operatorId: operator.id }).toPromise();
        return { outcome: result.data?.sendPasswordReset, error: result.error && errorMessage(result.error) };
      },
      `Sent ${operator.name} a link to choose a new password.`,
    );
  }
}
