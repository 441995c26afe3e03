// The mail port: how core sends one email. Only the outbox delivery (and the notification
// channels it drives) sends; the SMTP implementation is core/src/adapters/nodemailer.ts.

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Stable per outbox message, so a receiver can recognise a redelivery of the same email. */
  messageId: string;
  headers?: Record<string, string>;
}

export interface SendResult {
  messageId: string;
  /** The SMTP server's final answer, e.g. "250 OK: queued". */
  response: string;
}

/** A failed `send` rejects with an error whose `responseCode` is the server's SMTP reply code, when it answered. */
export interface MailSender {
  send(email: OutgoingEmail): Promise<SendResult>;
  close(): void;
}

/** The SMTP reply code of a failed send (e.g. 451 try later, 550 mailbox unknown); null when no server answered. */
export function smtpResponseCode(error: unknown): number | null {
  if (typeof error === "object" && error !== null && "responseCode" in error) {
    const code = (error as { responseCode?: unknown }).responseCode;
    return typeof code === "number" ? code : null;
  }
  return null;
}
