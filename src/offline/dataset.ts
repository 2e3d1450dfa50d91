// Training and evaluation data from an input file (CSV, JSON Lines, Parquet), as a row-major matrix.
//
// Two kinds of input:
// - transactions (rows that carry the contract's required fields: a simulator file, a replay file, an
//   export of transactions_scored's payloads): features come from the FeatureEngine, in file order, the
//   very code the worker runs, so a model is trained on exactly what it will be served. The label is
//   `is_fraud` unless --label names another column. Labels never reach the features.
// - a feature table: every numeric column but the label is a feature, unless --features names them.
//   A missing or non-numeric cell in a feature column is an error naming the line and column: a model
//   must never be fed a silently wrong value.
import { isFraudLabel, parseEventTime, type Transaction } from "../contract/transaction.ts";
import { FeatureEngine } from "../features/engine.ts";
import { FEATURE_NAMES, FEATURE_SET_VERSION } from "../features/registry.ts";
import { EVENT_CSV_TYPING, eventFromRow } from "../io/files/events.ts";
import { type FileRow, openRows } from "../io/files/index.ts";
import { computeFeatures, featureRows, WIDTH } from "../pipeline/evaluate.ts";

export class DatasetError extends Error {
  override name = "DatasetError";
}

export interface Dataset {
  kind: "transactions" | "table";
  featureNames: string[];
  /** FEATURE_SET_VERSION for transactions; null for a table (its columns are the caller's). */
  featureSetVersion: string | null;
  /** rows × featureNames.length, row-major. */
  X: Float64Array;
  rows: number;
  /** 0/1 per row, or null when the file has no label column. */
  labels: Uint8Array | null;
  /** The input line (or Parquet row) of each matrix row. */
  lines: Int32Array;
  /** Event-time range (transactions only). */
  timeRange: { from: string; to: string } | null;
  /** Rows not in the matrix: invalid events, late events (transactions); nothing for tables. */
  skipped: { line: number; reason: string; detail: string }[];
}

export interface DatasetOptions {
  /** Label column; default `is_fraud` for transactions, none for tables. */
  label?: string | undefined;
  /** Feature columns, in order; default all (the registry's for transactions, numeric ones for tables). */
  features?: readonly string[] | undefined;
  /** Lateness and state lifetime the feature engine applies (the worker's settings). */
  allowedLatenessMs: number;
  stateTtlMs: number;
  /** Reports progress: position and size in the reader's unit (bytes, or Parquet rows). */
  onProgress?(position: number, size: number): void;
  /** Fails on the first row that is not a valid event / not numeric, instead of skipping it. */
  strict?: boolean;
}

const REQUIRED = ["transaction_id", "timestamp", "user_id", "amount", "currency"];

/** Growable Float64 storage without a copy per row. */
class Matrix {
  data = new Float64Array(1 << 16);
  length = 0;
  push(values: ArrayLike<number>, from: number, count: number): void {
    if (this.length + count > this.data.length) {
      const next = new Float64Array(Math.max(this.data.length * 2, this.length + count));
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    for (let k = 0; k < count; k++) this.data[this.length++] = values[from + k] as number;
  }
}

export async function loadDataset(path: string, opts: DatasetOptions): Promise<Dataset> {
  const kind = await sniff(path);
  return kind === "transactions" ? loadTransactions(path, opts) : loadTable(path, opts);
}

/** Transactions when the first readable row has the contract's required fields. */
async function sniff(path: string): Promise<"transactions" | "table"> {
  for await (const batch of await openRows(path, { csv: { numbers: "all" } })) {
    const first = batch.find((r): r is Extract<FileRow, { ok: true }> => r.ok);
    if (first !== undefined) return REQUIRED.every((k) => k in first.values) ? "transactions" : "table";
  }
  throw new DatasetError(`${path} has no readable rows`);
}

async function loadTransactions(path: string, opts: DatasetOptions): Promise<Dataset> {
  const names = opts.features === undefined ? [...FEATURE_NAMES] : [...opts.features];
  const columns = names.map((name) => {
    const i = FEATURE_NAMES.indexOf(name);
    if (i < 0)
      throw new DatasetError(
        `--features: "${name}" is not a feature of feature set ${FEATURE_SET_VERSION}; known: ${FEATURE_NAMES.join(", ")}`,
      );
    return i;
  });
  const labelColumn = opts.label ?? "is_fraud";
  const engine = new FeatureEngine({
    allowedLatenessMs: opts.allowedLatenessMs,
    stateTtlMs: opts.stateTtlMs,
  });
  const X = new Matrix();
  const labels: number[] = [];
  let anyLabel = false;
  const lines: number[] = [];
  const skipped: Dataset["skipped"] = [];
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  let buf = featureRows(1024);
  let times = new Float64Array(1024);
  const rows = await openRows(path, { csv: EVENT_CSV_TYPING });
  for await (const batch of rows) {
    const events: Transaction[] = [];
    const payloads: Record<string, unknown>[] = [];
    const eventLines: number[] = [];
    for (const row of batch) {
      const r = eventFromRow(row, rows.format);
      if (!r.ok) {
        if (opts.strict) throw new DatasetError(`${rows.unit} ${r.line}: ${r.detail}`);
        skipped.push({ line: r.line, reason: r.reason, detail: r.detail });
        continue;
      }
      events.push(r.event);
      payloads.push(r.payload);
      eventLines.push(r.line);
    }
    buf = featureRows(events.length, buf);
    if (events.length > times.length) times = new Float64Array(events.length);
    for (let i = 0; i < events.length; i++) times[i] = parseEventTime((events[i] as Transaction).timestamp);
    // The worker's features stage, in file order.
    computeFeatures(engine, events, times, buf);
    const { features: out, status } = buf;
    const picked = new Float64Array(columns.length);
    for (let i = 0; i < events.length; i++) {
      const line = eventLines[i] as number;
      if (status[i] !== 0) {
        skipped.push({ line, reason: "late", detail: "later than the allowed lateness for its user" });
        continue;
      }
      for (let c = 0; c < columns.length; c++) picked[c] = out[i * WIDTH + (columns[c] as number)] as number;
      X.push(picked, 0, columns.length);
      lines.push(line);
      const t = times[i] as number;
      if (t < from) from = t;
      if (t > to) to = t;
      const raw =
        labelColumn === "is_fraud"
          ? isFraudLabel(events[i] as Transaction)
          : (payloads[i] as Record<string, unknown>)[labelColumn];
      const label = toLabel(raw);
      if (label !== null) anyLabel = true;
      labels.push(label ?? 0);
    }
    opts.onProgress?.(rows.position(), rows.size);
  }
  const n = lines.length;
  if (n === 0) throw new DatasetError(`${path}: no valid transactions (${skipped.length} rows skipped)`);
  if (opts.label !== undefined && !anyLabel)
    throw new DatasetError(`--label ${opts.label}: no row of ${path} has a 0/1 or true/false value there`);
  return {
    kind: "transactions",
    featureNames: names,
    featureSetVersion: FEATURE_SET_VERSION,
    X: X.data.subarray(0, X.length),
    rows: n,
    labels: anyLabel ? Uint8Array.from(labels) : null,
    lines: Int32Array.from(lines),
    timeRange: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    skipped,
  };
}

async function loadTable(path: string, opts: DatasetOptions): Promise<Dataset> {
  const rows = await openRows(path, {
    csv: { numbers: "all", booleans: new Set(opts.label === undefined ? [] : [opts.label]) },
  });
  let names: string[] | undefined = opts.features === undefined ? undefined : [...opts.features];
  const X = new Matrix();
  const labels: number[] = [];
  const lines: number[] = [];
  let anyLabel = false;
  let picked = new Float64Array(0);
  for await (const batch of rows) {
    for (const row of batch) {
      if (!row.ok) throw new DatasetError(`${rows.unit} ${row.line}: ${row.error}`);
      const v = row.values;
      if (names === undefined) {
        names = Object.keys(v).filter((k) => k !== opts.label && typeof v[k] === "number");
        if (names.length === 0)
          throw new DatasetError(`${path}: no numeric columns besides the label; name them with --features`);
      }
      if (picked.length !== names.length) picked = new Float64Array(names.length);
      for (let c = 0; c < names.length; c++) {
        const name = names[c] as string;
        const x = v[name];
        if (typeof x !== "number" || !Number.isFinite(x))
          throw new DatasetError(
            `${rows.unit} ${row.line}: column ${name} is ${x === undefined || x === "" ? "missing" : JSON.stringify(x)}; features must be finite numbers`,
          );
        picked[c] = x;
      }
      X.push(picked, 0, names.length);
      lines.push(row.line);
      if (opts.label !== undefined) {
        const label = toLabel(v[opts.label]);
        if (label === null)
          throw new DatasetError(
            `${rows.unit} ${row.line}: label ${opts.label} is ${JSON.stringify(v[opts.label])}; expected 0/1 or true/false`,
          );
        anyLabel = true;
        labels.push(label);
      }
    }
    opts.onProgress?.(rows.position(), rows.size);
  }
  if (names === undefined || lines.length === 0) throw new DatasetError(`${path} has no rows`);
  if (opts.label !== undefined && !anyLabel)
    throw new DatasetError(`--label ${opts.label}: no labels in ${path}`);
  return {
    kind: "table",
    featureNames: names,
    featureSetVersion: null,
    X: X.data.subarray(0, X.length),
    rows: lines.length,
    labels: anyLabel ? Uint8Array.from(labels) : null,
    lines: Int32Array.from(lines),
    timeRange: null,
    skipped: [],
  };
}

function toLabel(v: unknown): 0 | 1 | null {
  if (v === true || v === 1 || v === "1" || v === "true") return 1;
  if (v === false || v === 0 || v === "0" || v === "false") return 0;
  return null;
}
