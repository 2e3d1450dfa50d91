// XGBoost's JSON model files (`booster.save_model("m.json")`, binary:logistic or binary:logitraw,
// gbtree) → a fraudstream.gbdt model file. Pure: text in, text out (the caller reads the file and
// supplies the dates). What is read, and how XGBoost means it:
//
// - trees[t].split_indices / split_conditions / left_children / right_children / default_left: a row
//   goes left when float32(x) < split_condition (XGBoost casts every value to float32), right
//   otherwise, and a missing value the default_left way; the split test is therefore "lt-f32" and
//   every number is rounded to the float32 XGBoost holds. At a leaf (left_children −1),
//   split_conditions holds the leaf value, learning rate included.
// - sum_hessian: the cover TreeSHAP weighs by (XGBoost's own pred_contribs uses the same);
//   loss_changes: each split's gain.
// - learner_model_param.base_score: in probability space for binary:logistic in every XGBoost that
//   writes JSON (1.0 on; from 2.0 it may have been estimated from the labels, and newer releases may
//   write it as a one-element list "[5E-1]"; both are read), so the margin before any tree is logit(base_score),
//   computed in float32 as XGBoost does; binary:logitraw takes base_score as the margin itself.
// - learner.feature_names when the booster had them, else XGBoost's own f0, f1, ...
// Refused with a message: other objectives, multi-class or multi-target models, dart boosters,
// categorical splits, vector leaves.
import { z } from "zod";
import { describe } from "./format.ts";
import { ensembleFingerprint, type GbdtMetaInput, saveGbdtModel } from "./gbdt-format.ts";
import { checkEnsemble, type Tree, type TreeEnsemble } from "./trees.ts";

/** A problem with an XGBoost model file, saying what was found and where. */
export class XgboostImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XgboostImportError";
  }
}

// XGBoost writes most scalars as strings ("5E-1", "0"); numbers are accepted too.
const numeric = z.union([z.number(), z.string()]);
const flags = z.array(z.union([z.number().int(), z.boolean()]));

const treeSchema = z.looseObject({
  split_indices: z.array(z.number().int().min(0)),
  split_conditions: z.array(z.number()),
  left_children: z.array(z.number().int()),
  right_children: z.array(z.number().int()),
  default_left: flags,
  sum_hessian: z.array(z.number()),
  loss_changes: z.array(z.number()).optional(),
  split_type: z.array(z.number().int()).optional(),
  tree_param: z.looseObject({ num_nodes: numeric, size_leaf_vector: numeric.optional() }),
});

const xgboostSchema = z.looseObject({
  version: z.array(z.number().int()).optional(),
  learner: z.looseObject({
    feature_names: z.array(z.string()).optional(),
    feature_types: z.array(z.string()).optional(),
    learner_model_param: z.looseObject({
      base_score: numeric,
      num_class: numeric.optional(),
      num_feature: numeric,
      num_target: numeric.optional(),
      boost_from_average: numeric.optional(),
    }),
    objective: z.looseObject({ name: z.string() }),
    gradient_booster: z.looseObject({
      name: z.string(),
      model: z
        .looseObject({
          trees: z.array(treeSchema),
          tree_info: z.array(z.number().int()).optional(),
        })
        .optional(),
    }),
  }),
});

function scalar(value: string | number, path: string): number {
  // "[5E-1]": a vector-valued base_score (newer XGBoost releases), one target.
  const text = typeof value === "string" ? value.trim().replace(/^\[(.*)\]$/, "$1") : value;
  const n = typeof text === "number" ? text : text === "" || text.includes(",") ? Number.NaN : Number(text);
  if (!Number.isFinite(n))
    throw new XgboostImportError(`${path}: ${JSON.stringify(value)} is not one number`);
  return n;
}

export interface XgboostModel {
  ensemble: TreeEnsemble;
  /** The objective, base_score and sizes as the file states them (recorded as hyperparameters). */
  hyperparameters: Record<string, string | number>;
  /** "xgboost 1.7.4" (or just "xgboost" when the file carries no version). */
  trainer: string;
}

/** The trees of an XGBoost JSON model; `featureNames` overrides the file's (same count). */
export function readXgboostJson(text: string, featureNames?: readonly string[]): XgboostModel {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new XgboostImportError(
      `not JSON (${(e as Error).message}); save the booster with a .json name (UBJSON is not read)`,
    );
  }
  const parsed = xgboostSchema.safeParse(json);
  if (!parsed.success) throw new XgboostImportError(`not an XGBoost JSON model: ${describe(parsed.error)}`);
  const learner = parsed.data.learner;
  const objective = learner.objective.name;
  if (objective !== "binary:logistic" && objective !== "binary:logitraw") {
    throw new XgboostImportError(
      `learner.objective.name is ${objective}; only binary:logistic and binary:logitraw models can be imported`,
    );
  }
  const booster = learner.gradient_booster;
  if (booster.name !== "gbtree" || booster.model === undefined) {
    throw new XgboostImportError(
      `learner.gradient_booster.name is ${booster.name}; only gbtree boosters can be imported (dart weighs its trees, gblinear has none)`,
    );
  }
  const p = learner.learner_model_param;
  const numClass =
    p.num_class === undefined ? 0 : scalar(p.num_class, "learner.learner_model_param.num_class");
  const numTarget =
    p.num_target === undefined ? 1 : scalar(p.num_target, "learner.learner_model_param.num_target");
  if (numClass > 1 || numTarget !== 1) {
    throw new XgboostImportError(
      `the model has num_class ${numClass}, num_target ${numTarget}; only binary models can be imported`,
    );
  }
  const nFeatures = scalar(p.num_feature, "learner.learner_model_param.num_feature");
  if (!Number.isInteger(nFeatures) || nFeatures < 1) {
    throw new XgboostImportError(`learner.learner_model_param.num_feature is ${nFeatures}`);
  }
  const types = learner.feature_types ?? [];
  const categorical = types.indexOf("c");
  if (categorical >= 0) {
    throw new XgboostImportError(
      `learner.feature_types[${categorical}] is categorical ("c"); categorical splits cannot be imported`,
    );
  }
  const fileNames = learner.feature_names ?? [];
  const names =
    featureNames ?? (fileNames.length > 0 ? fileNames : Array.from({ length: nFeatures }, (_, i) => `f${i}`));
  if (names.length !== nFeatures) {
    throw new XgboostImportError(
      `${names.length} feature names ${featureNames === undefined ? "in learner.feature_names" : "given"}; the model has num_feature ${nFeatures}`,
    );
  }
  const baseScore = scalar(p.base_score, "learner.learner_model_param.base_score");
  let baseMargin: number;
  if (objective === "binary:logitraw") baseMargin = Math.fround(baseScore);
  else {
    if (!(baseScore > 0 && baseScore < 1)) {
      throw new XgboostImportError(
        `learner.learner_model_param.base_score ${baseScore} is not a probability in (0, 1)`,
      );
    }
    // XGBoost's ProbToMargin in float32: −log(1/base_score − 1).
    const b = Math.fround(baseScore);
    baseMargin = Math.fround(-Math.log(Math.fround(Math.fround(1 / b) - 1)));
  }
  const info = booster.model.tree_info ?? [];
  const trees: Tree[] = booster.model.trees.map((t, i) => {
    const at = `learner.gradient_booster.model.trees[${i}]`;
    if ((info[i] ?? 0) !== 0)
      throw new XgboostImportError(`${at}: tree_info ${info[i]} (one output group expected)`);
    const vector =
      t.tree_param.size_leaf_vector === undefined
        ? 0
        : scalar(t.tree_param.size_leaf_vector, `${at}.tree_param.size_leaf_vector`);
    if (vector > 1)
      throw new XgboostImportError(`${at}: vector leaves (size_leaf_vector ${vector}) cannot be imported`);
    const n = scalar(t.tree_param.num_nodes, `${at}.tree_param.num_nodes`);
    for (const [name, a] of [
      ["split_indices", t.split_indices],
      ["split_conditions", t.split_conditions],
      ["left_children", t.left_children],
      ["right_children", t.right_children],
      ["default_left", t.default_left],
      ["sum_hessian", t.sum_hessian],
    ] as const) {
      if (a.length !== n)
        throw new XgboostImportError(`${at}.${name} has ${a.length} entries; num_nodes is ${n}`);
    }
    const kinds = t.split_type ?? [];
    const feature = new Int32Array(n);
    const threshold = new Float64Array(n);
    const value = new Float64Array(n);
    const left = new Int32Array(n);
    const right = new Int32Array(n);
    const missingLeft = new Uint8Array(n);
    const cover = new Float64Array(n);
    const losses = t.loss_changes;
    if (losses !== undefined && losses.length !== n) {
      throw new XgboostImportError(`${at}.loss_changes has ${losses.length} entries; num_nodes is ${n}`);
    }
    const gain = losses === undefined ? undefined : new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const l = t.left_children[k] as number;
      const cond = Math.fround(t.split_conditions[k] as number);
      cover[k] = Math.fround(t.sum_hessian[k] as number);
      left[k] = l;
      right[k] = t.right_children[k] as number;
      if (l === -1) {
        feature[k] = -1;
        value[k] = cond;
        left[k] = -1;
        right[k] = -1;
        continue;
      }
      if ((kinds[k] ?? 0) !== 0)
        throw new XgboostImportError(`${at}: node ${k} is a categorical split; these cannot be imported`);
      const f = t.split_indices[k] as number;
      if (f >= nFeatures)
        throw new XgboostImportError(
          `${at}.split_indices[${k}] is ${f}; the model has ${nFeatures} features`,
        );
      feature[k] = f;
      threshold[k] = cond;
      if (gain !== undefined) gain[k] = Math.fround(losses?.[k] as number);
      const d = t.default_left[k];
      missingLeft[k] = d === true || d === 1 ? 1 : 0;
    }
    return {
      feature,
      threshold,
      left,
      right,
      missingLeft,
      value,
      cover,
      ...(gain === undefined ? {} : { gain }),
    };
  });
  const ensemble: TreeEnsemble = { featureNames: [...names], baseMargin, split: "lt-f32", trees };
  const problem = checkEnsemble(ensemble);
  if (problem !== undefined) throw new XgboostImportError(`the trees are not usable: ${problem}`);
  const version = parsed.data.version;
  return {
    ensemble,
    hyperparameters: {
      objective,
      base_score: baseScore,
      ...(p.boost_from_average === undefined ? {} : { boost_from_average: String(p.boost_from_average) }),
      num_feature: nFeatures,
      num_trees: trees.length,
    },
    trainer: version === undefined ? "xgboost" : `xgboost ${version.join(".")}`,
  };
}

export interface XgboostImportOptions {
  /** The column names, in the model's feature order; default the file's feature_names, else f0, f1, ... */
  featureNames?: readonly string[];
  /** Default "xgboost-" + 12 hex digits of the trees' SHA-256. */
  modelVersion?: string;
  featureSetVersion: string | null;
  /** When the model was trained (ISO 8601); the file does not record it. */
  trainedAt: string;
  rows?: number | null;
  source?: string | null;
  scoreThreshold?: number | null;
  metrics?: GbdtMetaInput["metrics"];
}

/**
 * `fraudstream model import-xgboost`: an XGBoost JSON model file's text → fraudstream.gbdt model
 * file text. Throws XgboostImportError for a file it cannot import.
 */
export function importXgboostModel(text: string, opts: XgboostImportOptions): string {
  const m = readXgboostJson(text, opts.featureNames);
  return saveGbdtModel(m.ensemble, {
    modelVersion: opts.modelVersion ?? `xgboost-${ensembleFingerprint(m.ensemble).slice(0, 12)}`,
    featureSetVersion: opts.featureSetVersion,
    hyperparameters: m.hyperparameters,
    training: {
      rows: opts.rows ?? null,
      timeRange: null,
      trainedAt: opts.trainedAt,
      trainer: m.trainer,
      source: opts.source ?? null,
    },
    scoreThreshold: opts.scoreThreshold ?? null,
    metrics: opts.metrics ?? null,
  });
}
