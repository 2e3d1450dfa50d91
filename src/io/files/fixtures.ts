// Writers of input files for tests and fixtures only (Parquet through the devDependency
// hyparquet-writer): production code never imports this module.
import { writeFileSync } from "node:fs";
import { brotliCompressSync, gzipSync, zstdCompressSync } from "node:zlib";
import { type BasicType, type ColumnSource, parquetWriteBuffer } from "hyparquet-writer";
import { TransactionSchema } from "../../contract/transaction.ts";
import { NUMBER_FIELDS } from "./events.ts";

/** The contract's fields in schema order: the columns of event files. */
export const EVENT_COLUMNS: readonly string[] = Object.keys(TransactionSchema.shape);

/** One CSV cell: quoted when it holds a comma, a quote or a line break; absent values are empty. */
export function csvCell(v: unknown): string {
  if (v === undefined || v === null) return "";
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csvLine(columns: readonly string[], row: Record<string, unknown>): string {
  return columns.map((c) => csvCell(row[c])).join(",");
}

/** A CSV file of `rows` under a header of `columns`; `raw` lines are appended as they are. */
export function writeCsv(
  path: string,
  columns: readonly string[],
  rows: Record<string, unknown>[],
  raw: string[] = [],
): void {
  const lines = [columns.join(","), ...rows.map((r) => csvLine(columns, r)), ...raw];
  writeFileSync(path, `${lines.join("\n")}\n`);
}

export type ParquetCodec = "SNAPPY" | "UNCOMPRESSED" | "GZIP" | "BROTLI" | "ZSTD";

export interface ParquetColumn {
  name: string;
  type: BasicType;
  /** One value per row; null = missing. */
  data: unknown[];
}

export function writeParquet(
  path: string,
  columns: ParquetColumn[],
  opts: { rowGroupSize?: number; codec?: ParquetCodec } = {},
): void {
  const buffer = parquetWriteBuffer({
    columnData: columns.map((c): ColumnSource => ({ name: c.name, type: c.type, data: c.data })),
    codec: opts.codec ?? "SNAPPY",
    compressors: {
      GZIP: (b: Uint8Array) => gzipSync(b),
      BROTLI: (b: Uint8Array) => brotliCompressSync(b),
      ZSTD: (b: Uint8Array) => zstdCompressSync(b),
    },
    ...(opts.rowGroupSize === undefined ? {} : { rowGroupSize: opts.rowGroupSize }),
  });
  writeFileSync(path, new Uint8Array(buffer));
}

/** Contract events (or event-like rows) as a Parquet file with the contract's columns and types. */
export function writeEventsParquet(
  path: string,
  rows: Record<string, unknown>[],
  opts: { rowGroupSize?: number; codec?: ParquetCodec } = {},
): void {
  writeParquet(
    path,
    EVENT_COLUMNS.map((name) => ({
      name,
      type: name === "is_fraud" ? "INT32" : NUMBER_FIELDS.has(name) ? "DOUBLE" : "STRING",
      data: rows.map((r) => r[name] ?? null),
    })),
    opts,
  );
}
