// Delivers due outbox messages: emails over SMTP and alert notifications to their channels
// (Slack, email, PagerDuty, ticket webhook). Every minute, and right after something is enqueued
// (core queues a run after the change's commit). Concurrent runs are safe: rows are claimed with
// FOR UPDATE SKIP LOCKED.
import { deliverOutbox } from "@steward/core/outboxDelivery";
import { outboxDelivery } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const outboxDeliveryJob = handle(outboxDelivery, ({ deps }) => deliverOutbox(deps));
