// Tabular input files for the commands that take `--input` (replay now; model and backtest later):
// CSV, JSON Lines and Parquet, chosen by the file's extension. Rows are read as a stream, in batches,
// each with its 1-based line (text files) or row (Parquet) number, so that a problem can be pointed at.
// A row that cannot be read (bad JSON, a broken CSV record) comes back as an error row and reading goes
// on; a file that cannot be read at all throws InputFileError. See docs/simulator.md "Input files".
import { stat } from "node:fs/promises";
import { type CsvTyping, csvRows } from "./csv.ts";
import { InputFileError } from "./errors.ts";
import { formatOf } from "./format.ts";
import { jsonlRows } from "./jsonl.ts";
import { openParquet } from "./parquet.ts";
import type { FileRow, InputFormat, ReadProgress } from "./types.ts";

export type { CsvTyping } from "./csv.ts";
export { InputFileError } from "./errors.ts";
export { formatOf } from "./format.ts";
export type { FileRow, InputFormat, RowErrorReason } from "./types.ts";

export interface ReadOptions {
  /** How CSV cells are typed (CSV cells are otherwise strings). */
  csv?: CsvTyping;
}

/** An open input file: iterate it (once) for batches of rows in file order. */
export interface RowReader extends AsyncIterable<FileRow[]> {
  readonly path: string;
  readonly format: InputFormat;
  /** What `FileRow.line` counts. */
  readonly unit: "line" | "row";
  /** Bytes (CSV, JSON Lines) or rows (Parquet) in the file, for progress. */
  readonly size: number;
  /** Bytes or rows read so far. */
  position(): number;
}

/**
 * Opens `path` for reading rows. Fails at once (InputFileError) when the file is missing, its extension
 * is unknown or a Parquet footer is unreadable; problems in single rows come back as error rows.
 */
export async function openRows(path: string, opts: ReadOptions = {}): Promise<RowReader> {
  const format = formatOf(path);
  let bytes: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new Error("not a regular file");
    bytes = s.size;
  } catch (err) {
    throw new InputFileError(`cannot read ${path}: ${(err as Error).message}`);
  }
  const progress: ReadProgress = { position: 0 };
  const base = { path, format, position: () => progress.position };
  if (format === "parquet") {
    const file = await openParquet(path);
    return { ...base, unit: "row", size: file.rows, [Symbol.asyncIterator]: () => file.batches(progress) };
  }
  const rows = (): AsyncGenerator<FileRow[]> =>
    format === "csv" ? csvRows(path, opts.csv ?? {}, progress) : jsonlRows(path, progress);
  return { ...base, unit: "line", size: bytes, [Symbol.asyncIterator]: rows };
}

/** Every row of a file, one at a time (a convenience over the batches of `openRows`). */
export async function* readRows(path: string, opts: ReadOptions = {}): AsyncGenerator<FileRow> {
  for await (const batch of await openRows(path, opts)) yield* batch;
}
