// Websocket limits: how often one address may connect and how many sockets it may hold, who may
// hold a socket, and how much one socket may ask for at once.
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";

/** graphql-ws's own "Forbidden" close code: the client must not retry with the same credentials. */
export const FORBIDDEN_CLOSE_CODE = 4403;

/**
 * graphql-ws registers an operation before calling onSubscribe, so the count includes the one
 * being subscribed. One socket with unbounded subscriptions would hold server memory and Redis
 * listeners without limit.
 */
export function operationsOverCap(openOperations: Record<string, unknown>, cap: number): boolean {
  return Object.keys(openOperations).length > cap;
}

/** Credentials stopped being valid after the socket connected (revoked token, ended session). */
export function refusedSocket(socket: WebSocket): void {
  socket.close(FORBIDDEN_CLOSE_CODE, "Forbidden");
}

/** Seconds a client refused for holding too many sockets is told to wait: a slot frees when one closes. */
export const OPEN_SOCKETS_RETRY_AFTER_SECONDS = 10;

export interface ConnectionGate {
  /**
   * Decides on one upgrade from `address` before the handshake: null to go on (the socket is then
   * counted until it closes), or the seconds to put in Retry-After.
   */
  admit(address: string, socket: Duplex): Promise<number | null>;
}

/**
 * Connection attempts are counted in Redis (every instance shares the budget, and an attempt that
 * then fails to sign in has already spent its point); open sockets are counted per instance, since
 * a socket lives on exactly one.
 */
export function createConnectionGate(
  limitSocketAddress: (address: string) => Promise<number | null>,
  maxOpenPerAddress: number,
): ConnectionGate {
  const open = new Map<string, number>();
  return {
    async admit(address, socket) {
      const wait = await limitSocketAddress(address);
      if (wait !== null) return wait;
      // Reset while Redis answered: its close has fired already, so counting it would hold the slot forever.
      if (socket.destroyed) return null;
      const current = open.get(address) ?? 0;
      if (current >= maxOpenPerAddress) return OPEN_SOCKETS_RETRY_AFTER_SECONDS;
      // Counted on the TCP socket, whose close fires however the upgrade or the websocket ends.
      open.set(address, current + 1);
      socket.once("close", () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left <= 0) open.delete(address);
        else open.set(address, left);
      });
      return null;
    },
  };
}

/** Answers an upgrade request with 429 and Retry-After instead of completing the handshake. */
export function refuseUpgrade(socket: Duplex, retryAfterSeconds: number): void {
  const body = JSON.stringify({
    errors: [
      { message: `Too many connections; retry in ${retryAfterSeconds} s`, extensions: { code: "RATE_LIMITED" } },
    ],
  });
  socket.once("finish", () => socket.destroy());
  socket.end(
    [
      "HTTP/1.1 429 Too Many Requests",
      `Retry-After: ${retryAfterSeconds}`,
      "Content-Type: application/json",
      `Content-Length: ${Buffer.byteLength(body)}`,
      "Connection: close",
      "",
      body,
    ].join("\r\n"),
  );
}

/**
 * The origins a browser may open the socket from: PUBLIC_URL's and the configured extra ones.
 * Cookies ride along with any cross-site websocket upgrade (SameSite does not stop a same-site
 * subdomain, and not every browser applies it to upgrades), so the Origin header is the check
 * against cross-site websocket hijacking.
 */
export function allowedOrigins(publicUrl: string, extra: readonly string[]): Set<string> {
  return new Set([publicUrl, ...extra].map((url) => new URL(url).origin));
}

/** A missing Origin is a non-browser client (it carries a bearer token, no ambient cookie): allowed. */
export function originAllowed(origin: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  try {
    return allowed.has(new URL(origin).origin);
  } catch {
    return false; // "null" (sandboxed frames, file://) and garbage
  }
}

/** Answers an upgrade from a foreign origin with 403 instead of completing the handshake. */
export function refuseForeignOrigin(socket: Duplex): void {
  const body = JSON.stringify({
    errors: [{ message: "This origin may not open a websocket", extensions: { code: "FORBIDDEN_ORIGIN" } }],
  });
  socket.once("finish", () => socket.destroy());
  socket.end(
    [
      "HTTP/1.1 403 Forbidden",
      "Content-Type: application/json",
      `Content-Length: ${Buffer.byteLength(body)}`,
      "Connection: close",
      "",
      body,
    ].join("\r\n"),
  );
}
