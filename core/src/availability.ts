// Is this error "the database cannot be reached right now" (down, restarting, connections cut),
// as opposed to a bug? Such errors become a typed UNAVAILABLE answer, never a masked 500, and
// nothing was written: every write is one transaction, rolled back with the connection.
const PRISMA_UNAVAILABLE = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
// PostgreSQL: admin shutdown, crash shutdown, cannot connect now (starting/stopping); class 08 is connection trouble.
const PG_UNAVAILABLE = /^(57P0[123]|08\d{3})$/;
const MESSAGES =
  /Can't reach database server|Connection terminated|ECONNREFUSED|ECONNRESET|the database system is (starting up|shutting down)|terminating connection due to administrator command|Server has closed the connection/i;
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 6 || typeof error !== "object" || error === null) return false;
  const record = error as {
    code?: unknown;
    kind?: unknown;
    message?: unknown;
    cause?: unknown;
    originalError?: unknown;
    meta?: { driverAdapterError?: unknown };
  };
  if (typeof record.code === "string" && (PRISMA_UNAVAILABLE.has(record.code) || PG_UNAVAILABLE.test(record.code)))
    return true;
  if (typeof record.kind === "string" && ADAPTER_KINDS.has(record.kind)) return true;
  if (typeof record.message === "string" && MESSAGES.test(record.message)) return true;
  return [record.cause, record.originalError, record.meta?.driverAdapterError].some((inner) =>
    isDatabaseUnavailable(inner, depth + 1),
  );
}
