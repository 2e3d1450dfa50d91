import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  averagePathLength,
  blockRowsFor,
  compileForest,
  depthLimit,
  type ForestState,
  IsolationForest,
  leafPathLength,
  pathLengthSums,
  percentile,
} from "./iforest.ts";
import { gaussianRows } from "./test-data.ts";

/** scikit-learn's walk, literally: follow x <= threshold, count nodes, add c(n) − 1 at the leaf. */
function referenceSums(s: ForestState, X: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  const trees = s.nodeOffsets.length - 1;
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < trees; t++) {
      const base = s.nodeOffsets[t] as number;
      let k = 0;
      let nodes = 1;
      while ((s.left[base + k] as number) !== -1) {
        const g = base + k;
        const x = X[i * s.nFeatures + (s.feature[g] as number)] as number;
        k = x <= (s.threshold[g] as number) ? (s.left[g] as number) : (s.right[g] as number);
        nodes++;
      }
      out[i] = (out[i] as number) + (nodes + averagePathLength(s.nodeSamples[base + k] as number) - 1);
    }
  }
  return out;
}

function treeDepth(s: ForestState, t: number): number {
  const base = s.nodeOffsets[t] as number;
  const walk = (k: number): number =>
    s.left[base + k] === -1
      ? 0
      : 1 + Math.max(walk(s.left[base + k] as number), walk(s.right[base + k] as number));
  return walk(0);
}

describe("isolation forest helpers", () => {
  it("c(n) is scikit-learn's average path length", () => {
    assert.equal(averagePathLength(0), 0);
    assert.equal(averagePathLength(1), 0);
    assert.equal(averagePathLength(2), 1);
    assert.ok(Math.abs(averagePathLength(3) - (2 * (Math.log(2) + 0.5772156649015329) - 4 / 3)) < 1e-15);
    // scikit-learn 1.2.1: _average_path_length([256]) = 10.244770920119917
    assert.ok(Math.abs(averagePathLength(256) - 10.244770920119917) < 1e-12);
  });

  it("depth limit is ⌈log₂ ψ⌉, at least 1", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 255, 256, 257].map(depthLimit), [1, 1, 2, 2, 3, 8, 8, 9]);
  });

  it("leaf path length is depth + c(n)", () => {
    assert.equal(leafPathLength(3, 1), 3);
    assert.equal(leafPathLength(8, 2), 9);
  });

  it("percentile interpolates like numpy's default", () => {
    assert.equal(percentile(Float64Array.of(4, 1, 3, 2), 10), 1.3);
    assert.equal(percentile(Float64Array.of(4, 1, 3, 2), 50), 2.5);
    assert.equal(percentile(Float64Array.of(4, 1, 3, 2), 75), 3.25);
    assert.equal(percentile(Float64Array.of(4, 1, 3, 2), 100), 4);
    assert.equal(percentile(Float64Array.of(7), 30), 7);
  });
});

describe("IsolationForest.fit", () => {
  const X = gaussianRows(1000, 4, 1);

  it("is deterministic for a seed and differs between seeds", () => {
    const a = new IsolationForest({ seed: 5 }).fit(X, 1000, 4).state;
    const b = new IsolationForest({ seed: 5 }).fit(X, 1000, 4).state;
    const c = new IsolationForest({ seed: 6 }).fit(X, 1000, 4).state;
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.threshold, c.threshold);
  });

  it("grows trees as scikit-learn: ψ rows, depth ≤ ⌈log₂ ψ⌉, row counts that add up", () => {
    const f = new IsolationForest({ nEstimators: 20, seed: 2 }).fit(X, 1000, 4);
    const s = f.state;
    assert.equal(s.samplesPerTree, 256);
    assert.equal(s.offset, -0.5);
    assert.equal(s.nodeOffsets.length, 21);
    for (let t = 0; t < 20; t++) {
      const base = s.nodeOffsets[t] as number;
      assert.equal(s.nodeSamples[base], 256);
      assert.ok(treeDepth(s, t) <= 8);
      for (let g = base; g < (s.nodeOffsets[t + 1] as number); g++) {
        const l = s.left[g] as number;
        if (l === -1) {
          assert.equal(s.feature[g], -1);
          continue;
        }
        const sum =
          (s.nodeSamples[base + l] as number) + (s.nodeSamples[base + (s.right[g] as number)] as number);
        assert.equal(sum, s.nodeSamples[g]);
        assert.ok(Number.isFinite(s.threshold[g]));
      }
    }
  });

  it("maxFeatures draws a subset of columns per tree", () => {
    const s = new IsolationForest({ nEstimators: 30, maxFeatures: { count: 1 }, seed: 3 }).fit(
      X,
      1000,
      4,
    ).state;
    const seen = new Set<number>();
    for (let t = 0; t < 30; t++) {
      const cols = new Set<number>();
      for (let g = s.nodeOffsets[t] as number; g < (s.nodeOffsets[t + 1] as number); g++) {
        if ((s.feature[g] as number) >= 0) cols.add(s.feature[g] as number);
      }
      assert.equal(cols.size, 1);
      for (const c of cols) seen.add(c);
    }
    assert.equal(seen.size, 4, "every column is drawn by some tree");
  });

  it("bootstrap counts a row drawn twice once, as scikit-learn's n_node_samples", () => {
    const s = new IsolationForest({ nEstimators: 10, bootstrap: true, maxSamples: 500, seed: 4 }).fit(
      X,
      1000,
      4,
    ).state;
    for (let t = 0; t < 10; t++) {
      const root = s.nodeSamples[s.nodeOffsets[t] as number] as number;
      assert.ok(root < 500 && root > 350, `distinct rows ${root}`);
    }
  });

  it("resolves maxSamples as scikit-learn", () => {
    assert.equal(
      new IsolationForest({ nEstimators: 1, maxSamples: 0.1 }).fit(X, 1000, 4).state.samplesPerTree,
      100,
    );
    assert.equal(
      new IsolationForest({ nEstimators: 1, maxSamples: 5000 }).fit(X, 1000, 4).state.samplesPerTree,
      1000,
    );
    assert.equal(
      new IsolationForest({ nEstimators: 1, maxSamples: 64 }).fit(X, 1000, 4).state.samplesPerTree,
      64,
    );
    assert.equal(new IsolationForest({ nEstimators: 1 }).fit(X, 100, 4).state.samplesPerTree, 100);
  });

  it("treats a column with range ≤ 1e-7 as constant and stops when all are", () => {
    const flat = new Float64Array(200 * 2);
    for (let i = 0; i < 200; i++) {
      flat[2 * i] = 5 + (i % 2) * 1e-8;
      flat[2 * i + 1] = -1;
    }
    const f = new IsolationForest({ nEstimators: 5 }).fit(flat, 200, 2);
    assert.equal(f.state.feature.length, 5, "every tree is a single leaf");
    const out = new Float64Array(1);
    f.scoreSamples(flat, 1, out);
    assert.equal(out[0], -0.5, "h = c(ψ) everywhere: 2^−1");
  });

  it("rejects what scikit-learn rejects", () => {
    const bad = X.slice(0, 40);
    bad[13] = Number.NaN;
    assert.throws(() => new IsolationForest().fit(bad, 10, 4), /row 3 column 1 is NaN/);
    assert.throws(() => new IsolationForest().fit(X, 1000, 5), /need 5000 values/);
    assert.throws(
      () => new IsolationForest({ maxFeatures: { count: 5 } }).fit(X, 1000, 4),
      /exceeds the 4 columns/,
    );
    assert.throws(() => new IsolationForest({ maxSamples: 0.0001 }).fit(X, 1000, 4), /draws no row/);
    assert.throws(() => new IsolationForest({ contamination: 0.6 }));
    assert.throws(() => new IsolationForest({ maxSamples: 2.5 }));
    assert.throws(() => new IsolationForest({ nEstimators: 0 }));
  });
});

describe("IsolationForest scoring", () => {
  const X = gaussianRows(2000, 5, 9);
  const forest = new IsolationForest({ nEstimators: 50, seed: 11 }).fit(X, 2000, 5);

  it("the compiled walk sums the same path lengths as scikit-learn's, for any batch size", () => {
    const c = compileForest(forest.state);
    assert.equal(c.depth, 8);
    for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 127, 128, 129, 255, 256, 257, 1999]) {
      const got = new Float64Array(n);
      pathLengthSums(c, X, n, got);
      assert.deepEqual(got, referenceSums(forest.state, X, n), `n = ${n}`);
    }
  });

  it("walks deep trees and single-leaf trees alike", () => {
    const deep = new IsolationForest({ nEstimators: 10, maxSamples: 2000, seed: 1 }).fit(X, 2000, 5);
    assert.equal(deep.layout.depth, 11);
    const out = new Float64Array(100);
    pathLengthSums(deep.layout, X, 100, out);
    assert.deepEqual(out, referenceSums(deep.state, X, 100));
  });

  it("sizes the scratch block near 32 KiB", () => {
    assert.equal(blockRowsFor(5), 256);
    assert.equal(blockRowsFor(30), 128);
    assert.equal(blockRowsFor(200), 16);
    assert.equal(blockRowsFor(100_000), 8);
  });

  it("score_samples = −2^(−E[h]/c(ψ)), anomalies lower; anomalyScores is its negation", () => {
    const n = 300;
    const s = new Float64Array(n);
    forest.scoreSamples(X, n, s);
    const sums = referenceSums(forest.state, X, n);
    const a = new Float64Array(n);
    forest.anomalyScores(X, n, a);
    for (let i = 0; i < n; i++) {
      const expected = -(2 ** -((sums[i] as number) / (50 * averagePathLength(256))));
      assert.ok(Math.abs((s[i] as number) - expected) < 1e-15);
      assert.equal(a[i], -(s[i] as number));
      assert.ok((s[i] as number) < 0 && (s[i] as number) >= -1);
    }
    const far = Float64Array.of(0, 0, 9, 0, 0, 0, 0, 0, 0, 0);
    const out = new Float64Array(2);
    forest.scoreSamples(far, 2, out);
    assert.ok((out[0] as number) < (out[1] as number) - 0.1, `far ${out[0]} vs centre ${out[1]}`);
  });

  it("decisionFunction and predict follow offset; contamination sets offset from training scores", () => {
    const f = new IsolationForest({ nEstimators: 50, contamination: 0.05, seed: 11 }).fit(X, 2000, 5);
    assert.notEqual(f.offset, -0.5);
    const d = new Float64Array(2000);
    f.decisionFunction(X, 2000, d);
    const p = new Int8Array(2000);
    f.predict(X, 2000, p);
    let outliers = 0;
    for (let i = 0; i < 2000; i++) {
      assert.equal(p[i], (d[i] as number) < 0 ? -1 : 1);
      if (p[i] === -1) outliers++;
    }
    assert.equal(outliers, 100, "5 % of 2,000 training rows");
  });

  it("ψ = 1 scores every row −0.5, as scikit-learn", () => {
    const f = new IsolationForest({ nEstimators: 3, maxSamples: { count: 1 } }).fit(X, 2000, 5);
    const out = new Float64Array(3);
    f.scoreSamples(X, 3, out);
    assert.deepEqual([...out], [-0.5, -0.5, -0.5]);
  });

  it("checks buffer sizes and refuses to score before fit", () => {
    assert.throws(() => forest.scoreSamples(X, 10, new Float64Array(5)), /room for 5 rows/);
    assert.throws(() => forest.scoreSamples(X.subarray(0, 9), 2, new Float64Array(2)), /need 10 values/);
    assert.throws(() => new IsolationForest().scoreSamples(X, 1, new Float64Array(1)), /not fitted/);
  });
});

describe("rows with missing values", () => {
  it("score NaN (no score) instead of walking the trees with NaN comparisons", () => {
    const rows = 200;
    const X = new Float64Array(rows * 2);
    for (let i = 0; i < X.length; i++) X[i] = Math.sin(i * 12.9898) * 10;
    const forest = new IsolationForest({ nEstimators: 20, seed: 1 }).fit(X, rows, 2);
    const probe = Float64Array.from([1, 2, Number.NaN, 2, 1, Number.POSITIVE_INFINITY, 3, 4]);
    const out = new Float64Array(4);
    forest.anomalyScores(probe, 4, out);
    assert.ok(Number.isFinite(out[0]) && Number.isFinite(out[3]));
    assert.ok(Number.isNaN(out[1]) && Number.isNaN(out[2]));
    const samples = new Float64Array(4);
    forest.scoreSamples(probe, 4, samples);
    assert.ok(Number.isNaN(samples[1]));
    assert.equal(samples[0], -(out[0] as number));
  });
});
