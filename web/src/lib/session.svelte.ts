// Who is signed in, shared by every page. Loaded from `me`; changed by login and logout.
import type { Client } from "@urql/core";
import { createContext } from "svelte";
import { errorMessage, isUnauthenticated } from "./errors.ts";
import { runMutation } from "./mutation.ts";
import { LoginMutation, LogoutMutation, MeQuery, type Operator } from "./session-operations.ts";

export type { Operator } from "./session-operations.ts";

export type SessionStatus = "unknown" | "loading" | "signed-in" | "signed-out" | "error";

export type LoginOutcome = { ok: true; operator: Operator } | { ok: false; message: string };

export class Session {
  operator = $state<Operator | null>(null);
  status = $state<SessionStatus>("unknown");
  /** Why the session could not be checked (the API is unreachable, …). */
  error = $state<string | null>(null);

  readonly #client: Client;
  /** Bumped by login/logout so that an older `me` answer arriving late cannot overwrite them. */
  #generation = 0;
  readonly #disconnect: () => void;

  constructor(client: Client, disconnect: () => void) {
    this.#client = client;
    this.#disconnect = disconnect;
  }

  get isAdmin(): boolean {
    return this.operator?.role === "ADMIN";
  }

  /** Asks the API who is signed in (never from cache). */
  async refresh(): Promise<Operator | null> {
    const generation = this.#generation;
    this.status = "loading";
    this.error = null;
    const result = await this.#client.query(MeQuery, {}, { requestPolicy: "network-only" }).toPromise();
    if (generation !== this.#generation) return this.operator;
    if (result.error) {
      if (isUnauthenticated(result.error)) {
        this.signedOut();
        return null;
      }
      this.status = "error";
      this.error = errorMessage(result.error);
      return null;
    }
    const me = result.data?.me ?? null;
    this.operator = me;
    this.status = me ? "signed-in" : "signed-out";
    return me;
  }

  async login(email: string, password: string): Promise<LoginOutcome> {
    this.#generation += 1;
    const login = await runMutation(this.#client, LoginMutation, { email, password }, (data) => data.login);
    if (!login.ok) return login;
    this.operator = login.data.operator;
    this.status = "signed-in";
    this.error = null;
    return { ok: true, operator: login.data.operator };
  }

  /** Ends the session on the server and closes the websocket. Resolves with an error message, if any. */
  async logout(): Promise<string | null> {
    const result = await this.#client.mutation(LogoutMutation, {}).toPromise();
    if (result.error && !isUnauthenticated(result.error)) return errorMessage(result.error);
    this.#generation += 1;
    this.#disconnect();
    this.signedOut();
    return null;
  }

  /** The API said this browser is not signed in (expired, revoked or forged session). */
  signedOut(): void {
    this.operator = null;
    this.status = "signed-out";
  }
}

export const [getSession, setSession] = createContext<Session>();
