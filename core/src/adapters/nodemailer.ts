// The mail port over SMTP with nodemailer: the only module that talks to SMTP. Its errors carry
// nodemailer's `responseCode`, which is what the port promises (core/src/ports/mail.ts).
import nodemailer from "nodemailer";
import type { Env } from "../env.ts";
import type { MailSender } from "../ports/mail.ts";

type SmtpEnv = Pick<
  Env,
  "SMTP_HOST" | "SMTP_PORT" | "SMTP_SECURE" | "SMTP_USER" | "SMTP_PASSWORD" | "EMAIL_FROM" | "NODE_ENV"
>;

export function createMailSender(env: SmtpEnv): MailSender {
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
