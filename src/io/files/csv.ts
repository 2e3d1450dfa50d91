// CSV rows through papaparse (chosen over csv-parse for speed, see docs/simulator.md "Input files").
// papaparse drives the file stream itself; its parser is paused after every batch until the consumer asks
// for the next one, so memory stays bounded however large the file is.
import { createReadStream } from "node:fs";
import Papa, { type ParseError, type Parser } from "papaparse";
import { InputFileError } from "./errors.ts";
import type { FileRow, ReadProgress } from "./types.ts";

/**
 * How CSV cells become values. Every cell is text; these say which columns hold numbers and booleans.
 * A cell is converted only when it looks like one (`12`, `-0.5`, `1e3`; `true`/`false` in any case);
 * otherwise it stays a string so that validation can name the column and show the text.
 */
export interface CsvTyping {
  /** Columns whose numeric-looking cells become numbers, or "all" for every column. Default: none. */
  numbers?: ReadonlySet<string> | "all";
  /** Columns whose `true`/`false` cells become booleans. Default: none. */
  booleans?: ReadonlySet<string>;
}

const NUMERIC = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const BATCH = 1000;
const LINE_BREAKS = /\r\n|\r|\n/g;

function lineBreaks(fields: readonly string[]): number {
  let n = 0;
  for (const f of fields) {
    // Only quoted cells can hold line breaks; the cheap test keeps the common case fast.
    if (f.indexOf("\n") === -1 && f.indexOf("\r") === -1) continue;
    n += f.match(LINE_BREAKS)?.length ?? 0;
  }
  return n;
}

function cellValue(name: string, text: string, typing: CsvTyping): unknown {
  const numbers = typing.numbers;
  if ((numbers === "all" || numbers?.has(name) === true) && NUMERIC.test(text)) return Number(text);
  if (typing.booleans?.has(name) === true) {
    const lower = text.toLowerCase();
    if (lower === "true") return true;
    if (lower === "false") return false;
  }
  return text;
}

function describeCsvError(e: ParseError): string {
  if (e.code === "MissingQuotes") return 'a quoted cell is not closed (missing ")';
  if (e.code === "InvalidQuotes")
    return 'a quoted cell has text after its closing quote (write "" for a quote inside)';
  return e.message;
}

/** Rows of a CSV file with a header line; `line` is the line the record starts on. */
export async function* csvRows(
  path: string,
  typing: CsvTyping,
  progress: ReadProgress,
): AsyncGenerator<FileRow[]> {
  const stream = createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 });
  let pending: FileRow[] = [];
  let paused: Parser | null = null;
  let last: Parser | null = null;
  let done = false;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  let header: string[] | null = null;
  let line = 1;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const fail = (err: unknown) => {
    failure ??= err;
    done = true;
    last?.abort();
    notify();
  };

  // A text stream, not bytes: papaparse decodes each Buffer chunk on its own, which garbles a
  // multi-byte character split across two chunks; the stream's decoder does not.
  Papa.parse<string[], NodeJS.ReadableStream>(stream, {
    delimiter: ",",
    skipEmptyLines: false,
    step(result, parser) {
      if (done) return;
      last = parser;
      const fields = result.data;
      const start = line;
      line += 1 + lineBreaks(fields);
      if (fields.length === 1 && fields[0] === "" && result.errors.length === 0) return; // a blank line
      if (header === null) {
        header = fields.map((f, i) => (i === 0 ? f.replace(/^\uFEFF/, "") : f).trim());
        const seen = new Set<string>();
        for (const h of header) {
          if (h !== "" && seen.has(h))
            return fail(
              new InputFileError(`${path}: column "${h}" appears twice in the header (line ${start})`),
            );
          seen.add(h);
        }
        return;
      }
      const problem = result.errors[0];
      if (problem !== undefined) {
        // A broken quote makes the record run on over the following lines: say how far.
        const through = line - 1 > start ? ` (the record runs on through line ${line - 1})` : "";
        pending.push({
          ok: false,
          line: start,
          reason: "malformed_csv",
          error: `${describeCsvError(problem)}${through}`,
        });
      } else if (fields.length !== header.length) {
        pending.push({
          ok: false,
          line: start,
          reason: "malformed_csv",
          error: `has ${fields.length} cells but the header has ${header.length} columns`,
        });
      } else {
        const values: Record<string, unknown> = {};
        for (let i = 0; i < header.length; i++) {
          const name = header[i] as string;
          const text = fields[i] as string;
          // An empty cell is an absent value; a column without a name (a pandas index) is skipped.
          if (text === "" || name === "") continue;
          values[name] = cellValue(name, text, typing);
        }
        pending.push({ ok: true, line: start, values });
      }
      if (pending.length >= BATCH) {
        paused = parser;
        parser.pause();
        notify();
      }
    },
    complete() {
      done = true;
      notify();
    },
    error(err) {
      fail(new InputFileError(`cannot read ${path}: ${err.message}`));
    },
  });

  try {
    for (;;) {
      if (pending.length < BATCH && !done) await new Promise<void>((resolve) => (wake = resolve));
      if (failure !== null) throw failure;
      progress.position = stream.bytesRead;
      const batch = pending;
      pending = [];
      if (batch.length > 0) yield batch;
      if (done && pending.length === 0) return;
      const p = paused as Parser | null;
      paused = null;
      p?.resume();
    }
  } finally {
    if (!done) (last as Parser | null)?.abort();
    stream.destroy();
  }
}
