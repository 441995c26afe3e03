/**
 * A local SMTP receiver (a mail catcher) for dev, demo and tests: accepts every message over
 * plain SMTP, parses it with mailparser and keeps it in memory. Tests read what arrived through
 * the in-process API; the demo through HTTP:
 *   GET    /messages            every message, oldest first (?to=addr filters by recipient)
 *   DELETE /messages            forget them
 *   POST   /faults {count, code} refuse the next `count` messages with `code` (default 451)
 *   GET    /health
 * Never used in production.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface ReceivedEmail {
  /** Sequence number, 1-based. */
  seq: number;
  receivedAt: string;
  envelopeFrom: string | null;
  envelopeTo: string[];
  messageId: string | null;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string | null;
  headers: Record<string, string>;
}

export interface SmtpSandboxOptions {
  /** SMTP port; 0 or omitted: ephemeral. */
  port?: number;
  host?: string;
  /** HTTP port for /messages; null: no HTTP server. Default null. */
  httpPort?: number | null;
}

export interface SmtpSandbox {
  readonly host: string;
  readonly port: number;
  /** http://host:port of the inspection API, when started. */
  readonly httpUrl: string | null;
  messages(): readonly ReceivedEmail[];
  /** Resolves with the messages once `predicate` holds (polling), or rejects after `timeoutMs`. */
  waitFor(
    predicate: (messages: readonly ReceivedEmail[]) => boolean,
    timeoutMs?: number,
  ): Promise<readonly ReceivedEmail[]>;
  /** Refuse the next `count` messages with an SMTP error (451: try later; 5xx: permanent). */
  failNext(count: number, code?: number): void;
  clear(): void;
  stop(): Promise<void>;
}

interface SmtpError extends Error {
  responseCode: number;
}

function smtpError(code: number, message: string): SmtpError {
  return Object.assign(new Error(message), { responseCode: code });
}

function addresses(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  const out: string[] = [];
  for (const entry of list as { value?: { address?: string }[] }[]) {
    for (const item of entry.value ?? []) if (item.address) out.push(item.address);
  }
  return out;
}

export async function startSmtpSandbox(options: SmtpSandboxOptions = {}): Promise<SmtpSandbox> {
  const host = options.host ?? "127.0.0.1";
  const received: ReceivedEmail[] = [];
  let failures: { remaining: number; code: number } = { remaining: 0, code: 451 };

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    banner: "Steward SMTP sandbox",
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          if (failures.remaining > 0) {
            failures.remaining -= 1;
            callback(
              smtpError(
                failures.code,
                failures.code >= 500 ? "Mailbox unavailable (sandbox fault)" : "Try again later (sandbox fault)",
              ),
            );
            return;
          }
          const headers: Record<string, string> = {};
          for (const [key, value] of parsed.headers) {
            headers[key] = typeof value === "string" ? value : JSON.stringify(value);
          }
          const mailFrom = session.envelope.mailFrom;
          received.push({
            seq: received.length + 1,
            receivedAt: new Date().toISOString(),
            envelopeFrom: mailFrom ? mailFrom.address : null,
            envelopeTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            messageId: parsed.messageId ?? null,
            from: parsed.from?.text ?? "",
            to: addresses(parsed.to),
            subject: parsed.subject ?? "",
            text: parsed.text ?? "",
            html: typeof parsed.html === "string" ? parsed.html : null,
            headers,
          });
          callback();
        })
        .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
    },
  });
  smtp.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    smtp.server.once("error", reject);
    smtp.listen(options.port ?? 0, host, () => {
      smtp.server.off("error", reject);
      resolve();
    });
  });
  const port = (smtp.server.address() as AddressInfo).port;

  let httpServer: http.Server | null = null;
  let httpUrl: string | null = null;
  if (options.httpPort !== undefined && options.httpPort !== null) {
    httpServer = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://sandbox.local");
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body, null, 2));
      };
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const key = `${req.method ?? "GET"} ${url.pathname.replace(/\/+$/, "") || "/"}`;
        if (key === "GET /health") return send(200, { ok: true, smtp: `${host}:${port}`, messages: received.length });
        if (key === "GET /messages") {
          const to = url.searchParams.get("to")?.toLowerCase();
          const data = to ? received.filter((m) => m.to.some((a) => a.toLowerCase() === to)) : received;
          return send(200, { count: data.length, data });
        }
        if (key === "DELETE /messages") {
          received.length = 0;
          return send(200, { ok: true });
        }
        if (key === "POST /faults") {
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as {
              count?: unknown;
              code?: unknown;
            };
            const count = typeof body.count === "number" ? body.count : 1;
            const code = typeof body.code === "number" ? body.code : 451;
            failures = { remaining: count, code };
            return send(200, failures);
          } catch {
            return send(400, { error: "body must be JSON: { count, code }" });
          }
        }
        return send(404, { error: `Unknown endpoint ${key}` });
      });
    });
    const server = httpServer;
    await new Promise<void>((resolve) => server.listen(options.httpPort ?? 0, host, resolve));
    httpUrl = `http://${host}:${(server.address() as AddressInfo).port}`;
  }

  return {
    host,
    port,
    httpUrl,
    messages: () => received,
    async waitFor(predicate, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) throw new Error(`SMTP sandbox: condition not met within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return received;
    },
    failNext(count, code = 451) {
      failures = { remaining: count, code };
    },
    clear() {
      received.length = 0;
      failures = { remaining: 0, code: 451 };
    },
    async stop() {
      const closeHttp = httpServer
        ? new Promise<void>((resolve) => {
            httpServer?.close(() => resolve());
            httpServer?.closeAllConnections();
          })
        : Promise.resolve();
      await Promise.all([new Promise<void>((resolve) => smtp.close(() => resolve())), closeHttp]);
    },
  };
}
