/**
 * Stripe-shaped API errors. The SDK picks its error class from the HTTP status
 * (400/404 → StripeInvalidRequestError, 401 → StripeAuthenticationError,
 * 402 → StripeCardError, 429 → StripeRateLimitError, 5xx → StripeAPIError) and,
 * for 400s, from `type: 'idempotency_error'`; the body only has to look like Stripe's.
 */

export type StripeErrorType = "api_error" | "card_error" | "idempotency_error" | "invalid_request_error";

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  charge?: string;
  doc_url?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly body: StripeErrorBody;
  /**
   * Whether an idempotent request that ended in this error is remembered and replayed.
   * Stripe saves the result once an endpoint has started executing, but not when the
   * parameters failed validation, so a corrected retry with the same key still works.
   */
  readonly replayable: boolean;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    body: StripeErrorBody,
    options: { replayable?: boolean; headers?: Record<string, string> } = {},
  ) {
    super(body.message);
    this.name = "ApiError";
    this.status = status;
    this.body =
      body.code && !body.doc_url
        ? {
            ...body,
            doc_url: `https://stripe.com/docs/error-codes/${body.code.replaceAll("_", "-")}`,
          }
        : body;
    this.replayable = options.replayable ?? true;
    this.headers = options.headers ?? {};
  }
}

/** A parameter failed validation: never remembered under an idempotency key. */
export function invalidParam(param: string, message: string, code = "parameter_invalid"): ApiError {
  return new ApiError(400, { type: "invalid_request_error", code, param, message }, { replayable: false });
}

export function missingParam(param: string): ApiError {
  return new ApiError(
    400,
    {
      type: "invalid_request_error",
      code: "parameter_missing",
      param,
      message: `Missing required param: ${param}.`,
    },
    { replayable: false },
  );
}

export function resourceMissing(kind: string, id: string, param?: string, status = 404): ApiError {
  return new ApiError(
    status,
    {
      type: "invalid_request_error",
      code: "resource_missing",
      message: `No such ${kind}: '${id}'`,
      ...(param === undefined ? {} : { param }),
    },
    { replayable: false },
  );
}
