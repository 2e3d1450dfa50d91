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
