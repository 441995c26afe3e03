// The payments port over the Stripe SDK: the only module that imports `stripe`. Production talks
// to Stripe itself; development and tests talk to the local Stripe-compatible sandbox
// (sandbox/src/stripe) through the same SDK and code path, only host/port/protocol differ.
// SDK errors become PaymentsGatewayError, classified here once.
import Stripe from "stripe";
import type { PaymentsGateway } from "../ports/payments.ts";
import { PaymentsGatewayError } from "../ports/payments.ts";
import { type StripeEnv, stripeSettings } from "../stripe.ts";

/** Transient: worth retrying later with the same idempotency key (network, 409 in-flight, 429, 5xx). */
function isTransient(error: InstanceType<typeof Stripe.errors.StripeError>): boolean {
  if (
    error instanceof Stripe.errors.StripeConnectionError ||
    error instanceof Stripe.errors.StripeRateLimitError ||
    error instanceof Stripe.errors.StripeAPIError
  )
    return true;
  // 409: the same idempotency key is still in flight (a concurrent retry); 400 idempotency errors are permanent.
  const status = error.statusCode ?? 0;
  return status === 409 || status === 429 || status >= 500 || status === 0;
}

/** An SDK error as the port's error; anything else (a bug of ours, an abort) unchanged. */
export function translated(error: unknown): unknown {
  if (!(error instanceof Stripe.errors.StripeError)) return error;
  return new PaymentsGatewayError(error.message, {
    transient: isTransient(error),
    code: error.code ?? null,
    statusCode: error.statusCode ?? null,
    cause: error,
  });
}

async function call<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw translated(error);
  }
}

async function* iterated<T>(pages: AsyncIterable<T>): AsyncIterable<T> {
  try {
    for await (const item of pages) yield item;
  } catch (error) {
    throw translated(error);
  }
}

/** The port over one SDK client (tests may wrap a client of their own). */
export function stripeGateway(client: Stripe): PaymentsGateway {
  return {
    charges: {
      retrieve: (id) => call(() => client.charges.retrieve(id)),
      list: (params) => call(() => client.charges.list(params)),
      iterate: (params) => iterated(client.charges.list(params)),
    },
    refunds: {
      create: (params, options) => call(() => client.refunds.create(params, options)),
      retrieve: (id) => call(() => client.refunds.retrieve(id)),
      list: (params) => call(() => client.refunds.list(params)),
    },
    events: {
      retrieve: (id) => call(() => client.events.retrieve(id)),
    },
    webhooks: {
      // Not translated: a rejected delivery is reported by its message only.
      constructEvent: (rawBody, signature, secret, toleranceSeconds) =>
        client.webhooks.constructEvent(rawBody, signature, secret, toleranceSeconds),
    },
  };
}

/**
 * The SDK retries network errors, 409s, 429s and 5xx twice with backoff, re-sending the same
 * Idempotency-Key, so a retried refund is the same refund.
 */
export function createStripeClient(env: StripeEnv): Stripe {
  const settings = stripeSettings(env);
  return new Stripe(settings.apiKey, {
    maxNetworkRetries: 2,
    timeout: settings.timeoutMs,
    ...(settings.host !== undefined ? { host: settings.host } : {}),
    ...(settings.port !== undefined ? { port: settings.port } : {}),
    ...(settings.protocol !== undefined ? { protocol: settings.protocol } : {}),
  });
}

/** The gateway a process uses: built once where the process builds its dependencies. */
export function createStripeGateway(env: StripeEnv): PaymentsGateway {
  return stripeGateway(createStripeClient(env));
}
