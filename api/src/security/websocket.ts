// Websocket limits: who may hold a socket, and how much one socket may ask for at once.
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
