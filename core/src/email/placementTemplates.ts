// Emails to a business about its featured placement: it started late (a missed charge imported,
// a held charge accepted), it ends soon, and where it stands in a queue (the queue-position
// playbook). Pure functions, like templates.ts, so the outbox stores exactly what is sent.
import { escapeHtml, formatDate } from "./format.ts";
import { DEFAULT_SIGNATURE, layout, type RenderedEmail } from "./templates.ts";

function render(subject: string, paragraphs: readonly string[], signature = DEFAULT_SIGNATURE): RenderedEmail {
  const text = [...paragraphs.flatMap((paragraph) => [paragraph, ""]), signature, ""].join("\n");
  return { subject, text, html: layout(subject, paragraphs.map(escapeHtml), signature) };
}

export interface PlacementStartedFacts {
  businessName: string;
  regionName: string;
  paidAt: Date;
  /** ACTIVE: featured from now until `featuredUntil`; QUEUED: waiting at `position`. */
  status: "ACTIVE" | "QUEUED";
  featuredUntil: Date | null;
  position: number | null;
  estimatedActivation: Date | null;
  timeZone: string;
  signature?: string;
}

/** A payment we recorded late (a missed webhook imported, a held charge accepted): it now counts. */
export function placementStartedEmail(facts: PlacementStartedFacts): RenderedEmail {
  const paid = formatDate(facts.paidAt, facts.timeZone);
  const opening = `Hi ${facts.businessName},`;
  const apology = `Your payment of ${paid} for a featured placement in ${facts.regionName} took us longer to record than it should have. Sorry for the wait: it is recorded now.`;
  if (facts.status === "ACTIVE") {
    const until = facts.featuredUntil ? formatDate(facts.featuredUntil, facts.timeZone) : "the end of your period";
    return render(
      `Your featured placement in ${facts.regionName} is active`,
      [opening, apology, `Your profile is featured from today until ${until}.`],
      facts.signature,
    );
  }
  const eta = facts.estimatedActivation
    ? ` It is expected to start around ${formatDate(facts.estimatedActivation, facts.timeZone)}.`
    : "";
  return render(
    `Your featured placement in ${facts.regionName}: #${facts.position ?? "?"} in the queue`,
    [
      opening,
      apology,
      `All featured slots in ${facts.regionName} are taken, so you are #${facts.position ?? "?"} in the queue, in order of payment.${eta}`,
    ],
    facts.signature,
  );
}

export interface PlacementEndingFacts {
  businessName: string;
  regionName: string;
  featuredUntil: Date;
  timeZone: string;
  signature?: string;
}

export function placementEndingSoonEmail(facts: PlacementEndingFacts): RenderedEmail {
  const until = formatDate(facts.featuredUntil, facts.timeZone);
  return render(
    `Your featured placement in ${facts.regionName} ends on ${until}`,
    [
      `Hi ${facts.businessName},`,
      `A reminder: your featured placement in ${facts.regionName} ends on ${until}.`,
      "To stay featured, buy another placement: you join the queue in order of payment and are featured again as soon as a slot is free.",
    ],
    facts.signature,
  );
}

export interface QueuePositionFacts {
  businessName: string;
  regionName: string;
  position: number;
  paidAt: Date;
  estimatedActivation: Date | null;
  featuredSlots: number;
  timeZone: string;
  signature?: string;
}

/** Playbook 4, step 4: the friendly, transparent explanation of the FIFO queue. */
export function queuePositionEmail(facts: QueuePositionFacts): RenderedEmail {
  const paid = formatDate(facts.paidAt, facts.timeZone);
  const eta = facts.estimatedActivation
    ? `Your turn is estimated to come around ${formatDate(facts.estimatedActivation, facts.timeZone)}, based on when the current featured placements end.`
    : "Your turn comes as soon as a featured slot frees up.";
  return render(
    `Your place in the ${facts.regionName} featured queue: #${facts.position}`,
    [
      `Hi ${facts.businessName},`,
      `Thank you for asking about your queue position. We have checked our records: your featured placement was paid on ${paid}, and you are position #${facts.position} in the queue for ${facts.regionName}.`,
      `How the queue works: ${facts.regionName} has ${facts.featuredSlots} featured slots, filled first come, first served. When a featured period ends, the next business in the queue is promoted automatically; nobody can jump the queue.`,
      eta,
      "Thank you for your patience — your profile will be featured soon.",
    ],
    facts.signature,
  );
}
