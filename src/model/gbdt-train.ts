// Gradient-boosted decision trees for binary classification (log loss), trained here: histogram-based,
// as scikit-learn's HistGradientBoostingClassifier (1.2), LightGBM and XGBoost's `hist` method. The
// output is a TreeEnsemble (src/model/trees.ts) with split "le": the scorer, the model file and TreeSHAP
// read it the same whether it was trained here or imported.
//
// The algorithm follows scikit-learn's operation for operation, so that the same hyperparameters mean
// the same thing and, on up to `binSubsample` training rows, grow the same trees (margins equal to
// scikit-learn 1.2's to the bit: gbdt-train-parity.test.ts):
// - binning: per feature at most `maxBins` bins from quantiles of (a subsample of) the training rows,
//   plus one bin for missing values (NaN); the binned matrix is column-major Uint8;
// - gradients and hessians of the log loss as float32 (scikit-learn's G_H_DTYPE), sums in float64;
// - per node, histograms of (gradient, hessian, count) per feature and bin; the smaller child's by a
//   pass over its rows, the larger one's as parent − smaller (the subtraction trick);
// - split gain G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ) under min_samples_leaf, min_hessian_to_split and
//   min_gain_to_split; missing values are tried on both sides (when the feature had any in training);
// - leaf value −G/(H+λ) times the learning rate; growth best-first on gain (leaf-wise) or level by level
//   (depth-wise), bounded by max_leaf_nodes and max_depth.
// Differences from scikit-learn, on purpose: the validation split for early stopping is the last
// fraction of the rows in the given order (fraud data is temporal: validating on a shuffled split
// leaks the future into training), and by default the ensemble is cut back to its best iteration.
import { z } from "zod";
import { Sfc32 } from "./rng.ts";
import type { Tree, TreeEnsemble } from "./trees.ts";

const classWeightSchema = z.union([
  z.literal("balanced"),
  z.object({ 0: z.number().gt(0).finite(), 1: z.number().gt(0).finite() }).strict(),
]);

export const gbdtHyperparametersSchema = z
  .object({
    /** Shrinkage applied to every leaf value (scikit-learn: learning_rate). */
    learningRate: z.number().gt(0).finite().default(0.1),
    /** Boosting iterations, one tree each (max_iter); early stopping may end sooner. */
    maxIter: z.number().int().min(1).max(100_000).default(100),
    /** Leaves per tree at most (max_leaf_nodes); null: no bound. */
    maxLeafNodes: z.number().int().min(2).max(1_000_000).nullable().default(31),
    /** Edges from the root to the deepest leaf at most (max_depth); null: no bound. */
    maxDepth: z.number().int().min(1).max(1000).nullable().default(null),
    /** "leafwise": split the leaf of highest gain next (scikit-learn, LightGBM); "depthwise": level by level (XGBoost's default). */
    growth: z.enum(["leafwise", "depthwise"]).default("leafwise"),
    /** Training rows per leaf at least (min_samples_leaf), unweighted. */
    minSamplesLeaf: z.number().int().min(1).default(20),
    /** λ, L2 penalty on leaf values, in hessian units (l2_regularization). */
    l2Regularization: z.number().min(0).finite().default(0),
    /** Sum of hessians (weighted p(1−p)) each child needs at least (scikit-learn's min_hessian_to_split). */
    minHessianToSplit: z.number().min(0).finite().default(1e-3),
    /** Loss reduction a split needs to exceed (scikit-learn's min_gain_to_split). */
    minGainToSplit: z.number().min(0).finite().default(0),
    /** Bins for non-missing values per feature (max_bins); one more bin holds missing values. */
    maxBins: z.number().int().min(2).max(255).default(255),
    /** Rows the bin thresholds are computed from, drawn without replacement when there are more (scikit-learn's 200,000); null: all. */
    binSubsample: z.number().int().min(1).nullable().default(200_000),
    /** Sample weight per class: "balanced" = rows / (2 · rows of the class), or { 0: w0, 1: w1 }; null: 1. */
    classWeight: classWeightSchema.nullable().default(null),
    /** Hold out the last `validationFraction` of rows and stop on their loss; "auto": when there are more than 10,000 rows. */
    earlyStopping: z.union([z.literal("auto"), z.boolean()]).default("auto"),
    /** Share of rows, the last ones in the given order, held out for early stopping: ⌈fraction · rows⌉. */
    validationFraction: z.number().gt(0).lt(1).default(0.1),
    /** Stop when none of the last n iterations improved the validation loss by more than `tol` (n_iter_no_change). */
    nIterNoChange: z.number().int().min(1).default(10),
    /** Improvement in validation log loss (nats per unit of weight) that counts (tol). */
    tol: z.number().min(0).finite().default(1e-7),
    /** With early stopping, keep only the trees up to the lowest validation loss (scikit-learn keeps all). */
    keepBestIteration: z.boolean().default(true),
    /** PRNG seed: draws the binning subsample (the only random step). */
    seed: z.number().int().min(0).max(0xffffffff).default(0),
  })
  .strict();

/** Hyperparameters as stored (every field present). */
export type GbdtHyperparameters = z.output<typeof gbdtHyperparametersSchema>;
/** Hyperparameters as fitGbdt accepts them (defaults filled in). */
export type GbdtHyperparametersInput = z.input<typeof gbdtHyperparametersSchema>;

/** Validates hyperparameters; the error names every bad field. */
export function parseGbdtHyperparameters(input: unknown): GbdtHyperparameters {
  const r = gbdtHyperparametersSchema.safeParse(input);
  if (r.success) return r.data;
  const problems = r.error.issues.map(
    (i) => `${i.path.length > 0 ? i.path.join(".") : "(hyperparameters)"}: ${i.message}`,
  );
  throw new RangeError(`gbdt hyperparameters: ${problems.join("; ")}`);
}

export interface TrainingData {
  /** rows × cols values, row-major; NaN is a missing value. */
  readonly X: Float64Array;
  readonly rows: number;
  readonly cols: number;
  /** 0/1 per row. */
  readonly labels: ArrayLike<number>;
  /** Column names, in order; default f0, f1, … */
  readonly featureNames?: readonly string[] | undefined;
  /** Per-row weights (multiplied by the class weights); default 1. */
  readonly sampleWeight?: ArrayLike<number> | undefined;
}

export interface FitOptions {
  /** Milliseconds from an arbitrary origin (performance.now); the report's times are null without it. */
  readonly clock?: (() => number) | undefined;
  /** Called after each boosting iteration (1-based) with maxIter, e.g. for a progress bar. */
  readonly onIteration?: ((iteration: number, maxIter: number) => void) | undefined;
}

export interface FitReport {
  readonly hyperparameters: GbdtHyperparameters;
  readonly trainRows: number;
  readonly validationRows: number;
  /** Trees fitted; the ensemble has `trees.length` of them (fewer when cut back to the best). */
  readonly iterationsRun: number;
  readonly earlyStopped: boolean;
  /** Trees at the lowest validation loss (0 = the baseline alone); null without validation rows. */
  readonly bestIteration: number | null;
  /** Weighted mean log loss (nats) of the training rows after k trees, k = 0 … iterationsRun. */
  readonly trainLoss: number[];
  /** The same on the validation rows; null without them. */
  readonly validationLoss: number[] | null;
  /** Non-missing bins per feature. */
  readonly bins: number[];
  /** Log-odds of the weighted share of positives among the training rows. */
  readonly baseMargin: number;
  readonly timeMs: { binning: number; boosting: number; total: number } | null;
}

export interface GbdtFit {
  readonly ensemble: TreeEnsemble;
  readonly report: FitReport;
}

/** scikit-learn clips finite bin thresholds to this, keeping +∞ for the "split on missing" case. */
const ALMOST_INF = 1e300;

/** Bin thresholds of every feature: what fit bins rows with (training and validation alike). */
export interface BinMapper {
  /** Per feature, increasing thresholds: bin(x) = #{t : t < x}, so bin(x) ≤ b ⇔ x ≤ thresholds[b]. */
  readonly thresholds: Float64Array[];
  /** thresholds[f].length + 1. */
  readonly nonMissingBins: Int32Array;
  /** Bin index of NaN (= maxBins). */
  readonly missingBin: number;
}

/**
 * Thresholds from the sorted non-missing values of one feature, as scikit-learn's
 * _find_binning_thresholds: midpoints between distinct values when there are at most maxBins of them,
 * else numpy.percentile(values, linspace(0, 100, maxBins + 1)[1:-1], method="midpoint"), evaluated with
 * numpy's own arithmetic so that the thresholds agree to the bit.
 */
export function binThresholds(sorted: Float64Array, maxBins: number): Float64Array {
  const n = sorted.length;
  let distinct = 0;
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  let out: Float64Array;
  if (distinct <= maxBins) {
    out = new Float64Array(Math.max(0, distinct - 1));
    let k = 0;
    let prev = sorted[0] as number;
    for (let i = 1; i < n; i++) {
      const v = sorted[i] as number;
      if (v !== prev) {
        out[k++] = (prev + v) * 0.5;
        prev = v;
      }
    }
  } else {
    out = new Float64Array(maxBins - 1);
    const step = 100 / maxBins; // numpy.linspace: k · (delta / div) + start
    for (let k = 1; k < maxBins; k++) {
      const q = (k * step) / 100;
      // numpy 1.24's "midpoint": index ½(⌊(n−1)q⌋ + ⌈(n−1)q⌉), the lower value when it is whole.
      const index = 0.5 * (Math.floor((n - 1) * q) + Math.ceil((n - 1) * q));
      const lo = index >= n - 1 ? n - 1 : Math.floor(index);
      const hi = index >= n - 1 ? n - 1 : lo + 1;
      const gamma = index % 1 === 0 ? 0 : 0.5;
      const a = sorted[lo] as number;
      const b = sorted[hi] as number;
      const diff = b - a;
      out[k - 1] = gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
    }
  }
  for (let i = 0; i < out.length; i++) if ((out[i] as number) > ALMOST_INF) out[i] = ALMOST_INF;
  return out;
}

/**
 * Bin thresholds from the first `fromRows` rows (a seeded subsample of `subsample` of them when there
 * are more), as scikit-learn's _BinMapper.fit.
 */
export function fitBinMapper(
  X: Float64Array,
  fromRows: number,
  cols: number,
  maxBins: number,
  subsample: number | null,
  seed: number,
): BinMapper {
  let rows: Int32Array | null = null;
  if (subsample !== null && fromRows > subsample) {
    // Partial Fisher–Yates: the first `subsample` slots become a uniform draw without replacement.
    const pool = Int32Array.from({ length: fromRows }, (_, i) => i);
    const rng = new Sfc32(seed);
    for (let i = 0; i < subsample; i++) {
      const j = i + rng.below(fromRows - i);
      const t = pool[i] as number;
      pool[i] = pool[j] as number;
      pool[j] = t;
    }
    rows = pool.subarray(0, subsample).sort();
  }
  const m = rows === null ? fromRows : rows.length;
  const values = new Float64Array(m);
  const scratch = new Float64Array(m);
  const thresholds: Float64Array[] = [];
  const nonMissingBins = new Int32Array(cols);
  for (let f = 0; f < cols; f++) {
    let k = 0;
    for (let i = 0; i < m; i++) {
      const v = X[(rows === null ? i : (rows[i] as number)) * cols + f] as number;
      if (!Number.isNaN(v)) values[k++] = v;
    }
    const t = binThresholds(sortFloat64(values.subarray(0, k), scratch), maxBins);
    thresholds.push(t);
    nonMissingBins[f] = t.length + 1;
  }
  return { thresholds, nonMissingBins, missingBin: maxBins };
}

// Radix sort: six digits of 11 bits (the last of 9) of the order-preserving 64-bit key, so that each
// pass's buckets stay in the L1 cache.
const RADIX = 2048;
const PASSES = 6;

/** Digit `pass` of the key (khi, klo): bits 11·pass … 11·pass + 10 of khi·2³² + klo. */
function digit(khi: number, klo: number, pass: number): number {
  if (pass === 0) return klo & 0x7ff;
  if (pass === 1) return (klo >>> 11) & 0x7ff;
  if (pass === 2) return (klo >>> 22) | ((khi & 1) << 10);
  if (pass === 3) return (khi >>> 1) & 0x7ff;
  if (pass === 4) return (khi >>> 12) & 0x7ff;
  return khi >>> 23;
}

/**
 * Sorts non-NaN float64 values ascending (−0 before +0), returning `a` or `scratch` (whichever ends up
 * holding them): an LSD radix sort on the IEEE-754 bits made order-preserving (negative values: every
 * bit flipped; others: the sign bit), skipping digits that all values share (most of them for small
 * integers). Binning sorts every feature; Float64Array.prototype.sort is 1.5–4× slower (measured).
 */
export function sortFloat64(a: Float64Array, scratch: Float64Array): Float64Array {
  const n = a.length;
  if (n < 4096) return a.sort();
  const counts = new Uint32Array(PASSES * RADIX);
  let src = a;
  let dst = scratch.subarray(0, n);
  let bits = new Uint32Array(src.buffer, src.byteOffset, 2 * n);
  for (let i = 0; i < n; i++) {
    const hi = bits[2 * i + 1] as number;
    const lo = bits[2 * i] as number;
    const neg = hi >>> 31;
    const khi = neg === 1 ? ~hi >>> 0 : (hi ^ 0x80000000) >>> 0;
    const klo = neg === 1 ? ~lo >>> 0 : lo;
    for (let pass = 0; pass < PASSES; pass++) {
      const d = pass * RADIX + digit(khi, klo, pass);
      counts[d] = (counts[d] as number) + 1;
    }
  }
  for (let pass = 0; pass < PASSES; pass++) {
    const c = counts.subarray(pass * RADIX, (pass + 1) * RADIX);
    let sum = 0;
    let single = false;
    for (let d = 0; d < RADIX; d++) {
      const k = c[d] as number;
      if (k === n) single = true;
      c[d] = sum;
      sum += k;
    }
    if (single) continue; // every value has this digit: the order is unchanged
    for (let i = 0; i < n; i++) {
      const hi = bits[2 * i + 1] as number;
      const lo = bits[2 * i] as number;
      const neg = hi >>> 31;
      const khi = neg === 1 ? ~hi >>> 0 : (hi ^ 0x80000000) >>> 0;
      const klo = neg === 1 ? ~lo >>> 0 : lo;
      const d = digit(khi, klo, pass);
      const at = c[d] as number;
      c[d] = at + 1;
      dst[at] = src[i] as number;
    }
    const t = src;
    src = dst;
    dst = t;
    bits = new Uint32Array(src.buffer, src.byteOffset, 2 * n);
  }
  return src;
}

/** The rows binned, column-major: out[f · rows + i] is row i's bin of feature f. */
export function binRows(mapper: BinMapper, X: Float64Array, rows: number, cols: number): Uint8Array {
  const out = new Uint8Array(rows * cols);
  const missing = mapper.missingBin;
  for (let i = 0; i < rows; i++) {
    const base = i * cols;
    for (let f = 0; f < cols; f++) {
      const x = X[base + f] as number;
      const t = mapper.thresholds[f] as Float64Array;
      let bin = 0;
      if (Number.isNaN(x)) bin = missing;
      else if (t.length > 0) {
        // bin = #{thresholds < x}, by a branch-free binary search (the comparisons are unpredictable).
        let len = t.length;
        while (len > 1) {
          const half = len >>> 1;
          bin += half & -((t[bin + half - 1] as number) < x);
          len -= half;
        }
        bin += +((t[bin] as number) < x);
      }
      out[f * rows + i] = bin;
    }
  }
  return out;
}

/** Mean log loss of margins r against labels y, weighted; e = exp(−|r|) keeps it finite. */
function logLoss(
  raw: Float64Array,
  labels: ArrayLike<number>,
  weights: Float64Array | null,
  from: number,
  n: number,
): number {
  let sum = 0;
  let wsum = 0;
  for (let k = 0; k < n; k++) {
    const r = raw[k] as number;
    const y = labels[from + k] as number;
    const l = Math.max(r, 0) + Math.log1p(Math.exp(-Math.abs(r))) - y * r;
    const w = weights === null ? 1 : (weights[from + k] as number);
    sum += w * l;
    wsum += w;
  }
  return sum / wsum;
}

/** A leaf of the tree being grown: its rows are indices[start, start + count). */
interface GrowNode {
  id: number;
  depth: number;
  start: number;
  count: number;
  sumG: number;
  sumH: number;
  hist: Float64Array | null;
  // The best split found for it (gain −1: none).
  gain: number;
  feature: number;
  bin: number;
  missingLeft: boolean;
  gl: number;
  hl: number;
  gr: number;
  hr: number;
}

function newNode(
  id: number,
  depth: number,
  start: number,
  count: number,
  sumG: number,
  sumH: number,
): GrowNode {
  return {
    id,
    depth,
    start,
    count,
    sumG,
    sumH,
    hist: null,
    gain: -1,
    feature: -1,
    bin: 0,
    missingLeft: false,
    gl: 0,
    hl: 0,
    gr: 0,
    hr: 0,
  };
}

/** Everything one fit shares between trees (buffers sized once). */
interface Ctx {
  readonly p: GbdtHyperparameters;
  readonly cols: number;
  /** Stride of the binned matrix: all rows (training first, then validation). */
  readonly stride: number;
  readonly nTrain: number;
  readonly binned: Uint8Array;
  readonly nonMissingBins: Int32Array;
  readonly hasMissing: Uint8Array;
  readonly missingBin: number;
  /** Histogram slots per feature: 3 · (maxBins + 1), (gradient, hessian, count) per bin. */
  readonly width: number;
  readonly g: Float32Array;
  readonly h: Float32Array;
  readonly og: Float32Array;
  readonly oh: Float32Array;
  readonly indices: Uint32Array;
  readonly buffer: Uint32Array;
  readonly goLeft: Uint8Array;
  readonly pool: Float64Array[];
}

function takeHist(c: Ctx): Float64Array {
  return c.pool.pop() ?? new Float64Array(c.cols * c.width);
}

function releaseHist(c: Ctx, node: GrowNode): void {
  if (node.hist !== null) c.pool.push(node.hist);
  node.hist = null;
}

// The histogram passes below handle four features per pass over the rows: the row's index, gradient
// and hessian are loaded once for four updates, and four independent accumulation chains keep the CPU
// busy while one waits on a bin it just updated (1.8× faster than one feature per pass, measured). The
// order in which each bin accumulates its rows is unchanged, so the sums are the same to the bit.

/** Root histograms: every training row, in order (no gather). */
function histRoot(c: Ctx, hist: Float64Array): void {
  const { binned, g, h, nTrain: n, stride, width: W, cols } = c;
  hist.fill(0);
  let f = 0;
  for (; f + 4 <= cols; f += 4) {
    const b0 = f * stride;
    const b1 = b0 + stride;
    const b2 = b1 + stride;
    const b3 = b2 + stride;
    const o0 = f * W;
    const o1 = o0 + W;
    const o2 = o1 + W;
    const o3 = o2 + W;
    for (let i = 0; i < n; i++) {
      const gi = g[i] as number;
      const hi = h[i] as number;
      let j = o0 + (binned[b0 + i] as number) * 3;
      hist[j] = (hist[j] as number) + gi;
      hist[j + 1] = (hist[j + 1] as number) + hi;
      hist[j + 2] = (hist[j + 2] as number) + 1;
      j = o1 + (binned[b1 + i] as number) * 3;
      hist[j] = (hist[j] as number) + gi;
      hist[j + 1] = (hist[j + 1] as number) + hi;
      hist[j + 2] = (hist[j + 2] as number) + 1;
      j = o2 + (binned[b2 + i] as number) * 3;
      hist[j] = (hist[j] as number) + gi;
      hist[j + 1] = (hist[j + 1] as number) + hi;
      hist[j + 2] = (hist[j + 2] as number) + 1;
      j = o3 + (binned[b3 + i] as number) * 3;
      hist[j] = (hist[j] as number) + gi;
      hist[j + 1] = (hist[j + 1] as number) + hi;
      hist[j + 2] = (hist[j + 2] as number) + 1;
    }
  }
  for (; f < cols; f++) {
    const base = f * stride;
    const o = f * W;
    for (let i = 0; i < n; i++) {
      const j = o + (binned[base + i] as number) * 3;
      hist[j] = (hist[j] as number) + (g[i] as number);
      hist[j + 1] = (hist[j + 1] as number) + (h[i] as number);
      hist[j + 2] = (hist[j + 2] as number) + 1;
    }
  }
}

/** A node's histograms from its rows: gradients gathered once into row order, then the passes. */
function histNode(c: Ctx, node: GrowNode, hist: Float64Array): void {
  const { binned, g, h, og, oh, stride, width: W, cols } = c;
  const m = node.count;
  const idx = c.indices.subarray(node.start, node.start + m);
  for (let k = 0; k < m; k++) {
    const i = idx[k] as number;
    og[k] = g[i] as number;
    oh[k] = h[i] as number;
  }
  hist.fill(0);
  let f = 0;
  for (; f + 4 <= cols; f += 4) {
    const b0 = f * stride;
    const b1 = b0 + stride;
    const b2 = b1 + stride;
    const b3 = b2 + stride;
    const o0 = f * W;
    const o1 = o0 + W;
    const o2 = o1 + W;
    const o3 = o2 + W;
    for (let k = 0; k < m; k++) {
      const i = idx[k] as number;
      const gi = og[k] as number;
      const hi = oh[k] as number;
      let j = o0 + (binned[b0 + i] as number) * 3;
      hist[j] = (hist[j] as number) + gi;
      hist[j + 1] = (hist[j + 1] as number) + hi;
      hist[j + 2] = (hist[j + 2] as number) + 1;
      j = o1 + (binned[b1 + i] as number) * 3;
      hist[j] = (hist[j] as number) + gi;
      hist[j + 1] = (hist[j + 1] as number) + hi;
      hist[j + 2] = (hist[j + 2] as number) + 1;
      j = o2 + (binned[b2 + i] as number) * 3;
      hist[j] = (hist[j] as number) + gi;
      hist[j + 1] = (hist[j + 1] as number) + hi;
      hist[j + 2] = (hist[j + 2] as number) + 1;
      j = o3 + (binned[b3 + i] as number) * 3;
      hist[j] = (hist[j] as number) + gi;
      hist[j + 1] = (hist[j + 1] as number) + hi;
      hist[j + 2] = (hist[j + 2] as number) + 1;
    }
  }
  for (; f < cols; f++) {
    const base = f * stride;
    const o = f * W;
    for (let k = 0; k < m; k++) {
      const j = o + (binned[base + (idx[k] as number)] as number) * 3;
      hist[j] = (hist[j] as number) + (og[k] as number);
      hist[j + 1] = (hist[j + 1] as number) + (oh[k] as number);
      hist[j + 2] = (hist[j + 2] as number) + 1;
    }
  }
}

/** parent −= small: the parent's buffer becomes the larger child's histograms. */
function subtractInto(parent: Float64Array, small: Float64Array): void {
  for (let j = 0; j < parent.length; j++) parent[j] = (parent[j] as number) - (small[j] as number);
}

/**
 * The node's best split (scikit-learn's Splitter.find_node_split): per feature a left-to-right scan with
 * missing values on the right (including "all non-missing left, missing right" when the feature has
 * missing values), then, when it has, a right-to-left scan with missing values on the left.
 */
function findSplit(c: Ctx, node: GrowNode): void {
  const hist = node.hist as Float64Array;
  const { minSamplesLeaf: msl, minHessianToSplit: mh, minGainToSplit: minGain } = c.p;
  const lam = c.p.l2Regularization;
  const n = node.count;
  const G = node.sumG;
  const H = node.sumH;
  // scikit-learn's arithmetic, operation for operation (value −G/(H + λ + 1e-15), loss G · value), so
  // that equal gains tie the same way and the same split wins.
  const nodeLoss = G * (-G / (H + lam + 1e-15));
  let best = -1;
  for (let f = 0; f < c.cols; f++) {
    const o = f * c.width;
    const nb = c.nonMissingBins[f] as number;
    const miss = c.hasMissing[f] as number;
    let gl = 0;
    let hl = 0;
    let nl = 0;
    const end = nb - 1 + miss;
    for (let b = 0; b < end; b++) {
      const j = o + b * 3;
      gl += hist[j] as number;
      hl += hist[j + 1] as number;
      nl += hist[j + 2] as number;
      if (nl < msl) continue;
      if (n - nl < msl) break;
      const hr = H - hl;
      if (hl < mh) continue;
      if (hr < mh) break;
      const gr = G - gl;
      const gain = nodeLoss - gl * (-gl / (hl + lam + 1e-15)) - gr * (-gr / (hr + lam + 1e-15));
      if (gain > best && gain > minGain) {
        best = gain;
        node.feature = f;
        node.bin = b;
        // Missing values go right in this scan; when the feature had none in training, they go to the
        // child with more rows (as scikit-learn).
        node.missingLeft = miss === 0 && nl > n - nl;
        node.gl = gl;
        node.hl = hl;
        node.gr = gr;
        node.hr = hr;
      }
    }
    if (miss === 1) {
      let gr = 0;
      let hr = 0;
      let nr = 0;
      for (let b = nb - 2; b >= 0; b--) {
        const j = o + (b + 1) * 3;
        gr += hist[j] as number;
        hr += hist[j + 1] as number;
        nr += hist[j + 2] as number;
        if (nr < msl) continue;
        if (n - nr < msl) break;
        const hl2 = H - hr;
        if (hr < mh) continue;
        if (hl2 < mh) break;
        const gl2 = G - gr;
        const gain = nodeLoss - gl2 * (-gl2 / (hl2 + lam + 1e-15)) - gr * (-gr / (hr + lam + 1e-15));
        if (gain > best && gain > minGain) {
          best = gain;
          node.feature = f;
          node.bin = b;
          node.missingLeft = true;
          node.gl = gl2;
          node.hl = hl2;
          node.gr = gr;
          node.hr = hr;
        }
      }
    }
  }
  node.gain = best;
}

/** Stable partition of the node's rows; returns the left child's row count. */
function partition(c: Ctx, node: GrowNode): number {
  const { indices, buffer, binned, goLeft } = c;
  const base = node.feature * c.stride;
  for (let b = 0; b < goLeft.length; b++) goLeft[b] = b <= node.bin ? 1 : 0;
  goLeft[c.missingBin] = node.missingLeft ? 1 : 0;
  const end = node.start + node.count;
  let l = node.start;
  let r = 0;
  // Branch-free: each index is written to both sides and the side it belongs to advances.
  for (let k = node.start; k < end; k++) {
    const i = indices[k] as number;
    const left = goLeft[binned[base + i] as number] as number;
    indices[l] = i;
    buffer[r] = i;
    l += left;
    r += 1 - left;
  }
  indices.set(buffer.subarray(0, r), l);
  return l - node.start;
}

/** The tree under construction, in node-array form (ids in creation order: children after parents). */
class TreeBuilder {
  feature: number[] = [];
  bin: number[] = [];
  missingLeft: number[] = [];
  left: number[] = [];
  right: number[] = [];
  value: number[] = [];
  cover: number[] = [];
  gain: number[] = [];
  add(value: number, cover: number): number {
    this.feature.push(-1);
    this.bin.push(0);
    this.missingLeft.push(0);
    this.left.push(-1);
    this.right.push(-1);
    this.value.push(value);
    this.cover.push(cover);
    this.gain.push(0);
    return this.feature.length - 1;
  }
}

/** Grows one tree on the current gradients; leaves' rows stay in ctx.indices for the margin update. */
function growTree(c: Ctx, lr: number, leaves: GrowNode[]): TreeBuilder {
  const p = c.p;
  const lam = p.l2Regularization;
  const leafValue = (G: number, H: number) => (-G / (H + lam + 1e-15)) * lr;
  const tree = new TreeBuilder();
  const n = c.nTrain;
  for (let i = 0; i < n; i++) c.indices[i] = i;
  let G = 0;
  let H = 0;
  for (let i = 0; i < n; i++) {
    G += c.g[i] as number;
    H += c.h[i] as number;
  }
  const root = newNode(tree.add(leafValue(G, H), H), 0, 0, n, G, H);
  const open: GrowNode[] = [];
  const depthwise = p.growth === "depthwise";
  const consider = (node: GrowNode) => {
    findSplit(c, node);
    if (node.gain > 0) open.push(node);
    else {
      releaseHist(c, node);
      leaves.push(node);
    }
  };
  if (n < 2 * p.minSamplesLeaf || H < p.minHessianToSplit) leaves.push(root);
  else {
    root.hist = takeHist(c);
    histRoot(c, root.hist);
    consider(root);
  }
  while (open.length > 0) {
    // Next: the highest gain (depth-wise: among the shallowest); ties go to the earlier node.
    let at = 0;
    for (let k = 1; k < open.length; k++) {
      const a = open[k] as GrowNode;
      const b = open[at] as GrowNode;
      if (depthwise ? a.depth < b.depth || (a.depth === b.depth && a.gain > b.gain) : a.gain > b.gain) at = k;
    }
    const node = open[at] as GrowNode;
    open.splice(at, 1);
    const nLeft = partition(c, node);
    const depth = node.depth + 1;
    const left = newNode(
      tree.add(leafValue(node.gl, node.hl), node.hl),
      depth,
      node.start,
      nLeft,
      node.gl,
      node.hl,
    );
    const right = newNode(
      tree.add(leafValue(node.gr, node.hr), node.hr),
      depth,
      node.start + nLeft,
      node.count - nLeft,
      node.gr,
      node.hr,
    );
    tree.feature[node.id] = node.feature;
    tree.bin[node.id] = node.bin;
    tree.missingLeft[node.id] = node.missingLeft ? 1 : 0;
    tree.gain[node.id] = node.gain;
    tree.left[node.id] = left.id;
    tree.right[node.id] = right.id;

    const nLeaves = leaves.length + open.length + 2;
    const full = p.maxLeafNodes !== null && nLeaves >= p.maxLeafNodes;
    const deep = p.maxDepth !== null && depth >= p.maxDepth;
    const splitLeft = !full && !deep && left.count >= 2 * p.minSamplesLeaf;
    const splitRight = !full && !deep && right.count >= 2 * p.minSamplesLeaf;
    if (splitLeft || splitRight) {
      const leftSmaller = left.count < right.count;
      const small = leftSmaller ? left : right;
      const large = leftSmaller ? right : left;
      small.hist = takeHist(c);
      histNode(c, small, small.hist);
      if (leftSmaller ? splitRight : splitLeft) {
        large.hist = node.hist;
        node.hist = null;
        subtractInto(large.hist as Float64Array, small.hist);
      }
    }
    releaseHist(c, node);
    for (const [child, split] of [
      [left, splitLeft],
      [right, splitRight],
    ] as const) {
      if (split) consider(child);
      else {
        releaseHist(c, child);
        leaves.push(child);
      }
    }
    if (full) {
      for (const o of open) {
        releaseHist(c, o);
        leaves.push(o);
      }
      open.length = 0;
    }
  }
  for (const o of leaves) releaseHist(c, o);
  return tree;
}

function checkData(d: TrainingData): void {
  const { rows, cols } = d;
  if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`fitGbdt: cols ${cols} is not a count`);
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`fitGbdt: rows ${rows} is not a count ≥ 1`);
  if (d.X.length < rows * cols)
    throw new RangeError(
      `fitGbdt: ${rows} rows × ${cols} columns need ${rows * cols} values; X has ${d.X.length}`,
    );
  if (d.labels.length < rows) throw new RangeError(`fitGbdt: ${rows} rows, but ${d.labels.length} labels`);
  for (let i = 0; i < rows; i++) {
    const y = d.labels[i];
    if (y !== 0 && y !== 1) throw new RangeError(`fitGbdt: label of row ${i} is ${y}; labels must be 0 or 1`);
  }
  if (d.featureNames !== undefined && d.featureNames.length !== cols)
    throw new RangeError(`fitGbdt: ${d.featureNames.length} feature names for ${cols} columns`);
  if (d.sampleWeight !== undefined) {
    if (d.sampleWeight.length < rows)
      throw new RangeError(`fitGbdt: ${rows} rows, but ${d.sampleWeight.length} sample weights`);
    for (let i = 0; i < rows; i++) {
      const w = d.sampleWeight[i] as number;
      if (!(w >= 0) || !Number.isFinite(w))
        throw new RangeError(`fitGbdt: sample weight of row ${i} is ${w}; weights must be finite and ≥ 0`);
    }
  }
}

/** Per-row weights (class weights × sample weights), or null when all are 1. */
function rowWeights(d: TrainingData, cw: GbdtHyperparameters["classWeight"]): Float64Array | null {
  if (cw === null && d.sampleWeight === undefined) return null;
  let w0 = 1;
  let w1 = 1;
  if (cw === "balanced") {
    let pos = 0;
    for (let i = 0; i < d.rows; i++) pos += d.labels[i] as number;
    // scikit-learn's compute_sample_weight("balanced", y) over all rows: n / (classes · count).
    w0 = d.rows / (2 * (d.rows - pos));
    w1 = d.rows / (2 * pos);
  } else if (cw !== null) {
    w0 = cw[0];
    w1 = cw[1];
  }
  const out = new Float64Array(d.rows);
  for (let i = 0; i < d.rows; i++) {
    out[i] =
      (d.labels[i] === 1 ? w1 : w0) * (d.sampleWeight === undefined ? 1 : (d.sampleWeight[i] as number));
  }
  return out;
}

/**
 * Fits a boosted ensemble on `data` (deterministic for a seed). Early stopping, when on, holds out the
 * last ⌈validationFraction · rows⌉ rows as they are ordered in X (time order for fraud data).
 */
export function fitGbdt(data: TrainingData, params: unknown = {}, options: FitOptions = {}): GbdtFit {
  const p = parseGbdtHyperparameters(params);
  checkData(data);
  const clock = options.clock;
  const t0 = clock?.() ?? 0;
  const { X, rows, cols, labels } = data;
  const early = p.earlyStopping === "auto" ? rows > 10_000 : p.earlyStopping;
  const nVal = early ? Math.ceil(p.validationFraction * rows) : 0;
  const nTrain = rows - nVal;
  if (nTrain < 1) throw new RangeError(`validationFraction ${p.validationFraction} leaves no training rows`);
  const weights = rowWeights(data, p.classWeight);
  let pos = 0;
  let wsum = 0;
  for (let i = 0; i < nTrain; i++) {
    const w = weights === null ? 1 : (weights[i] as number);
    pos += w * (labels[i] as number);
    wsum += w;
  }
  if (!(wsum > 0)) throw new RangeError("fitGbdt: the training rows' weights sum to 0");
  if (pos === 0 || pos === wsum)
    throw new RangeError(
      `fitGbdt: every training row${early ? ` (the first ${nTrain}, before the validation rows)` : ""} is of class ${pos === 0 ? 0 : 1}; both classes are needed`,
    );
  // scikit-learn's HalfBinomialLoss.fit_intercept_only: logit of the weighted mean, clipped.
  const eps = 10 * Number.EPSILON;
  const prior = Math.min(Math.max(pos / wsum, eps), 1 - eps);
  const baseMargin = Math.log(prior / (1 - prior));

  const mapper = fitBinMapper(X, nTrain, cols, p.maxBins, p.binSubsample, p.seed);
  const binned = binRows(mapper, X, rows, cols);
  const hasMissing = new Uint8Array(cols);
  for (let f = 0; f < cols; f++) {
    for (let i = 0, base = f * rows; i < nTrain; i++) {
      if (binned[base + i] === mapper.missingBin) {
        hasMissing[f] = 1;
        break;
      }
    }
  }
  const t1 = clock?.() ?? 0;

  const c: Ctx = {
    p,
    cols,
    stride: rows,
    nTrain,
    binned,
    nonMissingBins: mapper.nonMissingBins,
    hasMissing,
    missingBin: mapper.missingBin,
    width: 3 * (p.maxBins + 1),
    g: new Float32Array(nTrain),
    h: new Float32Array(nTrain),
    og: new Float32Array(nTrain),
    oh: new Float32Array(nTrain),
    indices: new Uint32Array(nTrain),
    buffer: new Uint32Array(nTrain),
    goLeft: new Uint8Array(p.maxBins + 1),
    pool: [],
  };
  const raw = new Float64Array(nTrain).fill(baseMargin);
  const valRaw = new Float64Array(nVal).fill(baseMargin);
  const trainLoss: number[] = [];
  const validationLoss: number[] | null = early ? [logLoss(valRaw, labels, weights, nTrain, nVal)] : null;
  const trees: Tree[] = [];
  let earlyStopped = false;
  const leaves: GrowNode[] = [];
  for (let it = 0; it < p.maxIter; it++) {
    trainLoss.push(gradients(c, raw, labels, weights));
    leaves.length = 0;
    const built = growTree(c, p.learningRate, leaves);
    // Training margins from the leaves' rows (no walk down the tree), as scikit-learn does.
    for (const leaf of leaves) {
      const v = built.value[leaf.id] as number;
      for (let k = leaf.start, end = leaf.start + leaf.count; k < end; k++) {
        const i = c.indices[k] as number;
        raw[i] = (raw[i] as number) + v;
      }
    }
    trees.push(finish(built, mapper));
    options.onIteration?.(it + 1, p.maxIter);
    if (validationLoss !== null) {
      addBinnedTree(built, c, valRaw, nTrain, nVal);
      validationLoss.push(logLoss(valRaw, labels, weights, nTrain, nVal));
      if (shouldStop(validationLoss, p.nIterNoChange, p.tol)) {
        earlyStopped = true;
        break;
      }
    }
  }
  trainLoss.push(logLoss(raw, labels, weights, 0, nTrain));
  let bestIteration: number | null = null;
  if (validationLoss !== null) {
    bestIteration = 0;
    for (let k = 1; k < validationLoss.length; k++)
      if ((validationLoss[k] as number) < (validationLoss[bestIteration] as number)) bestIteration = k;
  }
  const kept = p.keepBestIteration && bestIteration !== null ? trees.slice(0, bestIteration) : trees;
  const t2 = clock?.() ?? 0;
  return {
    ensemble: {
      featureNames:
        data.featureNames === undefined
          ? Array.from({ length: cols }, (_, f) => `f${f}`)
          : [...data.featureNames],
      baseMargin,
      split: "le",
      trees: kept,
    },
    report: {
      hyperparameters: p,
      trainRows: nTrain,
      validationRows: nVal,
      iterationsRun: trees.length,
      earlyStopped,
      bestIteration,
      trainLoss,
      validationLoss,
      bins: Array.from(mapper.nonMissingBins),
      baseMargin,
      timeMs: clock === undefined ? null : { binning: t1 - t0, boosting: t2 - t1, total: t2 - t0 },
    },
  };
}

/**
 * Gradients and hessians of the log loss at the current margins (float32, weighted), as scikit-learn's
 * half-binomial loss computes them; returns the weighted mean loss at those margins.
 */
function gradients(
  c: Ctx,
  raw: Float64Array,
  labels: ArrayLike<number>,
  weights: Float64Array | null,
): number {
  const { g, h } = c;
  let loss = 0;
  let wsum = 0;
  for (let i = 0; i < c.nTrain; i++) {
    const r = raw[i] as number;
    const y = labels[i] as number;
    const w = weights === null ? 1 : (weights[i] as number);
    let gi: number;
    let hi: number;
    let l: number;
    if (r > -700) {
      const e = Math.exp(-r);
      gi = (1 - y - y * e) / (1 + e);
      hi = e / ((1 + e) * (1 + e));
      l = r > 0 ? r + Math.log1p(e) - y * r : Math.log1p(1 / e) - y * r;
    } else {
      const e = Math.exp(r);
      gi = e - y;
      hi = e;
      l = Math.log1p(e) - y * r;
    }
    g[i] = w * gi;
    h[i] = w * hi;
    loss += w * l;
    wsum += w;
  }
  return loss / wsum;
}

/** scikit-learn's _should_stop: none of the last n losses is below the one before them by more than tol. */
export function shouldStop(losses: readonly number[], n: number, tol: number): boolean {
  if (losses.length < n + 1) return false;
  const reference = (losses[losses.length - n - 1] as number) - tol;
  for (let k = losses.length - n; k < losses.length; k++) if ((losses[k] as number) < reference) return false;
  return true;
}

/** Adds a tree's values to the validation rows' margins, walking it on their bins. */
function addBinnedTree(t: TreeBuilder, c: Ctx, out: Float64Array, from: number, n: number): void {
  const feature = Int32Array.from(t.feature);
  const bin = Int32Array.from(t.bin);
  const ml = Uint8Array.from(t.missingLeft);
  const left = Int32Array.from(t.left);
  const right = Int32Array.from(t.right);
  const value = Float64Array.from(t.value);
  const { binned, stride, missingBin } = c;
  for (let k = 0; k < n; k++) {
    const i = from + k;
    let node = 0;
    for (;;) {
      const f = feature[node] as number;
      if (f < 0) break;
      const b = binned[f * stride + i] as number;
      const goLeft = b === missingBin ? ml[node] === 1 : b <= (bin[node] as number);
      node = goLeft ? (left[node] as number) : (right[node] as number);
    }
    out[k] = (out[k] as number) + (value[node] as number);
  }
}

/** The grown tree with real-valued thresholds: bin b's upper threshold, +∞ for "split on missing". */
function finish(t: TreeBuilder, mapper: BinMapper): Tree {
  const size = t.feature.length;
  const threshold = new Float64Array(size);
  for (let k = 0; k < size; k++) {
    const f = t.feature[k] as number;
    if (f < 0) continue;
    const th = mapper.thresholds[f] as Float64Array;
    const b = t.bin[k] as number;
    threshold[k] = b < th.length ? (th[b] as number) : Number.POSITIVE_INFINITY;
  }
  return {
    feature: Int32Array.from(t.feature),
    threshold,
    left: Int32Array.from(t.left),
    right: Int32Array.from(t.right),
    missingLeft: Uint8Array.from(t.missingLeft),
    value: Float64Array.from(t.value),
    cover: Float64Array.from(t.cover),
    gain: Float64Array.from(t.gain),
  };
}
