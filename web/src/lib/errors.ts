// Turns urql errors into one sentence an operator can read.
import type { CombinedError } from "@urql/core";

export function isUnauthenticated(error: CombinedError): boolean {
  return error.graphQLErrors.some((e) => e.extensions?.["code"] === "UNAUTHENTICATED");
}

export function isForbidden(error: CombinedError): boolean {
  return error.graphQLErrors.some((e) => e.extensions?.["code"] === "FORBIDDEN");
}

/** The API's own message (e.g. "You are not allowed to do this"), or a plain network message. */
export function errorMessage(error: CombinedError): string {
  const first = error.graphQLErrors[0];
  if (first) return first.message;
  if (error.networkError) return "Could not reach the Steward API. Check your connection and try again.";
  return error.message;
}
