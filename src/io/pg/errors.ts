// Which database failures are worth retrying unchanged. The worker's retry loop backs off and tries the
// same batch again on these; anything else (a bug, bad SQL, a constraint) is not cured by waiting.

/** Socket-level failures: the server is down, restarting, or the network dropped the connection. */
const TRANSIENT_NODE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
]);

/** SQLSTATEs after which the same statement may well succeed later. */
const TRANSIENT_SQLSTATES = new Set([
  "57P01", // admin_shutdown: server stopping or our backend was terminated
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: starting up or in recovery
  "57P05", // idle_session_timeout
  "53300", // too_many_connections
  "40001", // serialization_failure
  "40P01", // deadlock_detected: the other transaction went through, ours can be replayed
  "55P03", // lock_not_available (lock_timeout)
]);

/** node-postgres reports a dropped connection with these messages and no code. */
const TRANSIENT_MESSAGES = [
  /Connection terminated/i,
  /connection error and is not queryable/i,
  /timeout exceeded when trying to connect/i,
  /Connection ended/i,
  /server closed the connection unexpectedly/i,
];

function prop(err: object, key: string): unknown {
  return (err as Record<string, unknown>)[key];
}

/**
 * True when `err` says PostgreSQL was unreachable or went away (refused, reset, shutting down, starting up,
 * too many connections, serialization failure or deadlock), so retrying the whole operation later is
 * the right response. False for everything else, including CheckpointConflictError.
 */
export function isTransientDbError(err: unknown): boolean {
  return transient(err, 0);
}

function transient(err: unknown, depth: number): boolean {
  if (typeof err !== "object" || err === null || depth > 4) return false;
  const code = prop(err, "code");
  if (typeof code === "string") {
    if (TRANSIENT_NODE_CODES.has(code)) return true;
    if (TRANSIENT_SQLSTATES.has(code)) return true;
    if (/^08[0-9A-Z]{3}$/.test(code)) return true; // class 08: connection exception
  }
  const message = prop(err, "message");
  if (typeof message === "string" && TRANSIENT_MESSAGES.some((re) => re.test(message))) return true;
  // Node's connect to "localhost" tries ::1 and 127.0.0.1 and reports an AggregateError of both.
  if (err instanceof AggregateError && err.errors.some((e) => transient(e, depth + 1))) return true;
  return transient(prop(err, "cause"), depth + 1);
}
