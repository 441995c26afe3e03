// Sends one email over SMTP with nodemailer. Only the outbox delivery calls this: nothing else in
// Steward talks to SMTP directly.
import nodemailer from "nodemailer";
import type { Env } from "../env.ts";

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

export interface EmailSender {
  send(email: OutgoingEmail): Promise<SendResult>;
  close(): void;
}

/** An SMTP error answered by the server (e.g. 451 try later, 550 mailbox unknown). */
export function smtpResponseCode(error: unknown): number | null {
  if (typeof error === "object" && error !== null && "responseCode" in error) {
    const code = (error as { responseCode?: unknown }).responseCode;
    return typeof code === "number" ? code : null;
  }
  return null;
}

type SmtpEnv = Pick<
  Env,
  "SMTP_HOST" | "SMTP_PORT" | "SMTP_SECURE" | "SMTP_USER" | "SMTP_PASSWORD" | "EMAIL_FROM" | "NODE_ENV"
>;

export function createEmailSender(env: SmtpEnv): EmailSender {
  const transport = nodemailer.createTransport({
    host: env.SMTP_HOST,
    port: env.SMTP_PORT,
    secure: env.SMTP_SECURE,
    // Plain SMTP is only acceptable to the local sandbox; in production insist on STARTTLS.
    requireTLS: env.NODE_ENV === "production" && !env.SMTP_SECURE,
    ...(env.SMTP_USER ? { auth: { user: env.SMTP_USER, pass: env.SMTP_PASSWORD ?? "" } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    async send(email) {
      const info = await transport.sendMail({
        from: env.EMAIL_FROM,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: email.messageId,
        ...(email.headers ? { headers: email.headers } : {}),
      });
      return { messageId: info.messageId, response: info.response };
    },
    close() {
      transport.close();
    },
  };
}
