// Expected failures as GraphQL types: clients select `... on Error { message }` and branch on
// __typename. Unexpected errors are not listed here and stay masked by Yoga.
import { InputValidationError } from "@pothos/plugin-validation";
import {
  ConflictError,
  DomainError,
  ForbiddenActionError,
  InvalidCredentialsError,
  InvalidInputError,
  NotFoundError,
  TooManyAttemptsError,
} from "@steward/core/errors";
import { builder } from "../builder.ts";

export const ErrorInterface = builder.interfaceRef<Error>("Error").implement({
  fields: (t) => ({
    message: t.exposeString("message"),
  }),
});

builder.objectType(NotFoundError, {
  name: "NotFoundError",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    entity: t.exposeString("entity"),
    entityId: t.exposeString("entityId"),
  }),
});

builder.objectType(ConflictError, { name: "ConflictError", interfaces: [ErrorInterface] });
builder.objectType(ForbiddenActionError, { name: "ForbiddenError", interfaces: [ErrorInterface] });
builder.objectType(InvalidCredentialsError, { name: "InvalidCredentialsError", interfaces: [ErrorInterface] });
builder.objectType(TooManyAttemptsError, {
  name: "TooManyAttemptsError",
  interfaces: [ErrorInterface],
  fields: (t) => ({ retryAfterSeconds: t.exposeInt("retryAfterSeconds") }),
});

const FieldIssue = builder.objectRef<{ path: string; message: string }>("FieldIssue").implement({
  fields: (t) => ({ path: t.exposeString("path"), message: t.exposeString("message") }),
});

builder.objectType(InvalidInputError, {
  name: "InvalidInputError",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    issues: t.field({
      type: [FieldIssue],
      resolve: (error) => [{ path: error.field ?? "", message: error.message }],
    }),
  }),
});

builder.objectType(InputValidationError, {
  name: "ValidationError",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    issues: t.field({
      type: [FieldIssue],
      resolve: (error) =>
        error.issues.map((issue) => ({
          path: (issue.path ?? []).map((part) => String(typeof part === "object" ? part.key : part)).join("."),
          message: issue.message,
        })),
    }),
  }),
});

/** The errors every mutation may return besides its own. */
export const commonMutationErrors = [InputValidationError, InvalidInputError, NotFoundError, ForbiddenActionError];

export { DomainError };
