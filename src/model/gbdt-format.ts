// The boosted-trees model file: versioned, self-describing JSON beside the isolation forest's
// (src/model/format.ts), with the same conventions: plain JSON metadata, node arrays as base64 of
// little-endian bytes with their numpy type string, validated by one zod schema whose errors name the
// path. Written by this build (saveGbdtModel), by the XGBoost importer (src/model/xgboost-import.ts)
// and by tools/export_sklearn_hgb.py. Pure: text in, text out; the caller supplies every date.
// Field reference: docs/model.md, "Boosted trees".
import { createHash } from "node:crypto";
import { z } from "zod";
import { detectionReportSchema, evaluationSchema } from "./evaluate.ts";
import {
  decodeBytes,
  decodeFloat64,
  decodeInt32,
  describe,
  encodeFloat64,
  encodeInt32,
  float64Array,
  int32Array,
  type LoadOptions,
  ModelFormatError,
} from "./format.ts";
import { checkEnsemble, type Tree, type TreeEnsemble } from "./trees.ts";

export const GBDT_FORMAT = "fraudstream.gbdt";
export const GBDT_FORMAT_VERSION = 1;

const uint8Array = z
  .object({ dtype: z.literal("|u1"), length: z.number().int().min(0), base64: z.string() })
  .strict();

const isoTime = z.iso.datetime({ offset: true });

export const gbdtFileSchema = z
  .object({
    format: z.literal(GBDT_FORMAT),
    formatVersion: z.literal(GBDT_FORMAT_VERSION),
    /** Stamped on every decision scored with the model (Scorer.version). */
    modelVersion: z.string().min(1),
    /** Columns of the vectors the model scores, in order. */
    featureNames: z.array(z.string().min(1)).min(1),
    /** FEATURE_SET_VERSION when trained on the worker's features; whatever the producer passed otherwise. */
    featureSetVersion: z.string().min(1).nullable(),
    /** The trainer's settings as it names them (ours, XGBoost's or scikit-learn's): recorded, not read. */
    hyperparameters: z.record(z.string(), z.json()),
    training: z
      .object({
        /** Rows fitted on; null when unknown. */
        rows: z.number().int().min(1).nullable(),
        /** Event-time range of the training data, when the caller knows it. */
        timeRange: z.object({ from: isoTime, to: isoTime }).strict().nullable(),
        trainedAt: isoTime,
        /** What produced the trees, e.g. "fraudstream", "xgboost 1.7.4", "scikit-learn 1.2.1". */
        trainer: z.string().min(1),
        /** Free text: the input file, the query, a note. */
        source: z.string().nullable(),
      })
      .strict(),
    /** The alert threshold on the Scorer's scale (probability of fraud); null = 0.5. */
    scoreThreshold: z.number().min(0).max(1).nullable(),
    /** Evaluation on labelled data, when there was some. */
    metrics: evaluationSchema.nullable(),
    /** `model train --kind gbdt`'s report: the time split and detection on its validation and test periods. */
    report: z
      .object({
        labelDelayMs: z.number().min(0),
        asOf: isoTime,
        validationFrom: isoTime.nullable(),
        testFrom: isoTime.nullable(),
        rows: z.object({
          train: z.number().int().min(0),
          validation: z.number().int().min(0),
          test: z.number().int().min(0),
          unlabelled: z.number().int().min(0),
          gap: z.number().int().min(0),
        }),
        validation: detectionReportSchema.nullable(),
        test: detectionReportSchema.nullable(),
      })
      .strict()
      .optional(),
    ensemble: z
      .object({
        /** Binary classification: score = sigmoid(margin). The only objective this build serves. */
        objective: z.literal("binary:logistic"),
        nFeatures: z.number().int().min(1),
        trees: z.number().int().min(0),
        nodes: z.number().int().min(0),
        /** The margin (log-odds) before any tree. */
        baseMargin: z.number(),
        /** "le": x <= threshold goes left; "lt-f32": float32(x) < threshold goes left (XGBoost). */
        split: z.enum(["le", "lt-f32"]),
        /** trees + 1 entries: tree t owns nodes nodeOffsets[t] .. nodeOffsets[t+1]. */
        nodeOffsets: int32Array,
        /** Column split on; −1 at leaves. */
        feature: int32Array,
        threshold: float64Array,
        /** Child indices local to the tree (children come after their parent); −1 at leaves. */
        left: int32Array,
        right: int32Array,
        /** 1: a missing value (NaN) goes left; 0: right. */
        missingLeft: uint8Array,
        /** Leaf contribution to the margin, learning rate included (internal nodes: not used). */
        value: float64Array,
        /** Training weight reaching each node (sum of hessians, or rows): TreeSHAP's expectations. */
        cover: float64Array,
        /** Loss reduction of each split (0 at leaves), when the producer recorded it: importance by gain. */
        gain: float64Array.optional(),
      })
      .strict(),
  })
  .strict();

export type GbdtFile = z.infer<typeof gbdtFileSchema>;
/** Everything in a model file but the trees. */
export type GbdtMeta = Omit<GbdtFile, "format" | "formatVersion" | "ensemble">;
/** What saveGbdtModel needs besides the ensemble: scoreThreshold and metrics may be left out. */
export type GbdtMetaInput = Omit<GbdtMeta, "featureNames" | "scoreThreshold" | "metrics" | "report"> & {
  scoreThreshold?: number | null;
  metrics?: GbdtMeta["metrics"];
  report?: GbdtMeta["report"];
};
export type GbdtTrainingReport = NonNullable<GbdtFile["report"]>;

function encodeUint8(a: Uint8Array): z.infer<typeof uint8Array> {
  return {
    dtype: "|u1",
    length: a.length,
    base64: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64"),
  };
}

/** The trees as the file's flat arrays (each tree's nodes in its own order, indices local). */
function flatten(e: TreeEnsemble) {
  let nodes = 0;
  for (const t of e.trees) nodes += t.feature.length;
  const nodeOffsets = new Int32Array(e.trees.length + 1);
  const feature = new Int32Array(nodes);
  const threshold = new Float64Array(nodes);
  const left = new Int32Array(nodes);
  const right = new Int32Array(nodes);
  const missingLeft = new Uint8Array(nodes);
  const value = new Float64Array(nodes);
  const cover = new Float64Array(nodes);
  // Written only when every tree has gains (an ensemble is one producer's, so all or none do).
  const gain =
    e.trees.length > 0 && e.trees.every((t) => t.gain !== undefined) ? new Float64Array(nodes) : undefined;
  let at = 0;
  e.trees.forEach((t, i) => {
    nodeOffsets[i] = at;
    feature.set(t.feature, at);
    threshold.set(t.threshold, at);
    left.set(t.left, at);
    right.set(t.right, at);
    missingLeft.set(t.missingLeft, at);
    value.set(t.value, at);
    cover.set(t.cover, at);
    if (gain !== undefined && t.gain !== undefined) gain.set(t.gain, at);
    at += t.feature.length;
  });
  nodeOffsets[e.trees.length] = at;
  // Leaves' children are −1 in the file whatever the in-memory arrays held there.
  for (let k = 0; k < nodes; k++) {
    if ((feature[k] as number) < 0) {
      left[k] = -1;
      right[k] = -1;
      if (gain !== undefined) gain[k] = 0;
    }
  }
  return { nodes, nodeOffsets, feature, threshold, left, right, missingLeft, value, cover, gain };
}

/** Hex SHA-256 of the trees (structure, thresholds, leaves, covers), e.g. for a default model version. */
export function ensembleFingerprint(e: TreeEnsemble): string {
  const f = flatten(e);
  const h = createHash("sha256");
  for (const a of [f.nodeOffsets, f.feature, f.threshold, f.left, f.right, f.missingLeft, f.value, f.cover]) {
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  h.update(`${e.split}/${e.baseMargin}/${e.featureNames.length}`);
  return h.digest("hex");
}

/** The model file of an ensemble, as indented JSON text; the ensemble's feature names are the file's. */
export function saveGbdtModel(e: TreeEnsemble, meta: GbdtMetaInput): string {
  const problem = checkEnsemble(e);
  if (problem !== undefined) throw new RangeError(`cannot save model: ${problem}`);
  const f = flatten(e);
  const file: GbdtFile = {
    format: GBDT_FORMAT,
    formatVersion: GBDT_FORMAT_VERSION,
    modelVersion: meta.modelVersion,
    featureNames: [...e.featureNames],
    featureSetVersion: meta.featureSetVersion,
    hyperparameters: meta.hyperparameters,
    training: meta.training,
    scoreThreshold: meta.scoreThreshold ?? null,
    metrics: meta.metrics ?? null,
    ...(meta.report === undefined ? {} : { report: meta.report }),
    ensemble: {
      objective: "binary:logistic",
      nFeatures: e.featureNames.length,
      trees: e.trees.length,
      nodes: f.nodes,
      baseMargin: e.baseMargin,
      split: e.split,
      nodeOffsets: encodeInt32(f.nodeOffsets),
      feature: encodeInt32(f.feature),
      threshold: encodeFloat64(f.threshold),
      left: encodeInt32(f.left),
      right: encodeInt32(f.right),
      missingLeft: encodeUint8(f.missingLeft),
      value: encodeFloat64(f.value),
      cover: encodeFloat64(f.cover),
      ...(f.gain === undefined ? {} : { gain: encodeFloat64(f.gain) }),
    },
  };
  const checked = gbdtFileSchema.safeParse(file);
  if (!checked.success) throw new RangeError(`cannot save model: ${describe(checked.error)}`);
  return `${JSON.stringify(file, null, 2)}\n`;
}

export interface LoadedGbdt {
  ensemble: TreeEnsemble;
  meta: GbdtMeta;
}

function list(names: readonly string[]): string {
  return `[${names.join(",")}]`;
}

/** Reads a parsed boosted-trees file (format and version already checked by the caller or here). */
export function loadGbdtJson(json: unknown, opts: LoadOptions = {}): LoadedGbdt {
  const head = typeof json === "object" && json !== null ? (json as Record<string, unknown>) : {};
  if (head.format !== GBDT_FORMAT) {
    throw new ModelFormatError(
      "not_a_model",
      `not a ${GBDT_FORMAT} file (format is ${JSON.stringify(head.format) ?? "missing"})`,
    );
  }
  if (head.formatVersion !== GBDT_FORMAT_VERSION) {
    throw new ModelFormatError(
      "unsupported_version",
      `${GBDT_FORMAT} format version ${JSON.stringify(head.formatVersion)} is not supported; this build reads version ${GBDT_FORMAT_VERSION}`,
    );
  }
  const parsed = gbdtFileSchema.safeParse(json);
  if (!parsed.success) throw new ModelFormatError("invalid", `invalid model file: ${describe(parsed.error)}`);
  const file = parsed.data;
  const g = file.ensemble;
  const nodeOffsets = decodeInt32("ensemble.nodeOffsets", g.nodeOffsets);
  const arrays = {
    feature: decodeInt32("ensemble.feature", g.feature),
    threshold: decodeFloat64("ensemble.threshold", g.threshold),
    left: decodeInt32("ensemble.left", g.left),
    right: decodeInt32("ensemble.right", g.right),
    missingLeft: decodeBytes("ensemble.missingLeft", g.missingLeft, 1),
    value: decodeFloat64("ensemble.value", g.value),
    cover: decodeFloat64("ensemble.cover", g.cover),
    ...(g.gain === undefined ? {} : { gain: decodeFloat64("ensemble.gain", g.gain) }),
  };
  if (nodeOffsets.length !== g.trees + 1) {
    throw new ModelFormatError(
      "corrupt_array",
      `ensemble.nodeOffsets has ${nodeOffsets.length} entries, ${g.trees + 1} expected`,
    );
  }
  for (const [name, a] of Object.entries(arrays)) {
    if (a.length !== g.nodes) {
      throw new ModelFormatError(
        "corrupt_array",
        `ensemble.${name} has ${a.length} entries, ${g.nodes} expected`,
      );
    }
  }
  if (nodeOffsets[0] !== 0 || nodeOffsets[g.trees] !== g.nodes) {
    throw new ModelFormatError(
      "corrupt_array",
      `ensemble.nodeOffsets must run from 0 to ${g.nodes}; it runs from ${nodeOffsets[0]} to ${nodeOffsets[g.trees]}`,
    );
  }
  const trees: Tree[] = [];
  for (let t = 0; t < g.trees; t++) {
    const from = nodeOffsets[t] as number;
    const to = nodeOffsets[t + 1] as number;
    if (!(to > from)) {
      throw new ModelFormatError("corrupt_array", `ensemble.nodeOffsets: tree ${t} has ${to - from} nodes`);
    }
    trees.push({
      feature: arrays.feature.subarray(from, to),
      threshold: arrays.threshold.subarray(from, to),
      left: arrays.left.subarray(from, to),
      right: arrays.right.subarray(from, to),
      missingLeft: arrays.missingLeft.subarray(from, to),
      value: arrays.value.subarray(from, to),
      cover: arrays.cover.subarray(from, to),
      ...(arrays.gain === undefined ? {} : { gain: arrays.gain.subarray(from, to) }),
    });
  }
  if (file.featureNames.length !== g.nFeatures) {
    throw new ModelFormatError(
      "invalid",
      `featureNames has ${file.featureNames.length} names but the ensemble has ${g.nFeatures} features`,
    );
  }
  const ensemble: TreeEnsemble = {
    featureNames: file.featureNames,
    baseMargin: g.baseMargin,
    split: g.split,
    trees,
  };
  const problem = checkEnsemble(ensemble);
  if (problem !== undefined) throw new ModelFormatError("corrupt_forest", `corrupt ensemble: ${problem}`);
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
  const { format: _f, formatVersion: _v, ensemble: _e, ...meta } = file;
  return { ensemble, meta };
}

/** Reads boosted-trees model file text; throws ModelFormatError naming the problem. */
export function loadGbdtModel(text: string, opts: LoadOptions = {}): LoadedGbdt {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError("not_json", `model file is not JSON: ${(e as Error).message}`);
  }
  return loadGbdtJson(json, opts);
}
