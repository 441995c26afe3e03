// While PostgreSQL is unreachable, GraphQL answers a typed UNAVAILABLE error (HTTP 503) that a
// client can retry on, instead of the masked "Unexpected error." of a bug.
import { isDatabaseUnavailable } from "@steward/core/availability";
import { GraphQLError } from "graphql";
import { maskError, type YogaServerOptions } from "graphql-yoga";

export const UNAVAILABLE_MESSAGE =
  "Steward cannot reach its database right now; nothing was changed. Try again shortly.";

export function unavailableError(): GraphQLError {
  return new GraphQLError(UNAVAILABLE_MESSAGE, { extensions: { code: "UNAVAILABLE", http: { status: 503 } } });
}

type MaskedErrors = Exclude<NonNullable<YogaServerOptions<object, object>["maskedErrors"]>, boolean>;

export const maskedErrors: MaskedErrors = {
  maskError(error, message, isDev) {
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    if (isDatabaseUnavailable(original)) return unavailableError();
    return maskError(error, message, isDev);
  },
};
