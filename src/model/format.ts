// The isolation forest model file: versioned, self-describing JSON. Metadata is plain JSON; the node
// arrays are base64 of little-endian bytes with their numpy type string ("<i4", "<f8") and length, so
// a reader in any language (tools/export_sklearn_iforest.py writes the same format) can decode them.
// Pure: text in, text out; the caller supplies every date (the core never reads the clock).
// Field reference: docs/model.md, "Model file".
import { createHash } from "node:crypto";
import { z } from "zod";
import { evaluationSchema } from "./evaluate.ts";
import { checkForestState, type ForestState, hyperparametersSchema, IsolationForest } from "./iforest.ts";

export const MODEL_FORMAT = "fraudstream.isolation-forest";
export const MODEL_FORMAT_VERSION = 1;

/**
 * Strict base64 (Buffer.from silently skips bad characters). A loop, not a regular expression: a
 * repeated group over megabytes of text overflows the regexp engine's backtracking stack.
 */
function isBase64(s: string): boolean {
  if (s.length % 4 !== 0) return false;
  let pad = 0;
  if (s.endsWith("==")) pad = 2;
  else if (s.endsWith("=")) pad = 1;
  for (let i = 0; i < s.length - pad; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      (c >= 48 && c <= 57) ||
      c === 43 /* + */ ||
      c === 47; /* / */
    if (!ok) return false;
  }
  return true;
}

export const int32Array = z
  .object({ dtype: z.literal("<i4"), length: z.number().int().min(0), base64: z.string() })
  .strict();
export const float64Array = z
  .object({ dtype: z.literal("<f8"), length: z.number().int().min(0), base64: z.string() })
  .strict();

const isoTime = z.iso.datetime({ offset: true });

export const modelFileSchema = z
  .object({
    format: z.literal(MODEL_FORMAT),
    formatVersion: z.literal(MODEL_FORMAT_VERSION),
    /** Stamped on every decision scored with the model (Scorer.version). */
    modelVersion: z.string().min(1),
    /** Columns of the vectors the model scores, in order. */
    featureNames: z.array(z.string().min(1)).min(1),
    /** FEATURE_SET_VERSION when trained on the worker's features; whatever the trainer passed otherwise. */
    featureSetVersion: z.string().min(1).nullable(),
    hyperparameters: hyperparametersSchema,
    training: z
      .object({
        /** Rows fitted on; null when unknown (scikit-learn does not record it). */
        rows: z.number().int().min(1).nullable(),
        /** Event-time range of the training data, when the caller knows it. */
        timeRange: z.object({ from: isoTime, to: isoTime }).strict().nullable(),
        trainedAt: isoTime,
        /** What produced the trees, e.g. "fraudstream" or "scikit-learn 1.2.1". */
        trainer: z.string().min(1),
        /** Free text: the input file, the query, a note. */
        source: z.string().nullable(),
      })
      .strict(),
    /**
     * The alert threshold on the Scorer's scale (−score_samples, higher = more anomalous) chosen by the
     * trainer, e.g. from evaluation; null = the model's own cut-off, −offset.
     */
    scoreThreshold: z.number().min(0).max(1).nullable(),
    /** Evaluation on labelled data, when there was some. */
    metrics: evaluationSchema.nullable(),
    forest: z
      .object({
        nFeatures: z.number().int().min(1),
        trees: z.number().int().min(1),
        nodes: z.number().int().min(1),
        /** ψ, rows per tree (scikit-learn's max_samples_). */
        samplesPerTree: z.number().int().min(1),
        /** scikit-learn's offset_: decision_function = score_samples − offset. */
        offset: z.number(),
        /**
         * How the trainer compared: "float64" = a row goes left when x <= threshold; "float32" = when
         * float32(x) <= threshold (scikit-learn casts X to float32). Loading turns "float32" thresholds
         * into exact float64 equivalents.
         */
        splitInput: z.enum(["float64", "float32"]),
        /** trees + 1 entries: tree t owns nodes nodeOffsets[t] .. nodeOffsets[t+1]. */
        nodeOffsets: int32Array,
        /** Column split on; −1 at leaves. */
        feature: int32Array,
        threshold: float64Array,
        /** Child indices local to the tree; −1 at leaves. */
        left: int32Array,
        right: int32Array,
        /** Training rows reaching each node (scikit-learn's n_node_samples). */
        nodeSamples: int32Array,
      })
      .strict(),
  })
  .strict();

export type ModelFile = z.infer<typeof modelFileSchema>;
/** Everything in a model file but the trees and hyperparameters (which the IsolationForest holds). */
export type ModelMeta = Omit<ModelFile, "format" | "formatVersion" | "hyperparameters" | "forest">;
/** What saveModel needs besides the model: scoreThreshold and metrics may be left out. */
export type ModelMetaInput = Omit<ModelMeta, "featureNames" | "scoreThreshold" | "metrics"> & {
  featureNames: readonly string[];
  scoreThreshold?: number | null;
  metrics?: ModelMeta["metrics"];
};

export type ModelFormatProblem =
  | "not_json"
  | "not_a_model"
  | "unsupported_version"
  | "invalid"
  | "corrupt_array"
  | "corrupt_forest"
  | "feature_mismatch"
  | "feature_set_mismatch";

/** A model file that cannot be used; `problem` says why in a word, the message in full. */
export class ModelFormatError extends Error {
  readonly problem: ModelFormatProblem;

  constructor(problem: ModelFormatProblem, message: string) {
    super(message);
    this.name = "ModelFormatError";
    this.problem = problem;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndianBytes(a: Int32Array | Float64Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const bytes = new Uint8Array(a.byteLength);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a instanceof Int32Array) view.setInt32(i * 4, a[i] as number, true);
    else view.setFloat64(i * 8, a[i] as number, true);
  }
  return bytes;
}

export function encodeInt32(a: Int32Array): z.infer<typeof int32Array> {
  return { dtype: "<i4", length: a.length, base64: Buffer.from(littleEndianBytes(a)).toString("base64") };
}

export function encodeFloat64(a: Float64Array): z.infer<typeof float64Array> {
  return { dtype: "<f8", length: a.length, base64: Buffer.from(littleEndianBytes(a)).toString("base64") };
}

/** `path` names the array in messages, e.g. "forest.threshold". */
export function decodeBytes(path: string, a: { length: number; base64: string }, width: number): Uint8Array {
  if (!isBase64(a.base64)) throw new ModelFormatError("corrupt_array", `${path}: not valid base64`);
  const raw = Buffer.from(a.base64, "base64");
  if (raw.length !== a.length * width) {
    throw new ModelFormatError(
      "corrupt_array",
      `${path}: ${raw.length} bytes decoded, ${a.length} values of ${width} bytes expected`,
    );
  }
  // A copy: aligned for the typed array, and independent of Buffer's shared pool.
  return new Uint8Array(raw);
}

export function decodeInt32(path: string, a: z.infer<typeof int32Array>): Int32Array {
  const bytes = decodeBytes(path, a, 4);
  if (LITTLE_ENDIAN) return new Int32Array(bytes.buffer, 0, a.length);
  const view = new DataView(bytes.buffer);
  return Int32Array.from({ length: a.length }, (_, i) => view.getInt32(i * 4, true));
}

export function decodeFloat64(path: string, a: z.infer<typeof float64Array>): Float64Array {
  const bytes = decodeBytes(path, a, 8);
  if (LITTLE_ENDIAN) return new Float64Array(bytes.buffer, 0, a.length);
  const view = new DataView(bytes.buffer);
  return Float64Array.from({ length: a.length }, (_, i) => view.getFloat64(i * 8, true));
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The float32 after f (toward +∞), for finite or infinite f. */
function nextUpFloat32(f: number): number {
  if (f === 0) return 2 ** -149;
  f32[0] = f;
  u32[0] = f > 0 ? (u32[0] as number) + 1 : (u32[0] as number) - 1;
  return f32[0] as number;
}

function prevDouble(x: number): number {
  if (x === 0) return -Number.MIN_VALUE;
  f64[0] = x;
  u64[0] = x > 0 ? (u64[0] as bigint) - 1n : (u64[0] as bigint) + 1n;
  return f64[0] as number;
}

/**
 * The largest float64 t′ with float32(t′) <= t, so that `x <= t′` decides exactly as scikit-learn's
 * `float32(x) <= t` for every float64 x: float32 rounding is monotone, so the rows it sends left are
 * exactly those up to the rounding boundary above the largest float32 not exceeding t (a tie rounds
 * to the float32 with an even significand).
 */
export function float32InputThreshold(t: number): number {
  if (Number.isNaN(t) || t === Number.POSITIVE_INFINITY) return t;
  let f = Math.fround(t);
  if (f > t) f = -nextUpFloat32(-f);
  let g = nextUpFloat32(f);
  f32[0] = f;
  const even = ((u32[0] as number) & 1) === 0;
  // Beyond the largest float32 rounding goes to ±∞; the boundary sits as if ±2^128 were the neighbour.
  if (f === Number.NEGATIVE_INFINITY) f = -(2 ** 128);
  if (g === Number.POSITIVE_INFINITY) g = 2 ** 128;
  const mid = (f + g) / 2;
  return even ? mid : prevDouble(mid);
}

/** Hex SHA-256 of the trees (structure and thresholds), e.g. for a default model version. */
export function forestFingerprint(s: ForestState): string {
  const h = createHash("sha256");
  for (const a of [s.nodeOffsets, s.feature, s.threshold, s.left, s.right, s.nodeSamples]) {
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  h.update(`${s.nFeatures}/${s.samplesPerTree}/${s.offset}`);
  return h.digest("hex");
}

/** The model file of a fitted forest, as indented JSON text. */
export function saveModel(model: IsolationForest, meta: ModelMetaInput): string {
  const s = model.state;
  if (meta.featureNames.length !== s.nFeatures) {
    throw new RangeError(
      `the model has ${s.nFeatures} features; ${meta.featureNames.length} names were given`,
    );
  }
  const file: ModelFile = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    modelVersion: meta.modelVersion,
    featureNames: [...meta.featureNames],
    featureSetVersion: meta.featureSetVersion,
    hyperparameters: model.params,
    training: meta.training,
    scoreThreshold: meta.scoreThreshold ?? null,
    metrics: meta.metrics ?? null,
    forest: {
      nFeatures: s.nFeatures,
      trees: s.nodeOffsets.length - 1,
      nodes: s.feature.length,
      samplesPerTree: s.samplesPerTree,
      offset: s.offset,
      splitInput: "float64",
      nodeOffsets: encodeInt32(s.nodeOffsets),
      feature: encodeInt32(s.feature),
      threshold: encodeFloat64(s.threshold),
      left: encodeInt32(s.left),
      right: encodeInt32(s.right),
      nodeSamples: encodeInt32(s.nodeSamples),
    },
  };
  // Validates what is written with the same schema that reads it, so a bad meta fails here, not at load.
  const checked = modelFileSchema.safeParse(file);
  if (!checked.success) throw new RangeError(`cannot save model: ${describe(checked.error)}`);
  return `${JSON.stringify(file, null, 2)}\n`;
}

export function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "(top level)"}: ${i.message}`)
    .join("; ");
}

function list(names: readonly string[]): string {
  return `[${names.join(",")}]`;
}

export interface LoadOptions {
  /** The feature columns the caller will pass, in order; any difference fails the load. */
  expectFeatures?: readonly string[];
  /** The caller's feature-set version (FEATURE_SET_VERSION in the worker); a different one fails. */
  expectFeatureSetVersion?: string;
}

export interface LoadedModel {
  model: IsolationForest;
  meta: ModelMeta;
}

/** Reads a model file; throws ModelFormatError naming the problem. */
export function loadModel(text: string, opts: LoadOptions = {}): LoadedModel {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError("not_json", `model file is not JSON: ${(e as Error).message}`);
  }
  const head = typeof json === "object" && json !== null ? (json as Record<string, unknown>) : {};
  if (head.format !== MODEL_FORMAT) {
    throw new ModelFormatError(
      "not_a_model",
      `not a ${MODEL_FORMAT} file (format is ${JSON.stringify(head.format) ?? "missing"})`,
    );
  }
  if (head.formatVersion !== MODEL_FORMAT_VERSION) {
    throw new ModelFormatError(
      "unsupported_version",
      `model file format version ${JSON.stringify(head.formatVersion)} is not supported; this build reads version ${MODEL_FORMAT_VERSION}`,
    );
  }
  const parsed = modelFileSchema.safeParse(json);
  if (!parsed.success) throw new ModelFormatError("invalid", `invalid model file: ${describe(parsed.error)}`);
  const file = parsed.data;
  const f = file.forest;

  const nodeOffsets = decodeInt32("forest.nodeOffsets", f.nodeOffsets);
  const feature = decodeInt32("forest.feature", f.feature);
  let threshold = decodeFloat64("forest.threshold", f.threshold);
  const left = decodeInt32("forest.left", f.left);
  const right = decodeInt32("forest.right", f.right);
  const nodeSamples = decodeInt32("forest.nodeSamples", f.nodeSamples);
  if (nodeOffsets.length !== f.trees + 1) {
    throw new ModelFormatError(
      "corrupt_array",
      `forest.nodeOffsets has ${nodeOffsets.length} entries, ${f.trees + 1} expected`,
    );
  }
  for (const [name, a] of [
    ["feature", feature],
    ["threshold", threshold],
    ["left", left],
    ["right", right],
    ["nodeSamples", nodeSamples],
  ] as const) {
    if (a.length !== f.nodes) {
      throw new ModelFormatError(
        "corrupt_array",
        `forest.${name} has ${a.length} entries, ${f.nodes} expected`,
      );
    }
  }
  if (f.splitInput === "float32") threshold = threshold.map(float32InputThreshold);
  const state: ForestState = {
    nFeatures: f.nFeatures,
    samplesPerTree: f.samplesPerTree,
    offset: f.offset,
    nodeOffsets,
    feature,
    threshold,
    left,
    right,
    nodeSamples,
  };
  const problem = checkForestState(state);
  if (problem !== undefined) throw new ModelFormatError("corrupt_forest", `corrupt forest: ${problem}`);
  if (file.featureNames.length !== f.nFeatures) {
    throw new ModelFormatError(
      "invalid",
      `featureNames has ${file.featureNames.length} names but the forest has ${f.nFeatures} features`,
    );
  }
  const expect = opts.expectFeatures;
  if (
    expect !== undefined &&
    (expect.length !== file.featureNames.length || expect.some((name, i) => name !== file.featureNames[i]))
  ) {
    throw new ModelFormatError(
      "feature_mismatch",
      `model expects features ${list(file.featureNames)} in this order; got ${list(expect)}`,
    );
  }
  if (opts.expectFeatureSetVersion !== undefined && file.featureSetVersion !== opts.expectFeatureSetVersion) {
    throw new ModelFormatError(
      "feature_set_mismatch",
      `model was trained on feature set ${file.featureSetVersion ?? "(none recorded)"}; this worker computes ${opts.expectFeatureSetVersion}`,
    );
  }
  const { format: _f, formatVersion: _v, hyperparameters, forest: _forest, ...meta } = file;
  return { model: IsolationForest.fromState(hyperparameters, state), meta };
}
