// Replaying stored Stripe webhook events (the list itself is `webhookEvents` in payments.ts).
// The resolver validates and calls core; core re-fetches from Stripe and re-processes once.
import {
  type EventReplay,
  MAX_REPLAY_EVENTS,
  replayStripeEvents,
  ReplayStripeUnavailableError,
  WebhookEventNotAtStripeError,
} from "@steward/core/webhookEvents";
import { z } from "zod";
import { builder } from "../builder.ts";
import { commonMutationErrors, ErrorInterface } from "./errors.ts";
import { StripeWebhookEventNode, WebhookEventStatusEnum } from "./payments.ts";

builder.objectType(WebhookEventNotAtStripeError, {
  name: "WebhookEventNotAtStripeError",
  description: "Stripe has no event with this id. Nothing was replayed.",
  interfaces: [ErrorInterface],
  fields: (t) => ({ eventId: t.exposeString("eventId") }),
});
builder.objectType(ReplayStripeUnavailableError, {
  name: "ReplayStripeUnavailableError",
  description: "Stripe could not be reached to re-fetch the events. Nothing was replayed.",
  interfaces: [ErrorInterface],
});

const ReplayOutcomeEnum = builder.enumType("WebhookReplayOutcome", {
  values: {
    REPROCESSED: { description: "Re-fetched and processed again (idempotent: nothing changes twice)." },
    ALREADY_REPLAYING: { description: "Another replay of this event was running; this one did nothing." },
    FAILED: { description: "Processing failed; the event's lastError says why." },
  },
});

const WebhookReplayType = builder.objectRef<EventReplay>("WebhookReplay").implement({
  description: "What one event's replay did.",
  fields: (t) => ({
    eventId: t.exposeString("eventId", { description: "Stripe's event id (evt_…)." }),
    outcome: t.expose("outcome", { type: ReplayOutcomeEnum }),
    summary: t.exposeString("summary"),
    status: t.expose("status", { type: WebhookEventStatusEnum }),
    event: t.prismaField({
      type: "StripeWebhookEvent",
      resolve: (query, replay, _args, { db }) =>
        db.stripeWebhookEvent.findUniqueOrThrow({ ...query, where: { id: replay.eventId } }),
    }),
  }),
});

/** The charge a stored event is about: its object, or the charge of the refund it is about. */
function chargeIdOf(event: { objectId: string | null; payload: unknown }): string | null {
  if (event.objectId?.startsWith("ch_")) return event.objectId;
  const object = (event.payload as { data?: { object?: { charge?: unknown } } } | null)?.data?.object;
  return typeof object?.charge === "string" ? object.charge : null;
}

builder.prismaObjectFields("StripeWebhookEvent", (t) => ({
  chargeId: t.string({
    nullable: true,
    description: "The charge this event is about (itself, or the charge of its refund).",
    select: { objectId: true, payload: true },
    resolve: chargeIdOf,
  }),
}));

builder.mutationFields((t) => ({
  replayWebhookEvents: t.field({
    type: [WebhookReplayType],
    description: `Re-fetch each event from Stripe and process it again (at most ${MAX_REPLAY_EVENTS}). Idempotent: a payment or placement never changes twice; concurrent replays of one event process it once. Audited per event.`,
    authScopes: { operator: true },
    errors: { types: [...commonMutationErrors, WebhookEventNotAtStripeError, ReplayStripeUnavailableError] },
    args: {
      ids: t.arg.globalIDList({
        for: StripeWebhookEventNode,
        validate: z.array(z.unknown()).min(1).max(MAX_REPLAY_EVENTS),
      }),
    },
    resolve: (_root, args, context) =>
      replayStripeEvents(
        context.deps,
        context.actor,
        args.ids.map((id) => id.id),
      ),
  }),
}));
