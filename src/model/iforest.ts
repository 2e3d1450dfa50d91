// Isolation Forest (Liu, Ting & Zhou 2008) with scikit-learn's semantics (sklearn.ensemble.IsolationForest,
// 1.2): same hyperparameters, same score_samples / offset_ / decision_function / predict, and trees that
// scikit-learn exports load and score to within 1e-9 of its own scores (src/model/sklearn-parity.test.ts).
//
// The learned state (ForestState) is kept in scikit-learn's shape: per node a feature, a threshold, two
// children and the training-sample count. Scoring never walks that shape: it is compiled once into a
// layout built for speed (see compileForest and docs/model.md, "Speed").
import { z } from "zod";
import { Sfc32 } from "./rng.ts";

const count = z.object({ count: z.number().int().min(1) }).strict();
const fraction = z.object({ fraction: z.number().gt(0).max(1) }).strict();
// A bare number is accepted for convenience: ≤ 1 is a fraction (so 1 means "all", like scikit-learn's
// 1.0), an integer > 1 a count. JavaScript cannot tell 1 from 1.0, so a count of one is `{ count: 1 }`.
const size = z.union([
  z
    .number()
    .gt(0)
    .max(1)
    .transform((v) => ({ fraction: v })),
  z
    .number()
    .int()
    .gt(1)
    .transform((v) => ({ count: v })),
  count,
  fraction,
]);

export const hyperparametersSchema = z
  .object({
    /** Trees in the forest (scikit-learn: n_estimators). */
    nEstimators: z.number().int().min(1).max(100_000).default(100),
    /** Training rows drawn per tree, ψ: "auto" = min(256, rows). A count above the rows means all rows. */
    maxSamples: z.union([z.literal("auto"), size]).default("auto"),
    /** Features drawn per tree; a fraction f means max(1, ⌊f · columns⌋). */
    maxFeatures: size.default({ fraction: 1 }),
    /** Share of outliers in the training data, fixing `offset`; "auto" = the paper's 0.5 cut-off. */
    contamination: z.union([z.literal("auto"), z.number().gt(0).max(0.5)]).default("auto"),
    /** Draw each tree's rows with replacement. */
    bootstrap: z.boolean().default(false),
    /** PRNG seed; null only for imported models whose trainer had no fixed seed (they cannot be refitted). */
    seed: z.number().int().min(0).max(0xffffffff).nullable().default(0),
  })
  .strict();

/** Hyperparameters as stored (normalised, every field present). */
export type Hyperparameters = z.output<typeof hyperparametersSchema>;
/** Hyperparameters as the constructor accepts them (defaults filled in, bare numbers allowed). */
export type HyperparametersInput = z.input<typeof hyperparametersSchema>;

/**
 * What fit learns. Node indices are local to their tree (tree t owns nodes nodeOffsets[t] ..
 * nodeOffsets[t+1]), children always have higher indices than their parent (so every walk ends), and a
 * leaf has left = right = −1. A row goes left when `x[feature] <= threshold`, as in scikit-learn.
 */
export interface ForestState {
  readonly nFeatures: number;
  /** ψ, the rows drawn per tree (scikit-learn: max_samples_); normalises path lengths by c(ψ). */
  readonly samplesPerTree: number;
  /** scikit-learn's offset_: decisionFunction = scoreSamples − offset. */
  readonly offset: number;
  readonly nodeOffsets: Int32Array;
  /** Column of the split (in the model's feature order); −1 at leaves. */
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Training rows that reached the node (distinct rows, as scikit-learn's n_node_samples). */
  readonly nodeSamples: Int32Array;
}

const EULER_GAMMA = 0.5772156649015329;
// scikit-learn's splitter treats a feature whose range in a node is at most this as constant.
const FEATURE_THRESHOLD = 1e-7;

/**
 * c(n): the average path length of an unsuccessful search in a binary search tree of n keys, the
 * normaliser of isolation depths (scikit-learn's _average_path_length, same expression for parity).
 */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

/** Tree depth limit for ψ rows, ⌈log₂ ψ⌉ (at least 1), in integer arithmetic. */
export function depthLimit(samplesPerTree: number): number {
  return 32 - Math.clz32(Math.max(samplesPerTree, 2) - 1);
}

/**
 * The path length a leaf contributes: its depth plus c(n) for the n training rows it still holds (the
 * subtree the depth limit cut off). Evaluated as scikit-learn does, (nodes on the path) + c(n) − 1, so
 * the sums agree to the last bit.
 */
export function leafPathLength(depth: number, samples: number): number {
  return depth + 1 + averagePathLength(samples) - 1;
}

/** ψ for a training set of `rows` rows (scikit-learn's max_samples_). */
export function resolveSamplesPerTree(maxSamples: Hyperparameters["maxSamples"], rows: number): number {
  if (maxSamples === "auto") return Math.min(256, rows);
  if ("count" in maxSamples) return Math.min(maxSamples.count, rows);
  const psi = Math.floor(maxSamples.fraction * rows);
  if (psi < 1) {
    throw new RangeError(
      `maxSamples ${maxSamples.fraction} of ${rows} rows draws no row; use a larger fraction`,
    );
  }
  return psi;
}

/** Features per tree for `cols` columns (scikit-learn's _max_features). */
export function resolveFeaturesPerTree(maxFeatures: Hyperparameters["maxFeatures"], cols: number): number {
  if ("count" in maxFeatures) {
    if (maxFeatures.count > cols) {
      throw new RangeError(`maxFeatures ${maxFeatures.count} exceeds the ${cols} columns`);
    }
    return maxFeatures.count;
  }
  return Math.max(1, Math.floor(maxFeatures.fraction * cols));
}

/**
 * numpy.percentile(values, q) with its default "linear" method, as scikit-learn uses for offset_
 * (same index and interpolation arithmetic). Sorts `values` in place.
 */
export function percentile(values: Float64Array, q: number): number {
  const n = values.length;
  if (n === 0) throw new RangeError("percentile of no values");
  values.sort();
  const quantile = q / 100;
  const virtual = (n - 1) * quantile;
  const lo = Math.min(Math.max(Math.floor(virtual), 0), n - 1);
  const hi = Math.min(lo + 1, n - 1);
  const gamma = virtual - lo;
  const a = values[lo] as number;
  const b = values[hi] as number;
  const diff = b - a;
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

/** Describes what is wrong with a state (undefined when it is sound); the file loader names it. */
export function checkForestState(s: ForestState): string | undefined {
  if (!Number.isInteger(s.nFeatures) || s.nFeatures < 1) return `nFeatures ${s.nFeatures} is not a count`;
  if (!Number.isInteger(s.samplesPerTree) || s.samplesPerTree < 1) {
    return `samplesPerTree ${s.samplesPerTree} is not a count`;
  }
  if (!Number.isFinite(s.offset)) return `offset ${s.offset} is not finite`;
  const trees = s.nodeOffsets.length - 1;
  if (trees < 1) return "the forest has no trees";
  const nodes = s.feature.length;
  for (const [name, a] of [
    ["threshold", s.threshold],
    ["left", s.left],
    ["right", s.right],
    ["nodeSamples", s.nodeSamples],
  ] as const) {
    if (a.length !== nodes) return `${name} has ${a.length} entries, feature has ${nodes}`;
  }
  if (s.nodeOffsets[0] !== 0 || s.nodeOffsets[trees] !== nodes) {
    return `nodeOffsets must run from 0 to ${nodes}, the node count`;
  }
  for (let t = 0; t < trees; t++) {
    const from = s.nodeOffsets[t] as number;
    const to = s.nodeOffsets[t + 1] as number;
    if (to <= from) return `tree ${t} has no nodes`;
    const size = to - from;
    for (let g = from; g < to; g++) {
      const k = g - from;
      const l = s.left[g] as number;
      const r = s.right[g] as number;
      if ((s.nodeSamples[g] as number) < 1) return `tree ${t} node ${k} holds no training rows`;
      if (l === -1 && r === -1) continue;
      if (!(l > k && l < size && r > k && r < size && l !== r)) {
        return `tree ${t} node ${k} has children ${l} and ${r}: each must be a later node of the same tree`;
      }
      const f = s.feature[g] as number;
      if (f < 0 || f >= s.nFeatures) return `tree ${t} node ${k} splits on column ${f} of ${s.nFeatures}`;
      if (Number.isNaN(s.threshold[g])) return `tree ${t} node ${k} has a NaN threshold`;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Compiled layout. Isolation trees are shallow (depth limit ⌈log₂ ψ⌉, 8 for ψ = 256) and most paths
// reach that limit, so every walk runs the same number of steps and never tests for a leaf: a leaf is
// its own child behind a +∞ threshold (`x > +∞` is false for every x, NaN included), so a walk that
// reaches it early stays there. Nodes are numbered breadth-first per tree so that children are
// adjacent: one step is `node = child[node] + (x[feature] > threshold)`, no branch to mispredict.
// Trees run outermost over a block of rows (a tree stays in L1 while the block passes through it),
// the block is copied column-major into a scratch buffer (the feature offset is then premultiplied,
// and eight rows in lockstep need one row register, not eight), and eight rows walk each tree together
// (independent load chains the CPU overlaps); leftover rows, and a single event, walk eight trees
// together instead. The alternatives measured before choosing this are in
// bench/iforest-layouts.ts, their figures in docs/model.md ("Speed").

export interface CompiledForest {
  readonly nFeatures: number;
  readonly trees: number;
  /** Steps per walk: the deepest leaf of the forest. */
  readonly depth: number;
  /** Rows per block, and the column stride of `block`. */
  readonly blockRows: number;
  /** Slot of each tree's root; a tree's slots are contiguous, breadth-first. */
  readonly roots: Int32Array;
  /** Column × blockRows for the split of each slot (0 at leaves), an offset into `block`. */
  readonly columnOffset: Int32Array;
  /** Split threshold of each slot; +∞ at leaves. */
  readonly threshold: Float64Array;
  /** Absolute slot of each slot's first child (the second is next to it); a leaf points at itself. */
  readonly child: Int32Array;
  /** Path length of each leaf slot, depth + c(n) precomputed. */
  readonly leaf: Float64Array;
  /** nTrees · c(ψ): the mean normalised path length is sum / denominator. */
  readonly denominator: number;
  /** Scratch: one block of rows, column-major (blockRows × nFeatures). */
  readonly block: Float64Array;
}

function treeDepths(s: ForestState, t: number, depths: Int32Array): number {
  const from = s.nodeOffsets[t] as number;
  const to = s.nodeOffsets[t + 1] as number;
  depths[0] = 0;
  let max = 0;
  // Children come after their parent, so one forward pass sees every parent's depth first.
  for (let k = 0; k < to - from; k++) {
    const l = s.left[from + k] as number;
    if (l === -1) continue;
    const d = (depths[k] as number) + 1;
    depths[l] = d;
    depths[s.right[from + k] as number] = d;
    if (d > max) max = d;
  }
  return max;
}

/** Rows per block: the column-major copy of a block is kept near 32 KiB (L1), 8 to 256 rows. */
export function blockRowsFor(nFeatures: number): number {
  const rows = 2 ** Math.floor(Math.log2(32768 / (8 * nFeatures)));
  return Math.min(256, Math.max(8, rows));
}

export function compileForest(s: ForestState): CompiledForest {
  const trees = s.nodeOffsets.length - 1;
  const nodes = s.feature.length;
  const blockRows = blockRowsFor(s.nFeatures);
  let maxTree = 0;
  for (let t = 0; t < trees; t++) {
    maxTree = Math.max(maxTree, (s.nodeOffsets[t + 1] as number) - (s.nodeOffsets[t] as number));
  }
  const depths = new Int32Array(maxTree);
  const order = new Int32Array(maxTree);
  const roots = new Int32Array(trees);
  const columnOffset = new Int32Array(nodes);
  const threshold = new Float64Array(nodes);
  const child = new Int32Array(nodes);
  const leaf = new Float64Array(nodes);
  let depth = 0;
  for (let t = 0; t < trees; t++) {
    const from = s.nodeOffsets[t] as number;
    const size = (s.nodeOffsets[t + 1] as number) - from;
    depth = Math.max(depth, treeDepths(s, t, depths));
    // Breadth-first numbering gives each internal node's children two adjacent slots.
    roots[t] = from;
    order[0] = 0;
    let next = 1;
    for (let k = 0; k < size; k++) {
      const slot = from + k;
      const node = order[k] as number;
      const g = from + node;
      const l = s.left[g] as number;
      if (l === -1) {
        threshold[slot] = Number.POSITIVE_INFINITY;
        child[slot] = slot;
        leaf[slot] = leafPathLength(depths[node] as number, s.nodeSamples[g] as number);
        continue;
      }
      columnOffset[slot] = (s.feature[g] as number) * blockRows;
      threshold[slot] = s.threshold[g] as number;
      child[slot] = from + next;
      order[next++] = l;
      order[next++] = s.right[g] as number;
    }
  }
  return {
    nFeatures: s.nFeatures,
    trees,
    depth,
    blockRows,
    roots,
    columnOffset,
    threshold,
    child,
    leaf,
    denominator: trees * averagePathLength(s.samplesPerTree),
    block: new Float64Array(blockRows * s.nFeatures),
  };
}

/**
 * Adds each row's path length summed over the trees into sums[0..n) (start it at 0): the hot loop of
 * scoring. Exported for the explanation and benchmark code; use IsolationForest.scoreSamples.
 * Allocates nothing; not reentrant (one scratch block per compiled forest).
 */
export function pathLengthSums(c: CompiledForest, X: Float64Array, n: number, sums: Float64Array): void {
  const width = c.nFeatures;
  const { roots, columnOffset: co, threshold: th, child: ch, leaf, depth, trees, blockRows: B, block: T } = c;
  for (let start = 0; start < n; start += B) {
    const m = Math.min(B, n - start);
    for (let i = 0; i < m; i++) {
      for (let j = 0, x = (start + i) * width, o = i; j < width; j++, x++, o += B) T[o] = X[x] as number;
    }
    // Groups of eight rows walk each tree together.
    const m8 = m - (m % 8);
    for (let t = 0; t < trees; t++) {
      const root = roots[t] as number;
      for (let i = 0; i < m8; i += 8) {
        let a = root;
        let b = root;
        let e = root;
        let d = root;
        let g = root;
        let h = root;
        let p = root;
        let q = root;
        for (let level = 0; level < depth; level++) {
          a = (ch[a] as number) + +((T[(co[a] as number) + i] as number) > (th[a] as number));
          b = (ch[b] as number) + +((T[(co[b] as number) + i + 1] as number) > (th[b] as number));
          e = (ch[e] as number) + +((T[(co[e] as number) + i + 2] as number) > (th[e] as number));
          d = (ch[d] as number) + +((T[(co[d] as number) + i + 3] as number) > (th[d] as number));
          g = (ch[g] as number) + +((T[(co[g] as number) + i + 4] as number) > (th[g] as number));
          h = (ch[h] as number) + +((T[(co[h] as number) + i + 5] as number) > (th[h] as number));
          p = (ch[p] as number) + +((T[(co[p] as number) + i + 6] as number) > (th[p] as number));
          q = (ch[q] as number) + +((T[(co[q] as number) + i + 7] as number) > (th[q] as number));
        }
        const r = start + i;
        sums[r] = (sums[r] as number) + (leaf[a] as number);
        sums[r + 1] = (sums[r + 1] as number) + (leaf[b] as number);
        sums[r + 2] = (sums[r + 2] as number) + (leaf[e] as number);
        sums[r + 3] = (sums[r + 3] as number) + (leaf[d] as number);
        sums[r + 4] = (sums[r + 4] as number) + (leaf[g] as number);
        sums[r + 5] = (sums[r + 5] as number) + (leaf[h] as number);
        sums[r + 6] = (sums[r + 6] as number) + (leaf[p] as number);
        sums[r + 7] = (sums[r + 7] as number) + (leaf[q] as number);
      }
    }
    // The last rows (all of them for a single event) walk eight trees together instead, still adding
    // the trees' path lengths in tree order, so the sum is bit-identical to scikit-learn's.
    for (let i = m8; i < m; i++) {
      let acc = sums[start + i] as number;
      let t = 0;
      for (; t + 8 <= trees; t += 8) {
        let a = roots[t] as number;
        let b = roots[t + 1] as number;
        let e = roots[t + 2] as number;
        let d = roots[t + 3] as number;
        let g = roots[t + 4] as number;
        let h = roots[t + 5] as number;
        let p = roots[t + 6] as number;
        let q = roots[t + 7] as number;
        for (let level = 0; level < depth; level++) {
          a = (ch[a] as number) + +((T[(co[a] as number) + i] as number) > (th[a] as number));
          b = (ch[b] as number) + +((T[(co[b] as number) + i] as number) > (th[b] as number));
          e = (ch[e] as number) + +((T[(co[e] as number) + i] as number) > (th[e] as number));
          d = (ch[d] as number) + +((T[(co[d] as number) + i] as number) > (th[d] as number));
          g = (ch[g] as number) + +((T[(co[g] as number) + i] as number) > (th[g] as number));
          h = (ch[h] as number) + +((T[(co[h] as number) + i] as number) > (th[h] as number));
          p = (ch[p] as number) + +((T[(co[p] as number) + i] as number) > (th[p] as number));
          q = (ch[q] as number) + +((T[(co[q] as number) + i] as number) > (th[q] as number));
        }
        acc += leaf[a] as number;
        acc += leaf[b] as number;
        acc += leaf[e] as number;
        acc += leaf[d] as number;
        acc += leaf[g] as number;
        acc += leaf[h] as number;
        acc += leaf[p] as number;
        acc += leaf[q] as number;
      }
      for (; t < trees; t++) {
        let a = roots[t] as number;
        for (let level = 0; level < depth; level++) {
          a = (ch[a] as number) + +((T[(co[a] as number) + i] as number) > (th[a] as number));
        }
        acc += leaf[a] as number;
      }
      sums[start + i] = acc;
    }
  }
}

function checkMatrix(X: Float64Array, n: number, width: number, what: string): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what}: row count ${n} is not a count`);
  if (X.length < n * width) {
    throw new RangeError(`${what}: ${n} rows × ${width} columns need ${n * width} values; X has ${X.length}`);
  }
}

function grow<A extends Int32Array | Float64Array>(a: A, length: number): A {
  const b = new (a.constructor as new (n: number) => A)(length);
  b.set(a);
  return b;
}

function checkOut(out: { length: number }, n: number, what: string): void {
  if (out.length < n) throw new RangeError(`${what}: out has room for ${out.length} rows, ${n} needed`);
}

/**
 * A row with a NaN or infinite value has no meaningful path (every comparison with NaN is false, so it
 * would silently walk left): its score becomes NaN, which callers must treat as "no score".
 */
function markNonFinite(X: Float64Array, n: number, width: number, out: Float64Array): void {
  for (let i = 0, b = 0; i < n; i++, b += width) {
    let sum = 0;
    for (let j = 0; j < width; j++) sum += (X[b + j] as number) * 0;
    if (sum !== 0) out[i] = Number.NaN; // x · 0 is NaN exactly when x is NaN or ±Infinity
  }
}

export class IsolationForest {
  readonly params: Hyperparameters;
  private learned: ForestState | undefined;
  private compiled: CompiledForest | undefined;
  private scratch = new Float64Array(0);

  constructor(params: HyperparametersInput = {}) {
    this.params = hyperparametersSchema.parse(params);
  }

  /** A fitted forest from a learned state (a loaded file, an imported scikit-learn model). */
  static fromState(params: HyperparametersInput, state: ForestState): IsolationForest {
    const problem = checkForestState(state);
    if (problem !== undefined) throw new RangeError(`invalid forest: ${problem}`);
    const forest = new IsolationForest(params);
    forest.learned = state;
    forest.compiled = compileForest(state);
    return forest;
  }

  get fitted(): boolean {
    return this.learned !== undefined;
  }

  /** The learned state; throws before fit. */
  get state(): ForestState {
    if (this.learned === undefined)
      throw new Error("IsolationForest is not fitted: call fit() or load a model");
    return this.learned;
  }

  /** The compiled scoring layout (for explanations and benchmarks). */
  get layout(): CompiledForest {
    if (this.compiled === undefined)
      throw new Error("IsolationForest is not fitted: call fit() or load a model");
    return this.compiled;
  }

  get nFeatures(): number {
    return this.state.nFeatures;
  }

  /** scikit-learn's offset_: −0.5 for contamination "auto", else that percentile of training scores. */
  get offset(): number {
    return this.state.offset;
  }

  /**
   * Fits on `nRows` rows of `nCols` values, row-major in X. Deterministic for a seed. Splits as
   * scikit-learn's ExtraTreeRegressor inside IsolationForest: a feature drawn uniformly among those not
   * constant in the node (range ≤ 1e-7 counts as constant), a threshold uniform in [min, max) of it,
   * rows with x ≤ threshold to the left; a node becomes a leaf at depth ⌈log₂ ψ⌉, with one row, or
   * when every feature is constant. With bootstrap, rows drawn twice count once in node sizes, as in
   * scikit-learn (which turns the draw into sample weights).
   */
  fit(X: Float64Array, nRows: number, nCols: number): this {
    if (!Number.isInteger(nCols) || nCols < 1)
      throw new RangeError(`fit: column count ${nCols} is not a count`);
    checkMatrix(X, nRows, nCols, "fit");
    if (nRows < 1) throw new RangeError("fit: no rows");
    for (let i = 0; i < nRows * nCols; i++) {
      if (!Number.isFinite(X[i])) {
        throw new RangeError(
          `fit: row ${Math.floor(i / nCols)} column ${i % nCols} is ${X[i]}; the forest needs finite values`,
        );
      }
    }
    const p = this.params;
    if (p.seed === null)
      throw new Error("fit: this model has no seed (imported without one); set one to refit");
    const psi = resolveSamplesPerTree(p.maxSamples, nRows);
    const mf = resolveFeaturesPerTree(p.maxFeatures, nCols);
    const maxDepth = depthLimit(psi);
    const trees = p.nEstimators;
    // Depth-limited trees are far smaller than their 2ψ − 1 bound (≈ 100 nodes for ψ = 256 on skewed
    // data), so the node arrays grow as needed rather than being sized for the bound.
    let cap = Math.min(trees * (2 * psi - 1), trees * 128);
    let feature = new Int32Array(cap);
    let threshold = new Float64Array(cap);
    let left = new Int32Array(cap);
    let right = new Int32Array(cap);
    let nodeSamples = new Int32Array(cap);
    const nodeOffsets = new Int32Array(trees + 1);

    const rowPool = Int32Array.from({ length: nRows }, (_, i) => i);
    const colPool = Int32Array.from({ length: nCols }, (_, i) => i);
    const drawnAt = new Int32Array(nRows).fill(-1);
    const picked = new Int32Array(psi);
    const feats = new Int32Array(mf);
    const cand = new Int32Array(mf);
    const cols = new Float64Array(mf * psi); // column-major copy of the tree's rows: cache-friendly scans
    const rows = new Int32Array(psi);
    const stackLen = 2 * maxDepth + 2;
    const sStart = new Int32Array(stackLen);
    const sEnd = new Int32Array(stackLen);
    const sDepth = new Int32Array(stackLen);
    const sParent = new Int32Array(stackLen);
    const sLeft = new Uint8Array(stackLen);

    const master = new Sfc32(p.seed);
    let total = 0;
    for (let t = 0; t < trees; t++) {
      // One seed per tree: a tree can be rebuilt, or trees built in parallel, without the others.
      const rng = new Sfc32(master.u32());
      if (mf < nCols) {
        for (let j = 0; j < mf; j++) {
          const r = j + rng.below(nCols - j);
          const tmp = colPool[j] as number;
          colPool[j] = colPool[r] as number;
          colPool[r] = tmp;
          feats[j] = colPool[j] as number;
        }
      } else {
        for (let j = 0; j < mf; j++) feats[j] = j;
      }
      let m = 0;
      if (p.bootstrap) {
        for (let k = 0; k < psi; k++) {
          const r = rng.below(nRows);
          if (drawnAt[r] !== t) {
            drawnAt[r] = t;
            picked[m++] = r;
          }
        }
      } else {
        // Partial Fisher–Yates over a pool that stays a permutation between trees.
        for (let k = 0; k < psi; k++) {
          const r = k + rng.below(nRows - k);
          const tmp = rowPool[k] as number;
          rowPool[k] = rowPool[r] as number;
          rowPool[r] = tmp;
          picked[k] = rowPool[k] as number;
        }
        m = psi;
      }
      for (let j = 0; j < mf; j++) {
        const f = feats[j] as number;
        for (let i = 0; i < m; i++) cols[j * m + i] = X[(picked[i] as number) * nCols + f] as number;
      }
      for (let i = 0; i < m; i++) rows[i] = i;

      if (total + 2 * m - 1 > cap) {
        cap = Math.max(2 * cap, total + 2 * m - 1);
        feature = grow(feature, cap);
        threshold = grow(threshold, cap);
        left = grow(left, cap);
        right = grow(right, cap);
        nodeSamples = grow(nodeSamples, cap);
      }
      const base = total;
      let local = 0;
      let sp = 0;
      sStart[0] = 0;
      sEnd[0] = m;
      sDepth[0] = 0;
      sParent[0] = -1;
      sp = 1;
      while (sp > 0) {
        sp--;
        const start = sStart[sp] as number;
        const end = sEnd[sp] as number;
        const depth = sDepth[sp] as number;
        const parent = sParent[sp] as number;
        const id = local++;
        const g = base + id;
        if (parent >= 0) {
          if (sLeft[sp] === 1) left[base + parent] = id;
          else right[base + parent] = id;
        }
        nodeSamples[g] = end - start;
        left[g] = -1;
        right[g] = -1;
        feature[g] = -1;
        if (depth >= maxDepth || end - start < 2) continue;
        let chosen = -1;
        let thr = 0;
        for (let q = 0; q < mf; q++) cand[q] = q;
        let k = mf;
        while (k > 0) {
          const j = rng.below(k);
          const c = cand[j] as number;
          const cb = c * m;
          let lo = Number.POSITIVE_INFINITY;
          let hi = Number.NEGATIVE_INFINITY;
          for (let q = start; q < end; q++) {
            const v = cols[cb + (rows[q] as number)] as number;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
          }
          if (hi <= lo + FEATURE_THRESHOLD) {
            cand[j] = cand[k - 1] as number;
            k--;
            continue;
          }
          chosen = c;
          thr = (hi - lo) * rng.float() + lo;
          if (thr === hi) thr = lo;
          break;
        }
        if (chosen < 0) continue;
        // Partition rows[start..end) so that x ≤ thr come first.
        const cb = chosen * m;
        let i = start;
        let j = end - 1;
        while (i <= j) {
          if ((cols[cb + (rows[i] as number)] as number) <= thr) i++;
          else {
            const tmp = rows[i] as number;
            rows[i] = rows[j] as number;
            rows[j] = tmp;
            j--;
          }
        }
        feature[g] = feats[chosen] as number;
        threshold[g] = thr;
        // Right pushed first so the left subtree is numbered first (preorder, as scikit-learn).
        sStart[sp] = i;
        sEnd[sp] = end;
        sDepth[sp] = depth + 1;
        sParent[sp] = id;
        sLeft[sp++] = 0;
        sStart[sp] = start;
        sEnd[sp] = i;
        sDepth[sp] = depth + 1;
        sParent[sp] = id;
        sLeft[sp++] = 1;
      }
      total += local;
      nodeOffsets[t + 1] = total;
    }

    const state: ForestState = {
      nFeatures: nCols,
      samplesPerTree: psi,
      offset: -0.5,
      nodeOffsets,
      feature: feature.slice(0, total),
      threshold: threshold.slice(0, total),
      left: left.slice(0, total),
      right: right.slice(0, total),
      nodeSamples: nodeSamples.slice(0, total),
    };
    this.learned = state;
    this.compiled = compileForest(state);
    if (p.contamination !== "auto") {
      const scores = new Float64Array(nRows);
      this.scoreSamples(X, nRows, scores);
      this.learned = { ...state, offset: percentile(scores, 100 * p.contamination) };
    }
    return this;
  }

  /**
   * scikit-learn's score_samples: −2^(−E[h(x)] / c(ψ)), in [−1, 0); lower = more anomalous. Rows are
   * row-major with nFeatures columns. Allocates nothing. Values are not checked: a NaN takes the
   * left branch everywhere (scikit-learn rejects NaN input).
   */
  scoreSamples(X: Float64Array, n: number, out: Float64Array): void {
    this.anomalyScores(X, n, out);
    for (let i = 0; i < n; i++) out[i] = -(out[i] as number);
  }

  /**
   * The paper's anomaly score s(x, ψ) = 2^(−E[h(x)] / c(ψ)) = −scoreSamples, in (0, 1]; higher = more
   * anomalous (> 0.5 anomalous by the paper's rule). What IsolationForestScorer reports.
   */
  anomalyScores(X: Float64Array, n: number, out: Float64Array): void {
    const c = this.layout;
    const width = this.state.nFeatures;
    checkMatrix(X, n, width, "score");
    checkOut(out, n, "score");
    out.fill(0, 0, n);
    pathLengthSums(c, X, n, out);
    const den = c.denominator;
    if (den === 0) {
      // ψ = 1: scikit-learn defines the normalised depth as 1.
      out.fill(0.5, 0, n);
      markNonFinite(X, n, width, out);
      return;
    }
    for (let i = 0; i < n; i++) out[i] = 2 ** -((out[i] as number) / den);
    markNonFinite(X, n, width, out);
  }

  /** scikit-learn's decision_function: scoreSamples − offset; negative = outlier. */
  decisionFunction(X: Float64Array, n: number, out: Float64Array): void {
    this.scoreSamples(X, n, out);
    const offset = this.offset;
    for (let i = 0; i < n; i++) out[i] = (out[i] as number) - offset;
  }

  /**
   * scikit-learn's predict: −1 for an outlier (decisionFunction < 0), 1 for an inlier, as numbers
   * rather than booleans so results compare directly with scikit-learn's. Reuses one internal buffer
   * (grown, never per call once large enough).
   */
  predict(X: Float64Array, n: number, out: Int8Array): void {
    checkOut(out, n, "predict");
    if (this.scratch.length < n) this.scratch = new Float64Array(Math.max(n, 2 * this.scratch.length));
    const decision = this.scratch;
    this.decisionFunction(X, n, decision);
    for (let i = 0; i < n; i++) out[i] = (decision[i] as number) < 0 ? -1 : 1;
  }
}
