// TreeSHAP: exact Shapley values of one row's margin for an additive tree ensemble, in polynomial time
// (Lundberg, Erion & Lee 2018, "Consistent Individualized Feature Attribution for Tree Ensembles",
// Algorithm 2, path-dependent). The game is v(S) = E[f(x) | x_S], the expectation taken the way the
// tree saw its training data: at a split on a feature outside S, both children, weighted by their share
// of the node's cover. The Shapley values then add up to f(x) − v(∅), the margin minus the ensemble's
// expected margin (local accuracy), and they are what XGBoost's pred_contribs and the shap package
// compute. The recursion carries, for the path from the root, the unique features split on and for
// each the fraction of cover that passes ("zero": feature unknown) and whether x passes ("one"), plus
// the weights of every subset size; EXTEND adds a feature, UNWIND removes one (Algorithm 2's names).
// Pure; allocates only when constructed (one scratch path per explainer, so it is not reentrant).
import { checkEnsemble, type Tree, type TreeEnsemble, treeDepth } from "./trees.ts";

function goesLeft(tree: Tree, split: TreeEnsemble["split"], node: number, x: number): boolean {
  if (Number.isNaN(x)) return tree.missingLeft[node] === 1;
  const t = tree.threshold[node] as number;
  return split === "le" ? x <= t : Math.fround(x) < t;
}

/** E[f] of one tree under the cover weights: what its leaves average to when no feature is known. */
function treeExpectation(tree: Tree, node: number): number {
  if ((tree.feature[node] as number) < 0) return tree.value[node] as number;
  const l = tree.left[node] as number;
  const r = tree.right[node] as number;
  const c = tree.cover[node] as number;
  return (
    ((tree.cover[l] as number) / c) * treeExpectation(tree, l) +
    ((tree.cover[r] as number) / c) * treeExpectation(tree, r)
  );
}

export class TreeShap {
  readonly ensemble: TreeEnsemble;
  /** v(∅): baseMargin + Σ over trees of the cover-weighted mean leaf. */
  readonly expectedMargin: number;
  // The unique path of every depth, laid out one after another (each call copies its parent's).
  readonly #feature: Int32Array;
  readonly #zero: Float64Array;
  readonly #one: Float64Array;
  readonly #weight: Float64Array;
  #phi: Float64Array = new Float64Array(0);
  #row: ArrayLike<number> = [];
  #tree: Tree | undefined;

  constructor(ensemble: TreeEnsemble) {
    const problem = checkEnsemble(ensemble);
    if (problem !== undefined) throw new RangeError(`cannot explain the ensemble: ${problem}`);
    for (let t = 0; t < ensemble.trees.length; t++) {
      const tree = ensemble.trees[t] as Tree;
      for (let k = 0; k < tree.feature.length; k++) {
        if ((tree.feature[k] as number) >= 0 && !((tree.cover[k] as number) > 0)) {
          throw new RangeError(`cannot explain the ensemble: tree ${t} node ${k} splits a cover of 0`);
        }
      }
    }
    this.ensemble = ensemble;
    let expected = ensemble.baseMargin;
    let depth = 0;
    for (const tree of ensemble.trees) {
      expected += treeExpectation(tree, 0);
      depth = Math.max(depth, treeDepth(tree));
    }
    this.expectedMargin = expected;
    // Path lengths are at most depth + 1 (the root's placeholder plus one per level), one per level.
    const size = ((depth + 2) * (depth + 3)) / 2;
    this.#feature = new Int32Array(size);
    this.#zero = new Float64Array(size);
    this.#one = new Float64Array(size);
    this.#weight = new Float64Array(size);
  }

  /**
   * The SHAP value of each feature for one row into phi (length nFeatures, overwritten), in margin
   * (log-odds) units: Σ phi + expectedMargin = predictMargin(row) up to rounding.
   */
  contributions(
    row: ArrayLike<number>,
    phi: Float64Array = new Float64Array(this.ensemble.featureNames.length),
  ): Float64Array {
    const n = this.ensemble.featureNames.length;
    if (row.length < n) throw new RangeError(`row has ${row.length} values, ${n} needed`);
    if (phi.length < n) throw new RangeError(`phi has room for ${phi.length} features, ${n} needed`);
    phi.fill(0, 0, n);
    this.#phi = phi;
    this.#row = row;
    for (const tree of this.ensemble.trees) {
      this.#tree = tree;
      this.#recurse(0, 0, 0, 1, 1, -1);
    }
    this.#tree = undefined;
    this.#row = [];
    return phi;
  }

  /** Adds a feature to the path at [at, at + depth] (EXTEND): subset weights shift by one size. */
  #extend(at: number, depth: number, zero: number, one: number, feature: number): void {
    const w = this.#weight;
    this.#feature[at + depth] = feature;
    this.#zero[at + depth] = zero;
    this.#one[at + depth] = one;
    w[at + depth] = depth === 0 ? 1 : 0;
    for (let i = depth - 1; i >= 0; i--) {
      w[at + i + 1] = (w[at + i + 1] as number) + (one * (w[at + i] as number) * (i + 1)) / (depth + 1);
      w[at + i] = (zero * (w[at + i] as number) * (depth - i)) / (depth + 1);
    }
  }

  /** Removes element `index` from the path (UNWIND), undoing its EXTEND. */
  #unwind(at: number, depth: number, index: number): void {
    const w = this.#weight;
    const one = this.#one[at + index] as number;
    const zero = this.#zero[at + index] as number;
    let next = w[at + depth] as number;
    for (let i = depth - 1; i >= 0; i--) {
      if (one !== 0) {
        const tmp = w[at + i] as number;
        w[at + i] = (next * (depth + 1)) / ((i + 1) * one);
        next = tmp - ((w[at + i] as number) * zero * (depth - i)) / (depth + 1);
      } else {
        w[at + i] = ((w[at + i] as number) * (depth + 1)) / (zero * (depth - i));
      }
    }
    for (let i = index; i < depth; i++) {
      this.#feature[at + i] = this.#feature[at + i + 1] as number;
      this.#zero[at + i] = this.#zero[at + i + 1] as number;
      this.#one[at + i] = this.#one[at + i + 1] as number;
    }
  }

  /** Σ of the subset weights with element `index` unwound, without changing the path. */
  #unwoundSum(at: number, depth: number, index: number): number {
    const w = this.#weight;
    const one = this.#one[at + index] as number;
    const zero = this.#zero[at + index] as number;
    let next = w[at + depth] as number;
    let total = 0;
    for (let i = depth - 1; i >= 0; i--) {
      if (one !== 0) {
        const tmp = (next * (depth + 1)) / ((i + 1) * one);
        total += tmp;
        next = (w[at + i] as number) - (tmp * zero * (depth - i)) / (depth + 1);
      } else {
        total += ((w[at + i] as number) * (depth + 1)) / (zero * (depth - i));
      }
    }
    return total;
  }

  #recurse(node: number, at: number, depth: number, zero: number, one: number, feature: number): void {
    const tree = this.#tree as Tree;
    // This call's path starts after the parent's (which has `depth` elements) and begins as its copy.
    // (A loop: copyWithin's call costs more than copying the few elements of a path.)
    const fe = this.#feature;
    const ze = this.#zero;
    const on = this.#one;
    const we = this.#weight;
    for (let i = 0, from = at - depth; i < depth; i++) {
      fe[at + i] = fe[from + i] as number;
      ze[at + i] = ze[from + i] as number;
      on[at + i] = on[from + i] as number;
      we[at + i] = we[from + i] as number;
    }
    this.#extend(at, depth, zero, one, feature);
    const split = tree.feature[node] as number;
    if (split < 0) {
      const value = tree.value[node] as number;
      for (let i = 1; i <= depth; i++) {
        const w = this.#unwoundSum(at, depth, i);
        const f = this.#feature[at + i] as number;
        this.#phi[f] =
          (this.#phi[f] as number) +
          w * ((this.#one[at + i] as number) - (this.#zero[at + i] as number)) * value;
      }
      return;
    }
    const left = tree.left[node] as number;
    const right = tree.right[node] as number;
    const toLeft = goesLeft(tree, this.ensemble.split, node, this.#row[split] as number);
    const hot = toLeft ? left : right;
    const cold = toLeft ? right : left;
    const cover = tree.cover[node] as number;
    let inZero = 1;
    let inOne = 1;
    let d = depth;
    // A feature already on the path is taken off and comes back with the product of its fractions.
    let k = 1;
    while (k <= d && this.#feature[at + k] !== split) k++;
    if (k <= d) {
      inZero = this.#zero[at + k] as number;
      inOne = this.#one[at + k] as number;
      this.#unwind(at, d, k);
      d--;
    }
    const next = at + d + 1;
    this.#recurse(hot, next, d + 1, ((tree.cover[hot] as number) / cover) * inZero, inOne, split);
    // A cold child no cover reaches adds nothing, and its all-zero fractions would divide 0 by 0.
    const coldZero = ((tree.cover[cold] as number) / cover) * inZero;
    if (coldZero > 0) this.#recurse(cold, next, d + 1, coldZero, 0, split);
  }
}
