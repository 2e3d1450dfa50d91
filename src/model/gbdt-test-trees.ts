// Random tree ensembles and rows for the boosted-trees tests and benchmark: unbalanced trees, both
// missing-value directions, thresholds drawn from a small grid (so rows hit them exactly), and rows
// with NaN and values on and beside every threshold, including float32 rounding boundaries.
import { Sfc32 } from "./rng.ts";
import type { SplitTest, Tree, TreeEnsemble } from "./trees.ts";

export interface RandomEnsembleOptions {
  trees: number;
  maxDepth: number;
  nFeatures: number;
  split: SplitTest;
  /** Chance that a node above maxDepth becomes a leaf (0: complete trees). */
  leafChance?: number;
}

/** Float32 values on a coarse grid: exact in float32 and float64, so both split tests apply. */
function gridValue(r: Sfc32): number {
  return Math.fround((r.below(41) - 20) / 8 + (r.below(3) - 1) * 1e-3);
}

export function randomTree(r: Sfc32, o: RandomEnsembleOptions): Tree {
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const missingLeft: number[] = [];
  const value: number[] = [];
  const cover: number[] = [];
  // Breadth-first would hide bugs that depend on order; children are numbered depth-first here.
  const grow = (depth: number, weight: number): number => {
    const k = feature.length;
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    missingLeft.push(0);
    value.push((r.float() - 0.5) * 0.6);
    cover.push(weight);
    if (depth >= o.maxDepth || (depth > 0 && r.float() < (o.leafChance ?? 0))) return k;
    feature[k] = r.below(o.nFeatures);
    threshold[k] = gridValue(r);
    missingLeft[k] = r.below(2);
    const share = 0.05 + 0.9 * r.float();
    left[k] = grow(depth + 1, weight * share);
    right[k] = grow(depth + 1, weight * (1 - share));
    return k;
  };
  grow(0, 100 + r.below(900));
  return {
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    missingLeft: Uint8Array.from(missingLeft),
    value: Float64Array.from(value),
    cover: Float64Array.from(cover),
  };
}

export function randomEnsemble(seed: number, o: RandomEnsembleOptions): TreeEnsemble {
  const r = new Sfc32(seed);
  const trees: Tree[] = [];
  for (let t = 0; t < o.trees; t++) trees.push(randomTree(r, o));
  return {
    featureNames: Array.from({ length: o.nFeatures }, (_, i) => `f${i}`),
    baseMargin: (r.float() - 0.5) * 4,
    split: o.split,
    trees,
  };
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** x moved by `steps` float64 ulps. */
function ulps(x: number, steps: number): number {
  if (x === 0) return steps * Number.MIN_VALUE;
  f64[0] = x;
  u64[0] = (u64[0] as bigint) + BigInt(x > 0 ? steps : -steps);
  return f64[0] as number;
}

/**
 * n rows (row-major) for an ensemble: per value, NaN (10 %), a threshold of some node on that column
 * (exactly, a few float64 ulps off, or at the float32 rounding boundary next to it), or anywhere.
 */
export function randomRows(e: TreeEnsemble, n: number, seed: number): Float64Array {
  const r = new Sfc32(seed);
  const width = e.featureNames.length;
  const byColumn: number[][] = Array.from({ length: width }, () => []);
  for (const t of e.trees) {
    for (let k = 0; k < t.feature.length; k++) {
      const f = t.feature[k] as number;
      if (f >= 0) byColumn[f]?.push(t.threshold[k] as number);
    }
  }
  const X = new Float64Array(n * width);
  for (let i = 0; i < n * width; i++) {
    const thresholds = byColumn[i % width] as number[];
    const u = r.float();
    let x: number;
    if (u < 0.1) x = Number.NaN;
    else if (u < 0.3 || thresholds.length === 0) x = (r.float() - 0.5) * 6;
    else {
      const t = thresholds[r.below(thresholds.length)] as number;
      const kind = r.below(3);
      if (kind === 0) x = t;
      else if (kind === 1) x = ulps(t, r.below(7) - 3);
      else {
        // The midpoint between t and its float32 neighbour rounds one way or the other (ties to even).
        const g = Math.fround(
          t + Math.abs(t) * 2 ** -23 * (r.below(2) === 0 ? 1 : -1) + (t === 0 ? 2 ** -149 : 0),
        );
        x = ulps((t + g) / 2, r.below(3) - 1);
      }
    }
    X[i] = x;
  }
  return X;
}
