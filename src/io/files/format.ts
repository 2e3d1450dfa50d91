// Which reader a file needs, from its extension. Apart from the readers so that option parsing can check
// a file name without loading the CSV and Parquet libraries.
import { extname } from "node:path";
import { InputFileError } from "./errors.ts";
import type { InputFormat } from "./types.ts";

const EXTENSIONS: Record<string, InputFormat> = {
  ".csv": "csv",
  ".jsonl": "jsonl",
  ".ndjson": "jsonl",
  ".json": "jsonl",
  ".parquet": "parquet",
  ".pq": "parquet",
};

/** The format a file's extension names, or an InputFileError naming the file and the known ones. */
export function formatOf(path: string): InputFormat {
  const ext = extname(path).toLowerCase();
  const format = EXTENSIONS[ext];
  if (format === undefined)
    throw new InputFileError(
      `${path}: cannot tell the format from ${ext === "" ? "a name without an extension" : `the extension "${ext}"`}; ` +
        "use .csv, .jsonl (also .ndjson, .json with one object per line) or .parquet",
    );
  return format;
}
