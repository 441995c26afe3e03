// Alert emails over SMTP (the same sender the email outbox uses).
import { escapeHtml } from "../email/format.ts";
import { type MailSender, smtpResponseCode } from "../ports/mail.ts";
import { DeliveryFailure, headline, type NotificationPayload, type SendOutcome } from "./http.ts";

export function alertEmail(notification: NotificationPayload, recipients: readonly string[]) {
  const subject = headline(notification);
  const facts = Object.entries(notification.fields);
  const text = [subject, "", notification.text, "", ...facts.map(([name, value]) => `${name}: ${value}`)].join("\n");
  const html = [
    `<h2>${escapeHtml(subject)}</h2>`,
    `<p>${escapeHtml(notification.text)}</p>`,
    facts.length > 0
      ? `<table>${facts.map(([name, value]) => `<tr><th align="left">${escapeHtml(name)}</th><td>${escapeHtml(value)}</td></tr>`).join("")}</table>`
      : "",
    `<p style="color:#666">${escapeHtml(notification.source)} · ${escapeHtml(notification.dedupKey)}</p>`,
  ].join("\n");
  return { to: recipients.join(", "), subject, text, html };
}

export async function sendAlertEmail(
  sender: MailSender,
  deliveryId: string,
  recipients: readonly string[],
  notification: NotificationPayload,
): Promise<SendOutcome> {
  try {
    const result = await sender.send({
      ...alertEmail(notification, recipients),
      messageId: `<${deliveryId}@notify.steward>`,
      headers: { "X-Steward-Dedup-Key": notification.dedupKey },
    });
    const code = /^(\d{3})/.exec(result.response);
    return { responseCode: code ? Number(code[1]) : null, response: result.response.slice(0, 500) };
  } catch (error) {
    const code = smtpResponseCode(error);
    // 5xx from the server is a permanent refusal (unknown mailbox...).
    throw new DeliveryFailure(
      error instanceof Error ? error.message : String(error),
      code,
      code !== null && code >= 500,
    );
  }
}
