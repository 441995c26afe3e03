// Runs a mutation and turns its answer into one typed outcome. The API's mutations answer with a
// union: a `Mutation…Success` member carrying the changed row(s) in `data`, or an error member
// (`… on Error { message }`) saying why it was refused; a top-level GraphQL or network error, or no
// answer at all, becomes a refusal with a readable message too.
import type { AnyVariables, Client, CombinedError, DocumentInput } from "@urql/core";
import { errorMessage } from "./errors.ts";
import type { Notice } from "./notice.ts";

export const NO_ANSWER = "The API returned no answer. Try again.";

/** A mutation's union payload, as the documents select it. */
export interface Payload {
  __typename: string;
}

type SuccessMember<P extends Payload> = Extract<P, { __typename: `${string}Success` }>;
/** What the success member carries: its `data` field (the changed rows), or the member itself. */
export type SuccessData<P extends Payload> = SuccessMember<P> extends { data: infer Data } ? Data : SuccessMember<P>;

/** Either the success's data or why it was refused. */
export type Result<Data> = { ok: true; data: Data } | { ok: false; message: string };

export type Outcome<P extends Payload> = Result<SuccessData<P>>;

/** An error member's message, with the first problem of a `ValidationError` when it lists them. */
function refusal(payload: Payload): string {
  const message = "message" in payload && typeof payload.message === "string" ? payload.message : null;
  if (!message) return "The API refused this.";
  const issues = "issues" in payload && Array.isArray(payload.issues) ? (payload.issues as unknown[]) : [];
  const first = issues[0];
  const issue = typeof first === "object" && first !== null && "message" in first ? first.message : null;
  return typeof issue === "string" ? `${message}: ${issue}` : message;
}

/** A union payload (or a top-level error) as one outcome. */
export function unwrap<P extends Payload>(error: CombinedError | undefined, payload: P | null | undefined): Outcome<P> {
  if (error) return { ok: false, message: errorMessage(error) };
  if (!payload) return { ok: false, message: NO_ANSWER };
  if (!payload.__typename.endsWith("Success")) return { ok: false, message: refusal(payload) };
  const data = "data" in payload ? payload.data : payload;
  return { ok: true, data: data as SuccessData<P> };
}

/**
 * Runs `document` and unwraps the payload `pick` finds in its answer. The changed rows the success
 * member returns are written to the normalised cache, so every list showing them updates in place.
 */
export async function runMutation<Data, Variables extends AnyVariables, P extends Payload>(
  client: Client,
  document: DocumentInput<Data, Variables>,
  variables: Variables,
  pick: (data: Data) => P | null | undefined,
): Promise<Outcome<P>> {
  const result = await client.mutation(document, variables).toPromise();
  // A refused root field (e.g. FORBIDDEN on a non-null field) answers `data: null` with the error.
  return unwrap(result.error, result.data == null ? undefined : pick(result.data));
}

/** The notice for an outcome: the success text from its data, or the refusal's message. */
export function noticeFor<P extends Payload>(outcome: Outcome<P>, success: (data: SuccessData<P>) => string): Notice {
  return outcome.ok ? { kind: "success", text: success(outcome.data) } : { kind: "error", text: outcome.message };
}
