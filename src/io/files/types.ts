// Shapes shared by the readers of src/io/files.

export type InputFormat = "csv" | "jsonl" | "parquet";

/** Why a single row could not be read (the rest of the file still is). */
export type RowErrorReason = "malformed_json" | "not_an_object" | "malformed_csv";

/**
 * One row of an input file. `line` is 1-based: the line a record starts on in CSV and JSON Lines files
 * (header and blank lines count), the row number in Parquet files.
 */
export type FileRow =
  | { ok: true; line: number; values: Record<string, unknown> }
  | { ok: false; line: number; reason: RowErrorReason; error: string };

/** How far a reader got: bytes of a text file, rows of a Parquet file. */
export interface ReadProgress {
  position: number;
}
