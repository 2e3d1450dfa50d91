// Unit tests of the boosted-trees trainer on cases small enough to work out by hand; parity with
// scikit-learn on real data is in gbdt-train-parity.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  binRows,
  binThresholds,
  fitBinMapper,
  fitGbdt,
  parseGbdtHyperparameters,
  shouldStop,
  sortFloat64,
  type TrainingData,
} from "./gbdt-train.ts";
import { Sfc32 } from "./rng.ts";
import { normal } from "./test-data.ts";
import { leafOf, predictMargin, type Tree, type TreeEnsemble } from "./trees.ts";

/** One column x = 0 … n−1, label 1 from `cut` on. */
function steps(n: number, cut: number): TrainingData {
  const X = Float64Array.from({ length: n }, (_, i) => i);
  const labels = Uint8Array.from({ length: n }, (_, i) => (i >= cut ? 1 : 0));
  return { X, rows: n, cols: 1, labels };
}

/** `rows` × `cols` standard normals; label from a logistic model on the first two columns. */
function noisy(rows: number, cols: number, seed: number, signal = 1.5): TrainingData {
  const r = new Sfc32(seed);
  const X = new Float64Array(rows * cols);
  const labels = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) X[i * cols + j] = normal(r);
    const m = signal * ((X[i * cols] as number) + (X[i * cols + 1] as number) ** 2 - 1) - 1;
    labels[i] = r.float() < 1 / (1 + Math.exp(-m)) ? 1 : 0;
  }
  return { X, rows, cols, labels };
}

function row(d: TrainingData, i: number): Float64Array {
  return d.X.subarray(i * d.cols, (i + 1) * d.cols);
}

/** Weighted mean log loss of the ensemble on rows [from, to). */
function loss(e: TreeEnsemble, d: TrainingData, from: number, to: number, w?: ArrayLike<number>): number {
  let sum = 0;
  let ws = 0;
  for (let i = from; i < to; i++) {
    const m = predictMargin(e, row(d, i));
    const y = d.labels[i] as number;
    const wi = w === undefined ? 1 : (w[i] as number);
    sum += wi * (Math.max(m, 0) + Math.log1p(Math.exp(-Math.abs(m))) - y * m);
    ws += wi;
  }
  return sum / ws;
}

function depthOf(t: Tree, node = 0): number {
  if ((t.feature[node] as number) < 0) return 0;
  return 1 + Math.max(depthOf(t, t.left[node] as number), depthOf(t, t.right[node] as number));
}

function leaves(t: Tree): number {
  let n = 0;
  for (const f of t.feature) if (f < 0) n++;
  return n;
}

describe("gbdt hyperparameters", () => {
  it("fills scikit-learn's defaults", () => {
    const p = parseGbdtHyperparameters({});
    assert.equal(p.learningRate, 0.1);
    assert.equal(p.maxIter, 100);
    assert.equal(p.maxLeafNodes, 31);
    assert.equal(p.maxDepth, null);
    assert.equal(p.minSamplesLeaf, 20);
    assert.equal(p.l2Regularization, 0);
    assert.equal(p.maxBins, 255);
    assert.equal(p.nIterNoChange, 10);
    assert.equal(p.tol, 1e-7);
  });

  it("names every bad parameter", () => {
    assert.throws(
      () => parseGbdtHyperparameters({ maxLeafNodes: 1, learningRate: -0.1 }),
      (e: Error) =>
        e instanceof RangeError && /maxLeafNodes/.test(e.message) && /learningRate/.test(e.message),
    );
    assert.throws(() => parseGbdtHyperparameters({ maxBins: 256 }), /maxBins/);
    assert.throws(() => parseGbdtHyperparameters({ classWeight: { 0: 1, 1: 0 } }), /classWeight/);
    assert.throws(() => parseGbdtHyperparameters({ max_iter: 10 }), /max_iter/);
    assert.throws(() => fitGbdt(steps(100, 50), { validationFraction: 1 }), /validationFraction/);
  });

  it("rejects bad data, naming the row", () => {
    const d = steps(100, 50);
    assert.throws(
      () => fitGbdt({ ...d, labels: Uint8Array.from(d.labels, (y, i) => (i === 7 ? 2 : y)) }),
      /row 7/,
    );
    assert.throws(() => fitGbdt(steps(100, 100)), /class 0; both classes/);
    assert.throws(
      () =>
        fitGbdt({
          ...d,
          sampleWeight: Float64Array.from({ length: 100 }, (_, i) => (i === 3 ? Number.NaN : 1)),
        }),
      /sample weight of row 3/,
    );
    assert.throws(() => fitGbdt({ ...d, featureNames: ["a", "b"] }), /2 feature names for 1 columns/);
  });
});

describe("binning", () => {
  it("puts thresholds between distinct values when there are few", () => {
    assert.deepEqual(Array.from(binThresholds(Float64Array.of(1, 1, 2, 4, 4, 4), 255)), [1.5, 3]);
    assert.deepEqual(Array.from(binThresholds(Float64Array.of(5, 5), 255)), []);
  });

  it("takes numpy's midpoint percentiles when there are more values than bins", () => {
    // 1000 values 0 … 999, 4 bins: percentiles 25, 50, 75 → virtual indices 249.75, 499.5, 749.25 →
    // midpoints of the neighbours.
    const v = Float64Array.from({ length: 1000 }, (_, i) => i);
    assert.deepEqual(Array.from(binThresholds(v, 4)), [249.5, 499.5, 749.5]);
    // 5 values, 4 bins: (n−1)·q = 1, 2, 3 are whole: the values themselves.
    assert.deepEqual(Array.from(binThresholds(Float64Array.of(0, 10, 20, 30, 40), 4)), [10, 20, 30]);
  });

  it("maps x ≤ threshold to the lower bin and NaN to the missing bin", () => {
    const X = Float64Array.of(0, 1, 1.5, 2, Number.NaN, 3, 100);
    const mapper = fitBinMapper(Float64Array.of(0, 1, 2, 3), 4, 1, 255, null, 0);
    assert.deepEqual(Array.from(mapper.thresholds[0] as Float64Array), [0.5, 1.5, 2.5]);
    assert.deepEqual(Array.from(binRows(mapper, X, X.length, 1)), [0, 1, 1, 2, 255, 3, 3]);
  });

  it("stores the binned matrix column-major", () => {
    const X = Float64Array.of(0, 10, 1, 20, 2, 30); // 3 rows × 2 columns
    const mapper = fitBinMapper(X, 3, 2, 255, null, 0);
    assert.deepEqual(Array.from(binRows(mapper, X, 3, 2)), [0, 1, 2, 0, 1, 2]);
  });

  it("sorts floats as Float64Array.prototype.sort does (radix sort)", () => {
    const r = new Sfc32(3);
    for (const kind of ["normal", "integers", "mixed"]) {
      const a = Float64Array.from({ length: 20_000 }, (_, i) => {
        if (kind === "normal") return normal(r) * 1e3;
        if (kind === "integers") return Math.floor(r.float() * 24);
        return [0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-310, -1e-310, 2 ** 60][
          i % 7
        ] as number;
      });
      const expected = a.slice().sort();
      const got = sortFloat64(a.slice(), new Float64Array(a.length));
      assert.deepEqual(Array.from(got), Array.from(expected), kind);
    }
  });
});

describe("one split, by hand", () => {
  // x = 0 … 99, y = 1 for x ≥ 50. Baseline p = ½ (margin 0): gradients p − y = ±½, hessians ¼.
  // The best split is x ≤ 49.5: G_L = 50·½ = 25, H_L = 12.5, G_R = −25, H_R = 12.5.
  it("finds the threshold, the gain, the leaf values and the covers", () => {
    const fit = fitGbdt(steps(100, 50), { maxIter: 1, maxLeafNodes: 2, minSamplesLeaf: 1, learningRate: 1 });
    const t = fit.ensemble.trees[0] as Tree;
    assert.equal(fit.ensemble.baseMargin, 0);
    assert.equal(t.feature[0], 0);
    assert.equal(t.threshold[0], 49.5);
    // gain = G_L²/H_L + G_R²/H_R − G²/H = 50 + 50 − 0
    assert.ok(Math.abs((t.gain?.[0] as number) - 100) < 1e-9, `gain ${t.gain?.[0]}`);
    const l = t.left[0] as number;
    const r = t.right[0] as number;
    assert.ok(Math.abs((t.value[l] as number) + 2) < 1e-12, `left value ${t.value[l]}`); // −G/H = −25/12.5
    assert.ok(Math.abs((t.value[r] as number) - 2) < 1e-12);
    assert.equal(t.cover[0], 25);
    assert.equal(t.cover[l], 12.5);
    assert.equal(t.cover[r], 12.5);
    assert.equal(fit.ensemble.split, "le");
    assert.equal(predictMargin(fit.ensemble, [49.5]), t.value[l]);
    assert.equal(predictMargin(fit.ensemble, [49.6]), t.value[r]);
  });

  it("shrinks values by the learning rate and the L2 penalty", () => {
    const fit = fitGbdt(steps(100, 50), {
      maxIter: 1,
      maxLeafNodes: 2,
      minSamplesLeaf: 1,
      learningRate: 0.3,
      l2Regularization: 5,
    });
    const t = fit.ensemble.trees[0] as Tree;
    // −G/(H + λ) · η = −25/17.5 · 0.3; gain = 2 · 25²/17.5 − 0
    assert.ok(Math.abs((t.value[t.left[0] as number] as number) + (25 / 17.5) * 0.3) < 1e-12);
    assert.ok(Math.abs((t.gain?.[0] as number) - (2 * 625) / 17.5) < 1e-9);
  });

  it("starts from the log-odds of the prior", () => {
    const fit = fitGbdt(steps(100, 80), { maxIter: 1 });
    assert.ok(Math.abs(fit.ensemble.baseMargin - Math.log(20 / 80)) < 1e-12);
  });

  it("respects minSamplesLeaf: the split moves to keep 30 rows a side", () => {
    const fit = fitGbdt(steps(100, 10), { maxIter: 1, maxLeafNodes: 2, minSamplesLeaf: 30 });
    assert.equal(fit.ensemble.trees[0]?.threshold[0], 29.5);
    const none = fitGbdt(steps(100, 10), { maxIter: 1, minSamplesLeaf: 51 });
    assert.equal(none.ensemble.trees[0]?.feature.length, 1, "no split leaves 51 rows on both sides");
  });
});

describe("missing values", () => {
  // 400 rows, x uniform in [0, 1), a quarter of them missing.
  function withMissing(label: (x: number) => number): TrainingData {
    const r = new Sfc32(5);
    const X = new Float64Array(400);
    const labels = new Uint8Array(400);
    for (let i = 0; i < 400; i++) {
      const x = i % 4 === 0 ? Number.NaN : r.float();
      X[i] = x;
      labels[i] = label(x);
    }
    return { X, rows: 400, cols: 1, labels };
  }
  const stump = { maxIter: 1, maxLeafNodes: 2, minSamplesLeaf: 5, learningRate: 1 };

  it("splits on missingness alone: non-missing left (x ≤ +∞), missing right", () => {
    const fit = fitGbdt(
      withMissing((x) => (Number.isNaN(x) ? 1 : 0)),
      stump,
    );
    const t = fit.ensemble.trees[0] as Tree;
    assert.equal(t.threshold[0], Number.POSITIVE_INFINITY);
    assert.equal(t.missingLeft[0], 0);
    assert.ok(predictMargin(fit.ensemble, [Number.NaN]) > 0);
    assert.ok(predictMargin(fit.ensemble, [0.5]) < 0);
  });

  it("sends missing values to the side that gains more", () => {
    // Positives: x < 0.3 and missing. Missing must go left with the low values.
    const left = fitGbdt(
      withMissing((x) => (Number.isNaN(x) || x < 0.3 ? 1 : 0)),
      stump,
    ).ensemble.trees[0] as Tree;
    assert.ok(Math.abs((left.threshold[0] as number) - 0.3) < 0.02, `threshold ${left.threshold[0]}`);
    assert.equal(left.missingLeft[0], 1);
    // Positives: x > 0.7 and missing: missing goes right.
    const right = fitGbdt(
      withMissing((x) => (Number.isNaN(x) || x > 0.7 ? 1 : 0)),
      stump,
    ).ensemble.trees[0] as Tree;
    assert.ok(Math.abs((right.threshold[0] as number) - 0.7) < 0.02);
    assert.equal(right.missingLeft[0], 0);
  });

  it("sends missing values to the larger child when training had none", () => {
    const small = fitGbdt(steps(100, 30), stump).ensemble; // split at 29.5: 30 left, 70 right
    assert.equal(small.trees[0]?.missingLeft[0], 0);
    assert.equal(predictMargin(small, [Number.NaN]), predictMargin(small, [99]));
    const large = fitGbdt(steps(100, 70), stump).ensemble; // 70 left
    assert.equal(large.trees[0]?.missingLeft[0], 1);
    assert.equal(predictMargin(large, [Number.NaN]), predictMargin(large, [0]));
  });
});

describe("class weights", () => {
  // Values rounded to 0.1 (fewer distinct values than bins), so duplicating rows leaves the bins alone.
  const raw = noisy(3000, 4, 11);
  const d = { ...raw, X: raw.X.map((v) => Math.round(v * 10) / 10) };
  let pos = 0;
  for (let i = 0; i < d.rows; i++) pos += d.labels[i] as number;
  const opts = { maxIter: 20, minSamplesLeaf: 1, earlyStopping: false } as const;

  it('"balanced" is n / (2 · class count) per row, and its prior margin is 0', () => {
    const balanced = fitGbdt(d, { ...opts, classWeight: "balanced" });
    const explicit = fitGbdt(d, {
      ...opts,
      classWeight: { 0: 3000 / (2 * (3000 - pos)), 1: 3000 / (2 * pos) },
    });
    assert.deepEqual(balanced.ensemble, explicit.ensemble);
    assert.ok(Math.abs(balanced.ensemble.baseMargin) < 1e-12);
    const w = Float64Array.from(d.labels, (y) => (y === 1 ? 3000 / (2 * pos) : 3000 / (2 * (3000 - pos))));
    const weighted = fitGbdt({ ...d, sampleWeight: w }, opts);
    assert.deepEqual(weighted.ensemble, balanced.ensemble);
    // The report's losses are weighted means.
    const last = balanced.report.trainLoss.at(-1) as number;
    assert.ok(Math.abs(last - loss(balanced.ensemble, d, 0, 3000, w)) < 1e-12);
  });

  it("a weight of 2 on positives fits as if each positive row were there twice", () => {
    const weighted = fitGbdt(d, { ...opts, classWeight: { 0: 1, 1: 2 } }).ensemble;
    const n2 = 3000 + pos;
    const X = new Float64Array(n2 * 4);
    const labels = new Uint8Array(n2);
    let k = 0;
    for (let i = 0; i < 3000; i++) {
      for (let c = 0; c < (d.labels[i] === 1 ? 2 : 1); c++) {
        X.set(row(d, i), k * 4);
        labels[k++] = d.labels[i] as number;
      }
    }
    const doubled = fitGbdt({ X, rows: n2, cols: 4, labels }, opts).ensemble;
    assert.ok(Math.abs(weighted.baseMargin - Math.log((2 * pos) / (3000 - pos))) < 1e-12);
    let maxDiff = 0;
    for (let i = 0; i < 3000; i++)
      maxDiff = Math.max(
        maxDiff,
        Math.abs(predictMargin(weighted, row(d, i)) - predictMargin(doubled, row(d, i))),
      );
    assert.ok(maxDiff < 1e-6, `margins differ by ${maxDiff}`);
  });
});

describe("growth", () => {
  const d = noisy(5000, 5, 21);

  it("stops at maxLeafNodes (leaf-wise) and at maxDepth", () => {
    for (const maxLeafNodes of [2, 7, 31]) {
      const fit = fitGbdt(d, { maxIter: 3, maxLeafNodes, minSamplesLeaf: 5 });
      for (const t of fit.ensemble.trees) assert.equal(leaves(t), maxLeafNodes);
    }
    const shallow = fitGbdt(d, { maxIter: 3, maxLeafNodes: null, maxDepth: 3, minSamplesLeaf: 5 });
    for (const t of shallow.ensemble.trees) {
      assert.equal(depthOf(t), 3);
      assert.equal(leaves(t), 8);
    }
  });

  it("grows depth-wise level by level", () => {
    const fit = fitGbdt(d, { maxIter: 2, growth: "depthwise", maxLeafNodes: 6, minSamplesLeaf: 5 });
    for (const t of fit.ensemble.trees) {
      // 6 leaves level by level: the root's two children, their four, then two of those split: depth 3.
      assert.equal(leaves(t), 6);
      assert.equal(depthOf(t), 3);
    }
    const leafwise = fitGbdt(d, { maxIter: 1, maxLeafNodes: 6, minSamplesLeaf: 5 }).ensemble.trees[0] as Tree;
    assert.ok(depthOf(leafwise) >= 3);
  });

  it("keeps minSamplesLeaf training rows in every leaf, and children after parents", () => {
    const fit = fitGbdt(d, { maxIter: 5, minSamplesLeaf: 40, maxLeafNodes: 63 });
    for (const t of fit.ensemble.trees) {
      const counts = new Map<number, number>();
      for (let i = 0; i < d.rows; i++) {
        const leaf = leafOf(t, "le", row(d, i));
        counts.set(leaf, (counts.get(leaf) ?? 0) + 1);
      }
      for (const [, c] of counts) assert.ok(c >= 40, `a leaf holds ${c} rows`);
      for (let k = 0; k < t.feature.length; k++) {
        if ((t.feature[k] as number) < 0) continue;
        assert.ok((t.left[k] as number) > k && (t.right[k] as number) > k);
        // cover adds up: a parent's hessian sum is its children's
        const sum = (t.cover[t.left[k] as number] as number) + (t.cover[t.right[k] as number] as number);
        assert.ok(Math.abs((t.cover[k] as number) - sum) < 1e-9 * (t.cover[k] as number));
      }
    }
  });

  it("reports training losses that the ensemble's own margins reproduce", () => {
    const fit = fitGbdt(d, { maxIter: 30 });
    const r = fit.report;
    assert.equal(r.trainLoss.length, 31);
    assert.ok(Math.abs((r.trainLoss.at(-1) as number) - loss(fit.ensemble, d, 0, d.rows)) < 1e-12);
    for (let k = 1; k < r.trainLoss.length; k++)
      assert.ok(
        (r.trainLoss[k] as number) < (r.trainLoss[k - 1] as number),
        "training loss falls every iteration",
      );
  });

  it("is deterministic for a seed; the seed draws the binning subsample", () => {
    const p = { maxIter: 10, binSubsample: 500 };
    const a = fitGbdt(d, { ...p, seed: 1 });
    const b = fitGbdt(d, { ...p, seed: 1 });
    assert.deepEqual(a.ensemble, b.ensemble);
    assert.deepEqual(a.report.trainLoss, b.report.trainLoss);
    const c = fitGbdt(d, { ...p, seed: 2 });
    assert.notDeepEqual(a.ensemble.trees[0]?.threshold, c.ensemble.trees[0]?.threshold);
    // Without subsampling the seed has no effect at all.
    assert.deepEqual(
      fitGbdt(d, { maxIter: 5, seed: 1 }).ensemble,
      fitGbdt(d, { maxIter: 5, seed: 9 }).ensemble,
    );
  });

  it("reports timings from the caller's clock only", () => {
    assert.equal(fitGbdt(steps(100, 50), { maxIter: 2 }).report.timeMs, null);
    let t = 0;
    const timed = fitGbdt(steps(100, 50), { maxIter: 2 }, { clock: () => t++ });
    assert.ok((timed.report.timeMs?.total as number) > 0);
  });
});

describe("early stopping", () => {
  it("applies scikit-learn's rule: no loss among the last n below the one before them by more than tol", () => {
    assert.equal(shouldStop([1, 0.9, 0.8], 2, 0), false);
    assert.equal(shouldStop([1, 0.9, 0.95, 0.91], 2, 0), true);
    assert.equal(shouldStop([1, 0.9, 0.95, 0.89], 2, 0), false);
    assert.equal(shouldStop([1, 0.9, 0.95, 0.89], 2, 0.02), true);
    assert.equal(shouldStop([1, 0.9], 2, 0), false);
  });

  it("holds out the last rows, in order, and stops when their loss stops falling", () => {
    // Labels are noise: trees only overfit, so the validation loss rises after a few iterations.
    const r = new Sfc32(8);
    const rows = 20_000;
    const d = noisy(rows, 6, 31, 0);
    const labels = Uint8Array.from({ length: rows }, () => (r.float() < 0.3 ? 1 : 0));
    const data = { ...d, labels };
    const fit = fitGbdt(data, { maxIter: 200, minSamplesLeaf: 5, keepBestIteration: false });
    const rep = fit.report;
    assert.equal(rep.validationRows, 2000);
    assert.equal(rep.trainRows, 18_000);
    assert.ok(rep.earlyStopped);
    assert.ok(rep.iterationsRun < 200);
    assert.equal(rep.validationLoss?.length, rep.iterationsRun + 1);
    assert.equal(
      rep.iterationsRun,
      (rep.bestIteration as number) + 10,
      "stops n_iter_no_change after the best",
    );
    // The reported validation loss is the ensemble's on the last 2,000 rows.
    assert.ok(
      Math.abs((rep.validationLoss?.at(-1) as number) - loss(fit.ensemble, data, 18_000, rows)) < 1e-12,
    );
    // Kept to the best iteration by default.
    const best = fitGbdt(data, { maxIter: 200, minSamplesLeaf: 5 });
    assert.equal(best.ensemble.trees.length, best.report.bestIteration);
    assert.deepEqual(best.ensemble.trees, fit.ensemble.trees.slice(0, best.report.bestIteration as number));
  });

  it("is on by default above 10,000 rows only", () => {
    assert.equal(fitGbdt(noisy(10_000, 3, 1), { maxIter: 2 }).report.validationRows, 0);
    assert.equal(fitGbdt(noisy(10_001, 3, 1), { maxIter: 2 }).report.validationRows, 1001);
    assert.equal(fitGbdt(noisy(500, 3, 1), { maxIter: 2, earlyStopping: true }).report.validationRows, 50);
  });
});
