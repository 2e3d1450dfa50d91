// Transaction events from input files: each row typed for the contract and validated by the same
// parser the worker uses (src/contract/parse.ts). Shared by `replay` and, later, `backtest`.
//
// How a row becomes an event candidate:
// - JSON Lines: the object as written; nothing is converted (a producer bug should show, not be fixed).
// - CSV: cells are text; a numeric-looking cell becomes a number only in the contract's numeric fields
//   (amount, latitude, longitude, is_fraud), `true`/`false` a boolean only where the contract takes one
//   (is_fraud); an empty cell is an absent field; everything else stays a string (so mcc 0742 keeps its 0).
// - Parquet: typed already; nulls are absent, a date-time becomes RFC 3339 UTC text, and a number in a
//   field the contract wants as text (an integer transaction_id or mcc column) becomes its decimal text.
// The field lists come from the contract's one schema, so they cannot drift from it.
import { type RejectReason, validateEvent } from "../../contract/parse.ts";
import { type Transaction, TransactionSchema } from "../../contract/transaction.ts";
import type { CsvTyping } from "./csv.ts";
import { type FileRow, type InputFormat, openRows, type RowErrorReason, type RowReader } from "./index.ts";

const FIELDS = Object.entries(TransactionSchema.shape);

/** Contract fields that take a number. */
export const NUMBER_FIELDS: ReadonlySet<string> = new Set(
  FIELDS.filter(([, s]) => s.safeParse(1).success).map(([k]) => k),
);
/** Contract fields that take a boolean. */
export const BOOLEAN_FIELDS: ReadonlySet<string> = new Set(
  FIELDS.filter(([, s]) => s.safeParse(true).success).map(([k]) => k),
);
/** Contract fields that take only text. */
const TEXT_FIELDS: ReadonlySet<string> = new Set(
  FIELDS.filter(([k]) => !NUMBER_FIELDS.has(k) && !BOOLEAN_FIELDS.has(k)).map(([k]) => k),
);

export const EVENT_CSV_TYPING: CsvTyping = { numbers: NUMBER_FIELDS, booleans: BOOLEAN_FIELDS };

export type EventRow =
  | { ok: true; line: number; event: Transaction; payload: Record<string, unknown> }
  | { ok: false; line: number; reason: RejectReason | RowErrorReason; detail: string };

function fromParquet(values: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(values)) {
    if (v instanceof Date) values[k] = Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
    else if ((typeof v === "number" || typeof v === "bigint") && TEXT_FIELDS.has(k)) values[k] = String(v);
  }
  return values;
}

/** Validates one row read from a file of the given format. */
export function eventFromRow(row: FileRow, format: InputFormat): EventRow {
  if (!row.ok) return { ok: false, line: row.line, reason: row.reason, detail: row.error };
  const candidate = format === "parquet" ? fromParquet(row.values) : row.values;
  const r = validateEvent(candidate);
  return r.ok
    ? { ok: true, line: row.line, event: r.event, payload: r.payload }
    : { ok: false, line: row.line, reason: r.reason, detail: r.detail };
}

export interface EventReader {
  rows: RowReader;
  /** Batches of validated rows, in file order. */
  batches(): AsyncGenerator<EventRow[]>;
}

/** Opens a CSV, JSON Lines or Parquet file of transaction events (InputFileError if it cannot). */
export async function openEvents(path: string): Promise<EventReader> {
  const rows = await openRows(path, { csv: EVENT_CSV_TYPING });
  return {
    rows,
    async *batches() {
      for await (const batch of rows) yield batch.map((row) => eventFromRow(row, rows.format));
    },
  };
}
