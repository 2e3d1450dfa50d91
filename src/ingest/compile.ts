// A mapping compiled once into a per-record function: each contract field becomes one small closure
// (read → look up → coerce), so applying a mapping is a handful of property reads and no
// interpretation of the mapping per record. What no rule reads is kept in `metadata` or reported.
import { createHash } from "node:crypto";
import type { FieldError } from "../contract/parse.ts";
import { currencyOf, toAlpha2 } from "./countries.ts";
import type { Coercion, FieldRule, Mapping, TargetField } from "./mapping.ts";
import { TARGET_FIELDS } from "./mapping.ts";
import { formatPath, parsePath, reader, type Step } from "./path.ts";
import { hasOffset, isoOf, parseLocal, ZoneOffsets } from "./time.ts";

/** A source record mapped to a contract event candidate (validated afterwards), with what failed. */
export interface Mapped {
  value: Record<string, unknown>;
  /** Values the mapping could not convert, by contract field, naming the source path. */
  errors: FieldError[];
}

type Scalar = string | number | boolean;
type Converter = (v: Scalar) => unknown;
/** Returned by a converter that cannot convert; `why` says what was wrong. */
const FAIL = Symbol("fail");
let why = "";

const NUMERIC = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const TRUE = new Set(["true", "t", "yes", "y", "1"]);
const FALSE = new Set(["false", "f", "no", "n", "0"]);

function show(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : String(v);
}

function fail(message: string): typeof FAIL {
  why = message;
  return FAIL;
}

function toNumber(v: Scalar): number | typeof FAIL {
  if (typeof v === "number") return v;
  if (typeof v === "string" && NUMERIC.test(v)) return Number(v);
  return fail(`${show(v)} is not a number`);
}

function epoch(v: Scalar, unit: "s" | "ms" | "auto"): string | typeof FAIL {
  const n = toNumber(v);
  if (n === FAIL) return fail(`${show(v)} is not an epoch time`);
  // Seconds since 1970 stay below 1e11 until the year 5138; milliseconds pass it in 1973.
  const ms = unit === "ms" || (unit === "auto" && Math.abs(n) >= 1e11) ? n : n * 1000;
  return isoOf(ms) ?? fail(`${show(v)} is not a representable time`);
}

function converter(as: Coercion, field: TargetField, zone: ZoneOffsets): Converter {
  switch (as) {
    case "auto":
      return converter(AUTO[field] ?? "string", field, zone);
    case "number":
      return toNumber;
    case "epoch_s":
      return (v) => epoch(v, "s");
    case "epoch_ms":
      return (v) => epoch(v, "ms");
    case "timestamp":
      return (v) => {
        if (typeof v === "number" || (typeof v === "string" && NUMERIC.test(v))) return epoch(v, "auto");
        if (typeof v !== "string") return fail(`${show(v)} is not a date-time`);
        if (hasOffset(v)) return v; // the contract checks it
        const ms = parseLocal(v, zone);
        if (Number.isNaN(ms))
          return fail(`${show(v)} is not a date-time (RFC 3339, or local like 2025-08-06T06:12:33)`);
        return isoOf(ms) ?? fail(`${show(v)} is out of range`);
      };
    case "boolean":
      return (v) => {
        if (typeof v === "boolean" || v === 0 || v === 1) return v;
        if (typeof v === "string") {
          const t = v.trim().toLowerCase();
          if (TRUE.has(t)) return true;
          if (FALSE.has(t)) return false;
        }
        return fail(`${show(v)} is not a boolean (true/false, 1/0, yes/no)`);
      };
    case "country":
      return (v) =>
        (typeof v === "string" ? toAlpha2(v) : undefined) ??
        fail(`${show(v)} is not a country name or ISO 3166-1 alpha-2/alpha-3 code`);
    case "string": {
      const text = (v: Scalar): string => (typeof v === "string" ? v : String(v));
      if (field === "currency") return (v) => text(v).trim().toUpperCase();
      if (field === "channel") return (v) => text(v).trim().toLowerCase();
      if (field === "mcc")
        return (v) => (typeof v === "number" && Number.isInteger(v) ? String(v).padStart(4, "0") : text(v));
      return text;
    }
  }
}

/** What `auto` means per contract field (text for the rest). */
const AUTO: Partial<Record<TargetField, Coercion>> = {
  timestamp: "timestamp",
  amount: "number",
  latitude: "number",
  longitude: "number",
  is_fraud: "boolean",
  country: "country",
  home_country: "country",
};

type FieldFn = (source: unknown, out: Record<string, unknown>, errors: FieldError[]) => void;

function steps(path: string): Step[] {
  const s = parsePath(path);
  if (s === undefined) throw new Error(`internal: unchecked path ${path}`);
  return s;
}

function isScalar(v: unknown): v is Scalar {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

function compileField(field: TargetField, rule: FieldRule, zone: ZoneOffsets): FieldFn {
  const convert = converter(rule.as ?? "auto", field, zone);
  const prefix = rule.prefix ?? "";
  const values = rule.values === undefined ? undefined : new Map(Object.entries(rule.values));
  const fallback = rule.default;
  const currencyFrom = rule.currency_of;
  const paths = rule.from === undefined ? [] : [rule.from].flat();
  const readers = paths.map((p) => reader(steps(p)));
  const hashers = (rule.hash ?? []).map((p) => reader(steps(p)));
  const where = paths.length > 0 ? `from ${paths.join(" | ")}: ` : rule.hash !== undefined ? "hash: " : "";

  /** The raw value: const, hash or the first path that holds a scalar; undefined for none. */
  let read: (source: unknown) => unknown;
  if (rule.const !== undefined) {
    const k = rule.const;
    read = () => k;
  } else if (hashers.length > 0) {
    read = (source) => {
      const parts: string[] = [];
      for (const h of hashers) {
        const v = h(source);
        if (!isScalar(v)) return undefined;
        parts.push(String(v));
      }
      return createHash("sha256").update(parts.join("\u001f")).digest("hex").slice(0, 24);
    };
  } else if (readers.length === 1) {
    const r = readers[0] as (s: unknown) => unknown;
    read = (source) => {
      const v = r(source);
      return v === null ? undefined : v;
    };
  } else {
    read = (source) => {
      let found: unknown;
      for (const r of readers) {
        const v = r(source);
        if (isScalar(v)) return v;
        if (v !== undefined && v !== null) found = v;
      }
      return found;
    };
  }

  return (source, out, errors) => {
    let v = read(source);
    if (v === undefined) {
      if (currencyFrom !== undefined) {
        const country = out[currencyFrom];
        v = typeof country === "string" ? currencyOf(country) : undefined;
      }
      if (v === undefined) v = fallback;
      if (v === undefined) return;
    }
    if (!isScalar(v)) {
      errors.push({
        path: field,
        reason: `${where}${Array.isArray(v) ? "an array" : "an object"} is not a value`,
      });
      return;
    }
    if (values !== undefined) {
      const looked = values.get(String(v));
      if (looked !== undefined) v = looked;
    }
    const c = convert(v as Scalar);
    if (c === FAIL) {
      errors.push({ path: field, reason: `${where}${why}` });
      return;
    }
    out[field] = prefix === "" ? c : `${prefix}${String(c)}`;
  };
}

/** Paths as a tree: a marked node covers everything below it. */
interface PathTree {
  covers: boolean;
  children: Map<Step, PathTree>;
}

function tree(paths: readonly Step[][]): PathTree {
  const root: PathTree = { covers: false, children: new Map() };
  for (const p of paths) {
    let node = root;
    for (const s of p) {
      let next = node.children.get(s);
      if (next === undefined) {
        next = { covers: false, children: new Map() };
        node.children.set(s, next);
      }
      node = next;
    }
    node.covers = true;
  }
  return root;
}

/** Calls `leaf` for every scalar or null below `v` that `skip` does not cover. */
function walk(
  v: unknown,
  at: Step[],
  skip: PathTree | undefined,
  leaf: (steps: readonly Step[], value: Scalar | null) => void,
): void {
  if (skip?.covers) return;
  if (typeof v !== "object" || v === null) {
    if (v !== undefined) leaf(at, v as Scalar | null);
    return;
  }
  const entries: [Step, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  for (const [k, x] of entries) {
    at.push(k);
    walk(x, at, skip?.children.get(k), leaf);
    at.pop();
  }
}

/** A metadata key: the path's steps joined with dots; a source `metadata` object keeps its own keys. */
function metadataKey(path: readonly Step[]): string {
  const s = path[0] === "metadata" && path.length > 1 ? path.slice(1) : path;
  return s.join(".");
}

export class CompiledMapping {
  readonly mapping: Mapping;
  readonly #fields: FieldFn[];
  readonly #read: PathTree;
  readonly #keep:
    | "rest"
    | "none"
    | { key: string | undefined; paths: Step[][]; readers: ((s: unknown) => unknown)[] }[];

  constructor(mapping: Mapping) {
    this.mapping = mapping;
    const zone = new ZoneOffsets(mapping.zone);
    const rules = TARGET_FIELDS.flatMap((f): [TargetField, FieldRule][] => {
      const r = mapping.fields[f];
      return r === undefined ? [] : [[f, typeof r === "string" ? { from: r } : r]];
    });
    // Currencies derived from a country run after the countries are set.
    rules.sort(([, a], [, b]) => Number(a.currency_of !== undefined) - Number(b.currency_of !== undefined));
    this.#fields = rules.map(([f, r]) => compileField(f, r, zone));
    const read = rules.flatMap(([, r]) => [
      ...(r.from === undefined ? [] : [r.from].flat()),
      ...(r.hash ?? []),
    ]);
    this.#read = tree(read.map(steps));
    const keep = mapping.keep;
    this.#keep =
      keep === "rest" || keep === "none"
        ? keep
        : Array.isArray(keep)
          ? keep.map((p) => ({ key: undefined, paths: [steps(p)], readers: [] }))
          : Object.entries(keep).map(([key, p]) => ({ key, paths: [p].flat().map(steps), readers: [] }));
    if (typeof this.#keep !== "string") for (const k of this.#keep) k.readers = k.paths.map((p) => reader(p));
  }

  /** The event candidate of one source record (a JSON object), and the values that did not convert. */
  apply(source: Record<string, unknown>): Mapped {
    const value: Record<string, unknown> = {};
    const errors: FieldError[] = [];
    for (const f of this.#fields) f(source, value, errors);
    const keep = this.#keep;
    if (keep !== "none") {
      const metadata: Record<string, Scalar | null> = {};
      let n = 0;
      const put = (p: readonly Step[], v: Scalar | null): void => {
        metadata[metadataKey(p)] = v;
        n++;
      };
      if (keep === "rest") walk(source, [], this.#read, put);
      else
        for (const { key, paths, readers } of keep) {
          for (let i = 0; i < paths.length; i++) {
            const p = paths[i] as Step[];
            const v = (readers[i] as (s: unknown) => unknown)(source);
            if (v === undefined) continue;
            if (key === undefined) walk(v, [...p], undefined, put);
            else
              walk(v, [key], undefined, (q, x) => {
                metadata[q.join(".")] = x;
                n++;
              });
            break;
          }
        }
      if (n > 0) value.metadata = metadata;
    }
    return { value, errors };
  }

  /** Paths of the record's values that are neither read by a rule nor kept in metadata. */
  ignoredPaths(source: unknown): string[] {
    if (this.#keep === "rest") return [];
    const skip = this.#keep === "none" ? this.#read : tree([...this.#keepSteps(), ...this.#readSteps()]);
    const out: string[] = [];
    walk(source, [], skip, (p) => out.push(formatPath(p)));
    return out;
  }

  #keepSteps(): Step[][] {
    return typeof this.#keep === "string" ? [] : this.#keep.flatMap((k) => k.paths);
  }

  #readSteps(): Step[][] {
    const paths: Step[][] = [];
    const collect = (node: PathTree, at: Step[]): void => {
      if (node.covers) paths.push([...at]);
      for (const [k, child] of node.children) collect(child, [...at, k]);
    };
    collect(this.#read, []);
    return paths;
  }
}

/** Compiles a validated mapping (see parseMapping). */
export function compileMapping(mapping: Mapping): CompiledMapping {
  return new CompiledMapping(mapping);
}
