// Parquet rows through hyparquet (pure JavaScript, no dependencies). Decoded one row group at a time,
// column by column (compact typed arrays), and turned into row objects a batch at a time: memory
// follows the writer's row-group size, not the file's. SNAPPY is built into hyparquet; GZIP, BROTLI
// and ZSTD use node:zlib. LZ4 is not supported.
import { brotliDecompressSync, gunzipSync, zstdDecompressSync } from "node:zlib";
import {
  asyncBufferFromFile,
  type Compressors,
  type FileMetaData,
  parquetMetadataAsync,
  parquetScan,
} from "hyparquet";
import { InputFileError } from "./errors.ts";
import type { FileRow, ReadProgress } from "./types.ts";

const BATCH = 1000;

const COMPRESSORS: Compressors = {
  GZIP: (input) => gunzipSync(input),
  BROTLI: (input) => brotliDecompressSync(input),
  ZSTD: (input) => zstdDecompressSync(input),
};

/** JS values as callers want them: no nulls (absent instead) and numbers for 64-bit integers that fit. */
function plain(v: unknown): unknown {
  if (typeof v === "bigint" && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER))
    return Number(v);
  return v;
}

export interface ParquetFile {
  rows: number;
  columns: string[];
  batches(progress: ReadProgress): AsyncGenerator<FileRow[]>;
}

export async function openParquet(path: string): Promise<ParquetFile> {
  const file = await asyncBufferFromFile(path);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (err) {
    throw new InputFileError(`${path} is not a readable Parquet file: ${(err as Error).message}`);
  }
  const [root, ...fields] = metadata.schema;
  const nested = fields.find((f) => (f.num_children ?? 0) > 0);
  if (nested !== undefined)
    throw new InputFileError(
      `${path}: column "${nested.name}" is nested (a struct, list or map); flatten it into plain columns`,
    );
  const columns = fields.slice(0, root?.num_children ?? fields.length).map((f) => f.name);
  return {
    rows: Number(metadata.num_rows),
    columns,
    async *batches(progress) {
      const scan = await parquetScan({ file, metadata, compressors: COMPRESSORS });
      for (const range of scan.ranges) {
        let data: ArrayLike<unknown>[];
        try {
          data = await Promise.all(
            columns.map((column) =>
              scan.readColumn({ column, rowStart: range.rowStart, rowEnd: range.rowEnd }),
            ),
          );
        } catch (err) {
          throw new InputFileError(
            `${path}: cannot decode rows ${range.rowStart + 1}–${range.rowEnd}: ${(err as Error).message}`,
          );
        }
        const count = range.rowEnd - range.rowStart;
        for (let from = 0; from < count; from += BATCH) {
          const to = Math.min(count, from + BATCH);
          const batch: FileRow[] = [];
          for (let i = from; i < to; i++) {
            const values: Record<string, unknown> = {};
            for (let c = 0; c < columns.length; c++) {
              const v = (data[c] as ArrayLike<unknown>)[i];
              if (v !== null && v !== undefined) values[columns[c] as string] = plain(v);
            }
            batch.push({ ok: true, line: range.rowStart + i + 1, values });
          }
          progress.position = range.rowStart + to;
          yield batch;
        }
      }
    },
  };
}
