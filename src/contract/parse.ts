// Turns the bytes of one Kafka record into a typed event or a rejection that names every bad field and
// why. Every rejection ends up in the dead-letter topic and table, so its `reason` is a small closed set
// (good for metrics and filtering), its `errors` list each failing field, and its `detail` is for people.
import { z } from "zod";
import { parseEventTime, type Transaction, TransactionSchema } from "./transaction.ts";

export const REJECT_REASONS = [
  "empty",
  "too_large",
  "invalid_utf8",
  "malformed_json",
  "not_an_object",
  "schema",
  "mapping",
  "late",
] as const;
export const RejectReasonSchema = z.enum(REJECT_REASONS);
export type RejectReason = z.infer<typeof RejectReasonSchema>;

/** One failing field: its dotted path in the event and why, e.g. `amount`, `must be > 0 (got -5)`. */
export interface FieldError {
  path: string;
  reason: string;
}

export interface Rejection {
  ok: false;
  reason: RejectReason;
  /** Dotted path of the (first) offending field, when fields are to blame. */
  field?: string;
  /** One line a person can act on, e.g. `amount: must be greater than 0 (got -5); currency: …`. */
  detail: string;
  /** Every failing field (schema and mapping rejections), not only the first. */
  errors?: FieldError[];
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

function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let v = obj;
  for (const step of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[step];
  }
  return v;
}

/** The failing fields of a zod error on `obj`, each with the value it had. */
function fieldErrors(obj: unknown, issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    if (path === "") return { path, reason: issue.message };
    return { path, reason: `${issue.message} (got ${describeValue(valueAt(obj, issue.path))})` };
  });
}

/** The rejection of a record with these failing fields (every one named in `detail` and `errors`). */
export function fieldRejection(
  reason: RejectReason,
  errors: FieldError[],
  transactionId?: string,
): Rejection {
  const detail = errors.map((e) => (e.path === "" ? e.reason : `${e.path}: ${e.reason}`)).join("; ");
  const r = reject(reason, detail || "invalid", errors[0]?.path || undefined, transactionId);
  r.errors = errors;
  return r;
}

/** Validates an already-decoded value against the contract, naming every failing field. */
export function validateEvent(value: unknown): ParseResult {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return reject("not_an_object", `expected a JSON object, got ${describeValue(value)}`);
  }
  const obj = value as Record<string, unknown>;
  const result = TransactionSchema.safeParse(obj);
  if (!result.success)
    return fieldRejection("schema", fieldErrors(obj, result.error.issues), transactionIdOf(obj));
  return { ok: true, event: result.data, eventTime: parseEventTime(result.data.timestamp), payload: obj };
}

/** The record's transaction id when it has a usable one, so a dead letter can be joined to the event. */
export function transactionIdOf(obj: Record<string, unknown>): string | undefined {
  return typeof obj.transaction_id === "string" ? obj.transaction_id.slice(0, 64) : undefined;
}

/** Parses one record value: size, UTF-8, JSON, then the contract. */
export function parseRecord(value: Uint8Array | null | undefined, options: ParseOptions): ParseResult {
  const decoded = decodeRecord(value, options);
  return decoded.ok ? validateEvent(decoded.value) : decoded;
}

/** One record value's JSON (size, UTF-8, JSON checked), before any contract or mapping is applied. */
export function decodeRecord(
  value: Uint8Array | null | undefined,
  options: ParseOptions,
): { ok: true; value: unknown } | Rejection {
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
  return { ok: true, value: decoded };
}
