// Which features pushed a row's isolation forest score: a decomposition of the path length.
//
// A node holding n training rows expects a point to need c(n) more splits to be isolated. A split that
// sends the point to a child holding m rows leaves it expecting 1 + c(m). The split on feature f
// therefore saved c(n) − 1 − c(m) levels: a lot when it cut the point away from most rows (an early,
// isolating split: m ≪ n), about 0.4 when it halved the node, and about −1 when it only chipped off
// other rows while the point stayed with the crowd (m ≈ n). Along a path these savings telescope:
//
//   Σ savings = c(n_root) − (depth + c(n_leaf)) = c(ψ) − h(x)
//
// so per tree they add up exactly to how much shorter than average the point's path was, and averaged
// over the trees to c(ψ) − E[h(x)], the quantity the score 2^(−E[h(x)]/c(ψ)) is a function of. Each
// feature gets the savings of the splits made on it; contributions are those savings normalised by
// the sum of their absolute values (so they are shares, signed: negative = the feature made the row
// look ordinary). The same idea as depth-based importances (e.g. DIFFI, Carletti et al. 2020), but
// additive and exact for a single row. Pure; allocates per call (explanations are per alert, not per
// event).
import type { Factor } from "../contract/outputs.ts";
import { averagePathLength, type IsolationForest } from "./iforest.ts";

/** A Factor (feature, the row's value, its signed share of the saving: Σ |contribution| = 1) and more. */
export interface FeatureContribution extends Factor {
  /** Column of the feature in the model's vectors. */
  index: number;
  /** Mean levels saved per tree by splits on this feature (Σ over features = c(ψ) − E[h(x)]). */
  levelsSaved: number;
}

export interface Explanation {
  /** c(ψ) − E[h(x)]: positive when the row isolates faster than an average point. */
  levelsSaved: number;
  /** Every feature the trees split on along the row's paths, most anomalous push first. */
  features: FeatureContribution[];
}

/** Explains one row (nFeatures values) scored by `model`; `featureNames` in the model's column order. */
export function explainRow(
  model: IsolationForest,
  row: ArrayLike<number>,
  featureNames: readonly string[],
): Explanation {
  const s = model.state;
  if (featureNames.length !== s.nFeatures) {
    throw new RangeError(`the model has ${s.nFeatures} features; ${featureNames.length} names were given`);
  }
  if (row.length < s.nFeatures) throw new RangeError(`row has ${row.length} values, ${s.nFeatures} needed`);
  const trees = s.nodeOffsets.length - 1;
  const saved = new Float64Array(s.nFeatures);
  const used = new Uint8Array(s.nFeatures);
  let total = 0;
  for (let t = 0; t < trees; t++) {
    const base = s.nodeOffsets[t] as number;
    let g = base;
    let l = s.left[g] as number;
    while (l !== -1) {
      const f = s.feature[g] as number;
      // Same comparison as scoring (`x > threshold` goes right), so NaN follows the same path.
      const next = base + ((row[f] as number) > (s.threshold[g] as number) ? (s.right[g] as number) : l);
      const gain =
        averagePathLength(s.nodeSamples[g] as number) - 1 - averagePathLength(s.nodeSamples[next] as number);
      saved[f] = (saved[f] as number) + gain;
      used[f] = 1;
      total += gain;
      g = next;
      l = s.left[g] as number;
    }
  }
  let norm = 0;
  for (let f = 0; f < s.nFeatures; f++) norm += Math.abs(saved[f] as number);
  const features: FeatureContribution[] = [];
  for (let f = 0; f < s.nFeatures; f++) {
    if (used[f] === 0) continue;
    const v = saved[f] as number;
    features.push({
      feature: featureNames[f] as string,
      index: f,
      value: row[f] as number,
      contribution: norm === 0 ? 0 : v / norm,
      levelsSaved: v / trees,
    });
  }
  features.sort((a, b) => b.contribution - a.contribution || a.index - b.index);
  return { levelsSaved: total / trees, features };
}
