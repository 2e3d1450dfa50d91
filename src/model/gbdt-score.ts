// Compiled scoring of additive tree ensembles (gradient-boosted trees): the same walk as the isolation
// forest's compiled layout (src/model/iforest.ts, "Compiled layout"), adapted to trees that differ in
// depth, send missing values either way, and add leaf values instead of path lengths.
//
// Every test is made "x <= threshold" at compile time: XGBoost's "float32(x) < t" is the same set of x
// as "x <= t′" for one float64 t′ (float32 rounding is monotone), so no Math.fround is left in the hot
// loop. Missing values are settled when a block of rows is copied, not at each step: the block holds
// every column three times, NaN replaced by +∞ (for nodes that send NaN right: +∞ > t), by −∞ (for
// nodes that send it left: −∞ > t is false) and as a 0/1 "is NaN" column (for the one case neither
// copy can express: NaN right, every number left, i.e. a +∞ threshold). Each node's column offset
// points into the copy its missing-value direction needs, so one step is the forest's,
//
//   node = child[node] + (block[columnOffset[node] + row] > threshold[node])
//
// branch-free, and exact: a real ±∞ in the data compares as it would unreplaced. Nodes are numbered
// breadth-first per tree so that children are adjacent. A leaf is its own child behind a +∞
// threshold, so a walk that reaches it early stays there and each tree walks a fixed number of steps
// (its own depth). Trees run outermost over a block of rows copied column-major (the forest's reasons:
// a tree stays in L1 while the block passes through it, and the column offset is premultiplied),
// eight rows walk each tree together; leftover rows and single events walk eight trees together
// instead. Leaf values are added in tree order, so every margin is bit-identical to predictMargin's.
import { float32InputThreshold } from "./format.ts";
import { blockRowsFor } from "./iforest.ts";
import { checkEnsemble, type TreeEnsemble, treeDepth } from "./trees.ts";

export interface CompiledEnsemble {
  readonly nFeatures: number;
  readonly trees: number;
  readonly baseMargin: number;
  /** Rows per block, and the column stride of `block`. */
  readonly blockRows: number;
  /** Slot of each tree's root; a tree's slots are contiguous, breadth-first. */
  readonly roots: Int32Array;
  /** Steps per walk of each tree: its deepest leaf. */
  readonly depths: Int32Array;
  /** Per group of eight trees (single-row walks), the deepest of the eight. */
  readonly groupDepths: Int32Array;
  /**
   * Offset into `block` of each slot's column in the copy its missing-value direction needs: copy 0
   * (NaN → +∞), 1 (NaN → −∞) or 2 (is NaN); (copy × nFeatures + column) × blockRows; 0 at leaves.
   */
  readonly columnOffset: Int32Array;
  /** "x <= threshold goes left" of each slot; +∞ at leaves. */
  readonly threshold: Float64Array;
  /** Absolute slot of the first child (the second is next to it); a leaf points at itself. */
  readonly child: Int32Array;
  /** Leaf value of each leaf slot (0 at internal slots). */
  readonly value: Float64Array;
  /** Scratch: one block of rows, column-major, in three copies (3 × nFeatures × blockRows). */
  readonly block: Float64Array;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The largest float32 strictly below t (t not NaN, not −∞; may return −∞). */
function float32Below(t: number): number {
  const f = Math.fround(t);
  if (f < t) return f;
  if (f === 0) return -(2 ** -149);
  f32[0] = f;
  u32[0] = f > 0 ? (u32[0] as number) - 1 : (u32[0] as number) + 1;
  return f32[0] as number;
}

/**
 * The float64 t′ for which `x <= t′` sends exactly the numbers left that `Math.fround(x) < t` does:
 * Math.fround(x) < t ⇔ Math.fround(x) <= f (f the largest float32 below t) ⇔ x <= t′.
 */
export function lessThanFloat32Threshold(t: number): number {
  // float32InputThreshold(−∞) is the boundary below which float64s round to float32 −∞.
  return float32InputThreshold(float32Below(t));
}

export function compileEnsemble(e: TreeEnsemble): CompiledEnsemble {
  const problem = checkEnsemble(e);
  if (problem !== undefined) throw new RangeError(`cannot compile the ensemble: ${problem}`);
  const nFeatures = e.featureNames.length;
  const trees = e.trees.length;
  // The three copies share the ~32 KiB the forest gives its one.
  const blockRows = blockRowsFor(3 * nFeatures);
  let nodes = 0;
  let maxTree = 0;
  for (const tree of e.trees) {
    nodes += tree.feature.length;
    maxTree = Math.max(maxTree, tree.feature.length);
  }
  if (nodes >= 2 ** 31) throw new RangeError(`${nodes} nodes: more than the layout indexes (2^31)`);
  const order = new Int32Array(maxTree);
  const roots = new Int32Array(trees);
  const depths = new Int32Array(trees);
  const groupDepths = new Int32Array(Math.ceil(trees / 8));
  const columnOffset = new Int32Array(nodes);
  const threshold = new Float64Array(nodes);
  const child = new Int32Array(nodes);
  const value = new Float64Array(nodes);
  let from = 0;
  for (let t = 0; t < trees; t++) {
    const tree = e.trees[t] as TreeEnsemble["trees"][number];
    const size = tree.feature.length;
    roots[t] = from;
    const d = treeDepth(tree);
    depths[t] = d;
    groupDepths[t >> 3] = Math.max(groupDepths[t >> 3] as number, d);
    // Breadth-first from the root; nodes no parent reaches (none in a well-formed tree) are dropped.
    order[0] = 0;
    let next = 1;
    for (let k = 0; k < next; k++) {
      const slot = from + k;
      const node = order[k] as number;
      if ((tree.feature[node] as number) < 0) {
        threshold[slot] = Number.POSITIVE_INFINITY;
        child[slot] = slot;
        value[slot] = tree.value[node] as number;
        continue;
      }
      const f = tree.feature[node] as number;
      const th =
        e.split === "le"
          ? (tree.threshold[node] as number)
          : lessThanFloat32Threshold(tree.threshold[node] as number);
      if (tree.missingLeft[node] === 1) {
        columnOffset[slot] = (nFeatures + f) * blockRows;
        threshold[slot] = th;
      } else if (th !== Number.POSITIVE_INFINITY) {
        columnOffset[slot] = f * blockRows;
        threshold[slot] = th;
      } else {
        // Every number goes left (x <= +∞), NaN right: the "is NaN" column above 0.5.
        columnOffset[slot] = (2 * nFeatures + f) * blockRows;
        threshold[slot] = 0.5;
      }
      child[slot] = from + next;
      order[next++] = tree.left[node] as number;
      order[next++] = tree.right[node] as number;
    }
    from += size;
  }
  return {
    nFeatures,
    trees,
    baseMargin: e.baseMargin,
    blockRows,
    roots,
    depths,
    groupDepths,
    columnOffset,
    threshold,
    child,
    value,
    block: new Float64Array(3 * blockRows * nFeatures),
  };
}

function checkBatch(c: CompiledEnsemble, X: Float64Array, n: number, out: Float64Array): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`row count ${n} is not a count`);
  if (X.length < n * c.nFeatures) {
    throw new RangeError(
      `${n} rows × ${c.nFeatures} columns need ${n * c.nFeatures} values; rows has ${X.length}`,
    );
  }
  if (out.length < n) throw new RangeError(`out has room for ${out.length} rows, ${n} needed`);
}

/**
 * The margin (log-odds) of n rows stored row-major in X (n × nFeatures) into out[0..n), each equal to
 * predictMargin's. Allocates nothing; not reentrant (one scratch block per compiled ensemble).
 */
export function marginBatch(c: CompiledEnsemble, X: Float64Array, n: number, out: Float64Array): void {
  checkBatch(c, X, n, out);
  const width = c.nFeatures;
  const { roots, depths, groupDepths, columnOffset: co, threshold: th, child: ch, value: v, trees } = c;
  const { blockRows: B, block: T, baseMargin } = c;
  const copy = width * B;
  for (let start = 0; start < n; start += B) {
    const m = Math.min(B, n - start);
    for (let i = 0; i < m; i++) {
      for (let j = 0, x = (start + i) * width, o = i; j < width; j++, x++, o += B) {
        const value = X[x] as number;
        const nan = Number.isNaN(value);
        T[o] = nan ? Number.POSITIVE_INFINITY : value;
        T[o + copy] = nan ? Number.NEGATIVE_INFINITY : value;
        T[o + 2 * copy] = nan ? 1 : 0;
      }
      out[start + i] = baseMargin;
    }
    const m8 = m - (m % 8);
    for (let t = 0; t < trees; t++) {
      const root = roots[t] as number;
      const depth = depths[t] as number;
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
        out[r] = (out[r] as number) + (v[a] as number);
        out[r + 1] = (out[r + 1] as number) + (v[b] as number);
        out[r + 2] = (out[r + 2] as number) + (v[e] as number);
        out[r + 3] = (out[r + 3] as number) + (v[d] as number);
        out[r + 4] = (out[r + 4] as number) + (v[g] as number);
        out[r + 5] = (out[r + 5] as number) + (v[h] as number);
        out[r + 6] = (out[r + 6] as number) + (v[p] as number);
        out[r + 7] = (out[r + 7] as number) + (v[q] as number);
      }
    }
    // The last rows (all of them for a single event) walk eight trees together, still adding the
    // leaves in tree order.
    for (let i = m8; i < m; i++) {
      let acc = out[start + i] as number;
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
        const depth = groupDepths[t >> 3] as number;
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
        acc += v[a] as number;
        acc += v[b] as number;
        acc += v[e] as number;
        acc += v[d] as number;
        acc += v[g] as number;
        acc += v[h] as number;
        acc += v[p] as number;
        acc += v[q] as number;
      }
      for (; t < trees; t++) {
        let a = roots[t] as number;
        const depth = depths[t] as number;
        for (let level = 0; level < depth; level++) {
          a = (ch[a] as number) + +((T[(co[a] as number) + i] as number) > (th[a] as number));
        }
        acc += v[a] as number;
      }
      out[start + i] = acc;
    }
  }
}

/** The probability of the positive class, sigmoid(margin), of n rows into out[0..n). */
export function probabilityBatch(c: CompiledEnsemble, X: Float64Array, n: number, out: Float64Array): void {
  marginBatch(c, X, n, out);
  // The same expression as trees.ts's sigmoid, so a probability equals sigmoid(predictMargin(row)).
  for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-(out[i] as number)));
}
