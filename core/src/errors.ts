// Expected failures of the domain. The API turns each into a typed GraphQL error member;
// anything else is a bug and stays masked.

export abstract class DomainError extends Error {
  abstract readonly code: string;
}

export class NotFoundError extends DomainError {
  readonly code = "NOT_FOUND";
  constructor(
    readonly entity: string,
    readonly entityId: string,
  ) {
    super(`${entity} ${entityId} was not found`);
  }
}

/** Someone else changed the thing first (a concurrent decision, a stale version). */
export class ConflictError extends DomainError {
  readonly code = "CONFLICT";
}

export class InvalidInputError extends DomainError {
  readonly code = "INVALID_INPUT";
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export class InvalidCredentialsError extends DomainError {
  readonly code = "INVALID_CREDENTIALS";
  constructor() {
    super("Invalid email or password");
  }
}

export class TooManyAttemptsError extends DomainError {
  readonly code = "TOO_MANY_ATTEMPTS";
  constructor(readonly retryAfterSeconds: number) {
    super(
      retryAfterSeconds < 60
        ? `Too many failed logins; try again in ${retryAfterSeconds} second(s)`
        : `Too many failed logins; try again in ${Math.ceil(retryAfterSeconds / 60)} minute(s)`,
    );
  }
}

/** The actor is known but the autonomy rules do not allow this action. */
export class ForbiddenActionError extends DomainError {
  readonly code = "FORBIDDEN";
}
