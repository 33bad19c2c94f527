// Tells a database outage apart from a bug, so clients get SERVICE_UNAVAILABLE (retry) rather
// than INTERNAL_SERVER_ERROR.
const CONNECTION_ERROR_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "P1001", "P1002", "P1017"]);
const CONNECTION_MESSAGES = /connection terminated|connection refused|timeout exceeded when trying to connect|server closed the connection|Can't reach database|terminating connection|the database system is (starting up|shutting down)|Connection terminated|not queryable/i;
/** Prisma 7's driver-adapter error kinds that mean the database could not be reached or dropped the connection. */
const ADAPTER_ERROR_KINDS = new Set(["ConnectionClosed", "DatabaseNotReachable", "SocketTimeout", "TooManyConnections"]);

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const candidate = current as { code?: unknown; kind?: unknown; message?: unknown; cause?: unknown };
    if (typeof candidate.kind === "string" && ADAPTER_ERROR_KINDS.has(candidate.kind)) return true;
    if (typeof candidate.code === "string" && CONNECTION_ERROR_CODES.has(candidate.code)) return true;
    if (typeof candidate.message === "string" && CONNECTION_MESSAGES.test(candidate.message)) return true;
    current = candidate.cause;
  }
  return false;
}
