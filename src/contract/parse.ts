// Turns the bytes of one Kafka record into a typed event or a rejection that names the field and why.
// Every rejection ends up in the dead-letter topic and table, so its `reason` is a small closed set
// (good for metrics and filtering) and its `detail` is for people.
import { z } from "zod";
import { parseEventTime, type Transaction, TransactionSchema } from "./transaction.ts";

export const REJECT_REASONS = [
  "empty",
  "too_large",
  "invalid_utf8",
  "malformed_json",
  "not_an_object",
  "schema",
  "late",
] as const;
export const RejectReasonSchema = z.enum(REJECT_REASONS);
export type RejectReason = z.infer<typeof RejectReasonSchema>;

export interface Rejection {
  ok: false;
  reason: RejectReason;
  /** Dotted path of the offending field, when one field is to blame. */
  field?: string;
  /** One line a person can act on, e.g. `amount: must be greater than 0 (got -5)`. */
  detail: string;
  /** Present when the payload parsed far enough to have one; lets the DLQ be joined to the event. */
  transactionId?: string;
}

export interface Accepted {
  ok: true;
  event: Transaction;
  /** Event time (`timestamp`) in epoch milliseconds. */
  eventTime: number;
  /** The decoded JSON object as received, extra fields included (stored as the raw payload). */
  payload: Record<string, unknown>;
}

export type ParseResult = Accepted | Rejection;

export interface ParseOptions {
  /** Payloads longer than this many bytes are rejected before decoding. */
  maxBytes: number;
}

export const DEFAULT_MAX_EVENT_BYTES = 64 * 1024;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function describeValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  if (v === undefined) return "nothing";
  return Array.isArray(v) ? "an array" : "an object";
}

function reject(reason: RejectReason, detail: string, field?: string, transactionId?: string): Rejection {
  const r: Rejection = { ok: false, reason, detail };
  if (field !== undefined) r.field = field;
  if (transactionId !== undefined) r.transactionId = transactionId;
  return r;
}

/** Validates an already-decoded value against the contract. */
export function validateEvent(value: unknown): ParseResult {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return reject("not_an_object", `expected a JSON object, got ${describeValue(value)}`);
  }
  const obj = value as Record<string, unknown>;
  const txId = typeof obj.transaction_id === "string" ? obj.transaction_id.slice(0, 64) : undefined;
  const result = TransactionSchema.safeParse(obj);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.map(String).join(".") || undefined;
    const got = field === undefined ? "" : ` (got ${describeValue(obj[field.split(".")[0] as string])})`;
    const message = issue?.message ?? "invalid";
    return reject("schema", field === undefined ? message : `${field}: ${message}${got}`, field, txId);
  }
  return { ok: true, event: result.data, eventTime: parseEventTime(result.data.timestamp), payload: obj };
}

/** Parses one record value: size, UTF-8, JSON, then the contract. */
export function parseRecord(value: Uint8Array | null | undefined, options: ParseOptions): ParseResult {
  if (value === null || value === undefined || value.byteLength === 0) {
    return reject("empty", "record has no value");
  }
  if (value.byteLength > options.maxBytes) {
    return reject("too_large", `payload is ${value.byteLength} bytes; the limit is ${options.maxBytes}`);
  }
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    return reject("invalid_utf8", "payload is not valid UTF-8");
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(text);
  } catch (err) {
    return reject("malformed_json", `not JSON: ${(err as Error).message}`);
  }
  return validateEvent(decoded);
}
