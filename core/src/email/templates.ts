// Transactional email templates: each renders a subject, a plain-text part and an HTML part from
// plain data. Pure functions, so the outbox stores exactly what will be sent.
import { daysAgo, escapeHtml, formatDate, formatMoney, wholeDaysBetween } from "./format.ts";

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export interface RefundEmailFacts {
  businessName: string;
  amountCents: number;
  currency: string;
  purchasedAt: Date;
  /** Marketplace time zone, for the purchase date. */
  timeZone: string;
  signature?: string;
}

export const DEFAULT_SIGNATURE = "The marketplace team";

export function layout(title: string, paragraphs: readonly string[], signature: string): string {
  const body = paragraphs.map((paragraph) => `<p style="margin:0 0 16px">${paragraph}</p>`).join("\n      ");
  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
  <body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#1f2933;line-height:1.5">
    <div style="max-width:560px;margin:0 auto;padding:24px">
      ${body}
      <p style="margin:24px 0 0">${escapeHtml(signature)}</p>
    </div>
  </body>
</html>
`;
}

export function refundApprovedEmail(facts: RefundEmailFacts & { stripeRefundId: string }): RenderedEmail {
  const amount = formatMoney(facts.amountCents, facts.currency);
  const purchased = formatDate(facts.purchasedAt, facts.timeZone);
  const signature = facts.signature ?? DEFAULT_SIGNATURE;
  const subject = `Your refund of ${amount} has been processed`;
  const text = [
    `Hi ${facts.businessName},`,
    "",
    `Refund processed: we have refunded ${amount} for your featured placement purchased on ${purchased}.`,
    "Look for it on your statement in 3–5 business days.",
    "",
    "Your featured placement ended with this refund.",
    `Refund reference: ${facts.stripeRefundId}`,
    "",
    signature,
    "",
  ].join("\n");
  const html = layout(
    subject,
    [
      `Hi ${escapeHtml(facts.businessName)},`,
      `<strong>Refund processed:</strong> we have refunded <strong>${escapeHtml(amount)}</strong> for your featured placement purchased on ${escapeHtml(purchased)}. Look for it on your statement in 3–5 business days.`,
      "Your featured placement ended with this refund.",
      `Refund reference: <code>${escapeHtml(facts.stripeRefundId)}</code>`,
    ],
    signature,
  );
  return { subject, text, html };
}

export function refundDeniedEmail(
  facts: RefundEmailFacts & { decidedAt: Date; reason: string; outsideWindow: boolean; windowDays: number },
): RenderedEmail {
  const purchased = formatDate(facts.purchasedAt, facts.timeZone);
  const ago = daysAgo(wholeDaysBetween(facts.purchasedAt, facts.decidedAt));
  const signature = facts.signature ?? DEFAULT_SIGNATURE;
  const subject = "About your refund request";
  const explanation = facts.outsideWindow
    ? `Unfortunately, refunds are only available within ${facts.windowDays} days of purchase. Your purchase was on ${purchased}, which is ${ago}. We cannot process this refund.`
    : `We have reviewed your refund request and cannot approve it. Your purchase was on ${purchased}, which is ${ago}.`;
  const text = [
    `Hi ${facts.businessName},`,
    "",
    explanation,
    "",
    `Our note: ${facts.reason}`,
    "",
    `Amount: ${formatMoney(facts.amountCents, facts.currency)}`,
    "",
    signature,
    "",
  ].join("\n");
  const html = layout(
    subject,
    [
      `Hi ${escapeHtml(facts.businessName)},`,
      escapeHtml(explanation),
      `Our note: ${escapeHtml(facts.reason)}`,
      `Amount: ${escapeHtml(formatMoney(facts.amountCents, facts.currency))}`,
    ],
    signature,
  );
  return { subject, text, html };
}

export interface OperatorLinkEmailFacts {
  /** The one-time link (its token is in the fragment, so it never reaches a server log). */
  url: string;
  expiresAt: Date;
  /** Marketplace time zone, for the expiry. */
  timeZone: string;
  signature?: string;
}

function formatExpiry(expiresAt: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-AU", { dateStyle: "medium", timeStyle: "short", timeZone }).format(expiresAt);
}

export function operatorInviteEmail(
  facts: OperatorLinkEmailFacts & { inviterName: string; role: "ADMIN" | "OPERATOR" | "VIEWER" },
): RenderedEmail {
  const signature = facts.signature ?? "Steward";
  const expires = formatExpiry(facts.expiresAt, facts.timeZone);
  const role = facts.role.charAt(0) + facts.role.slice(1).toLowerCase();
  const subject = `${facts.inviterName} invited you to Steward`;
  const text = [
    "Hello,",
    "",
    `${facts.inviterName} invited you to the marketplace's Steward console as ${role === "Admin" ? "an" : "a"} ${role}.`,
    "Choose your name and password here (the link works once):",
    "",
    facts.url,
    "",
    `The link expires on ${expires}. If you did not expect this invitation, ignore this email.`,
    "",
    signature,
    "",
  ].join("\n");
  const html = layout(
    subject,
    [
      "Hello,",
      `${escapeHtml(facts.inviterName)} invited you to the marketplace's Steward console as ${role === "Admin" ? "an" : "a"} <strong>${escapeHtml(role)}</strong>.`,
      `<a href="${escapeHtml(facts.url)}">Accept the invitation</a> and choose your name and password (the link works once).`,
      `The link expires on ${escapeHtml(expires)}. If you did not expect this invitation, ignore this email.`,
    ],
    signature,
  );
  return { subject, text, html };
}

export function passwordResetEmail(facts: OperatorLinkEmailFacts & { name: string }): RenderedEmail {
  const signature = facts.signature ?? "Steward";
  const expires = formatExpiry(facts.expiresAt, facts.timeZone);
  const subject = "Choose a new Steward password";
  const text = [
    `Hi ${facts.name},`,
    "",
    "An administrator sent you a link to choose a new Steward password (it works once):",
    "",
    facts.url,
    "",
    `The link expires on ${expires}. Your current password keeps working until you choose a new one; then every open session ends.`,
    "",
    signature,
    "",
  ].join("\n");
  const html = layout(
    subject,
    [
      `Hi ${escapeHtml(facts.name)},`,
      `An administrator sent you a link to choose a new Steward password: <a href="${escapeHtml(facts.url)}">choose a new password</a> (it works once).`,
      `The link expires on ${escapeHtml(expires)}. Your current password keeps working until you choose a new one; then every open session ends.`,
    ],
    signature,
  );
  return { subject, text, html };
}
