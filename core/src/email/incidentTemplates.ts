// What we tell affected businesses during and after an incident: the operating documents'
// communication templates (payment failed, placement activated late, service degraded, service
// restored). Pure functions of the incident, like the other templates, so the outbox stores
// exactly what is sent and the preview shows exactly that.
import type { Incident } from "@steward/db/client";
import { escapeHtml, formatDate } from "./format.ts";
import { DEFAULT_SIGNATURE, layout, type RenderedEmail } from "./templates.ts";

export const incidentTemplates = [
  "payment_failed",
  "placement_activated_late",
  "service_degraded",
  "service_restored",
] as const;
export type IncidentTemplate = (typeof incidentTemplates)[number];

export interface IncidentEmailFacts {
  businessName: string;
  incident: Pick<Incident, "title" | "openedAt" | "resolvedAt">;
  timeZone: string;
  signature?: string;
}

interface TemplateText {
  subject: string;
  paragraphs: string[];
}

function wording(template: IncidentTemplate, facts: IncidentEmailFacts): TemplateText {
  const since = formatDate(facts.incident.openedAt, facts.timeZone);
  switch (template) {
    case "payment_failed":
      return {
        subject: "Action required: your featured placement payment did not go through",
        paragraphs: [
          "We couldn't process your payment for a featured placement, so the placement has not started.",
          "Please try the purchase again, or reply to this email and we will help. Nothing was charged for the failed attempt.",
        ],
      };
    case "placement_activated_late":
      return {
        subject: "Your featured placement is now active",
        paragraphs: [
          `Because of a problem on our side (since ${since}), your featured placement started later than it should have.`,
          "It is active now and runs its full length from today. We are sorry for the delay; reply to this email if anything looks wrong.",
        ],
      };
    case "service_degraded":
      return {
        subject: "We're working on a problem with the marketplace",
        paragraphs: [
          `Since ${since} part of the marketplace is not working as it should. We are on it and will write again when it is fixed.`,
          "You don't need to do anything. Your listing, reviews and placements are safe.",
        ],
      };
    case "service_restored":
      return {
        subject: "The problem with the marketplace is fixed",
        paragraphs: [
          `The problem that started on ${since} is fixed${facts.incident.resolvedAt ? ` (${formatDate(facts.incident.resolvedAt, facts.timeZone)})` : ""} and everything works as usual again.`,
          "Thank you for your patience. Reply to this email if you notice anything still wrong.",
        ],
      };
  }
}

export function renderIncidentEmail(template: IncidentTemplate, facts: IncidentEmailFacts): RenderedEmail {
  const { subject, paragraphs } = wording(template, facts);
  const signature = facts.signature ?? DEFAULT_SIGNATURE;
  const text = [
    `Hi ${facts.businessName},`,
    "",
    ...paragraphs.flatMap((paragraph) => [paragraph, ""]),
    signature,
    "",
  ].join("\n");
  const html = layout(subject, [`Hi ${escapeHtml(facts.businessName)},`, ...paragraphs.map(escapeHtml)], signature);
  return { subject, text, html };
}
