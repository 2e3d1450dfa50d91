// Additive tree ensembles: the one representation of gradient-boosted trees, whether trained here
// (src/model/gbdt-train.ts), imported from XGBoost's JSON model files or exported from scikit-learn's
// HistGradientBoostingClassifier (tools/export_sklearn_hgb.py). Scoring, TreeSHAP and the model file
// all read this shape; `predictMargin` below is the plain reference every faster path is tested against.
//
// A tree is a set of node arrays, node 0 the root. An internal node sends a row left when its feature
// value passes the ensemble's split test, right when it does not, and a missing value (NaN) the way
// `missingLeft` says. A leaf (feature -1) adds `value` to the margin. `cover` is the training weight
// that reached the node (sum of hessians for XGBoost and our trainer, sample count for scikit-learn):
// TreeSHAP needs it.

/**
 * How a node's test reads:
 * - "le": x <= threshold goes left (scikit-learn's HistGradientBoosting, and our trainer);
 * - "lt-f32": Math.fround(x) < threshold goes left, the threshold being a float32 (XGBoost, which
 *   casts every feature value to float32 before comparing).
 */
export type SplitTest = "le" | "lt-f32";

export interface Tree {
  /** Feature column per node; -1 marks a leaf. */
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** 1: a missing value goes left; 0: right. */
  readonly missingLeft: Uint8Array;
  /** A leaf's contribution to the margin (internal nodes: unused, may hold the node's mean). */
  readonly value: Float64Array;
  /** Training weight that reached each node. */
  readonly cover: Float64Array;
  /**
   * Loss reduction of each internal node's split (0 at leaves), when the source records it (our
   * trainer; scikit-learn and XGBoost do too): importance by gain.
   */
  readonly gain?: Float64Array;
}

export interface TreeEnsemble {
  /** The columns of the rows it scores, in order. */
  readonly featureNames: readonly string[];
  /** Added to the sum of the leaves: the margin (log-odds) before any tree. */
  readonly baseMargin: number;
  readonly split: SplitTest;
  readonly trees: readonly Tree[];
}

/** The leaf a row reaches in one tree (reference implementation). */
export function leafOf(tree: Tree, split: SplitTest, row: ArrayLike<number>): number {
  let node = 0;
  for (;;) {
    const f = tree.feature[node] as number;
    if (f < 0) return node;
    const x = row[f] as number;
    let goLeft: boolean;
    if (Number.isNaN(x)) goLeft = tree.missingLeft[node] === 1;
    else if (split === "le") goLeft = x <= (tree.threshold[node] as number);
    else goLeft = Math.fround(x) < (tree.threshold[node] as number);
    node = goLeft ? (tree.left[node] as number) : (tree.right[node] as number);
  }
}

/** The margin (log-odds) of one row: the reference every faster scoring path must match exactly. */
export function predictMargin(ensemble: TreeEnsemble, row: ArrayLike<number>): number {
  let margin = ensemble.baseMargin;
  for (const tree of ensemble.trees) margin += tree.value[leafOf(tree, ensemble.split, row)] as number;
  return margin;
}

/** The logistic function: margin → probability of the positive class. */
export function sigmoid(margin: number): number {
  return 1 / (1 + Math.exp(-margin));
}

/**
 * Why an ensemble cannot be scored, or undefined when it can: every tree's arrays have one length,
 * children come after their parent (so every walk ends) and each node has exactly one parent, split
 * features are columns, thresholds are numbers, and covers are non-negative. Importers and the model
 * file loader run it so a bad file fails at load, naming the tree and node, not while scoring.
 */
export function checkEnsemble(e: TreeEnsemble): string | undefined {
  const nFeatures = e.featureNames.length;
  if (nFeatures === 0) return "no feature names";
  if (!Number.isFinite(e.baseMargin)) return `baseMargin ${e.baseMargin} is not finite`;
  if (e.split !== "le" && e.split !== "lt-f32") return `unknown split test ${JSON.stringify(e.split)}`;
  for (let t = 0; t < e.trees.length; t++) {
    const tree = e.trees[t] as Tree;
    const n = tree.feature.length;
    if (n === 0) return `tree ${t} has no nodes`;
    for (const [name, a] of [
      ["threshold", tree.threshold],
      ["left", tree.left],
      ["right", tree.right],
      ["missingLeft", tree.missingLeft],
      ["value", tree.value],
      ["cover", tree.cover],
      ...(tree.gain === undefined ? [] : [["gain", tree.gain] as const]),
    ] as const) {
      if (a.length !== n) return `tree ${t}: ${name} has ${a.length} entries, feature has ${n}`;
    }
    const parents = new Uint8Array(n);
    for (let k = 0; k < n; k++) {
      const f = tree.feature[k] as number;
      const where = `tree ${t} node ${k}`;
      if (!((tree.cover[k] as number) >= 0)) return `${where}: cover ${tree.cover[k]} is not >= 0`;
      if (f < 0) {
        if (f !== -1) return `${where}: feature ${f} (leaves are -1)`;
        if (!Number.isFinite(tree.value[k] as number)) return `${where}: leaf value ${tree.value[k]}`;
        continue;
      }
      if (f >= nFeatures) return `${where}: feature ${f} is not one of the ${nFeatures} columns`;
      const th = tree.threshold[k] as number;
      if (Number.isNaN(th)) return `${where}: threshold is NaN`;
      // "lt-f32" sends x left when float32(x) < threshold: nothing is below −∞, which "le" cannot say.
      if (e.split === "lt-f32" && th === Number.NEGATIVE_INFINITY) return `${where}: threshold is −∞`;
      const m = tree.missingLeft[k] as number;
      if (m !== 0 && m !== 1) return `${where}: missingLeft ${m} (0 or 1)`;
      for (const c of [tree.left[k] as number, tree.right[k] as number]) {
        if (!(c > k && c < n)) return `${where}: child ${c} is not a later node of the tree`;
        if (parents[c] !== 0) return `${where}: node ${c} has two parents`;
        parents[c] = 1;
      }
    }
  }
  return undefined;
}

/** The depth of a tree's deepest leaf (0 for a lone leaf); the tree must pass checkEnsemble. */
export function treeDepth(tree: Tree): number {
  const depth = new Int32Array(tree.feature.length);
  let max = 0;
  for (let k = 0; k < tree.feature.length; k++) {
    if ((tree.feature[k] as number) < 0) continue;
    const d = (depth[k] as number) + 1;
    depth[tree.left[k] as number] = d;
    depth[tree.right[k] as number] = d;
    if (d > max) max = d;
  }
  return max;
}
