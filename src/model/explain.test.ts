import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { explainRow } from "./explain.ts";
import { averagePathLength, IsolationForest, pathLengthSums } from "./iforest.ts";
import { gaussianRows } from "./test-data.ts";

describe("explainRow", () => {
  const X = gaussianRows(2000, 2, 31);
  const forest = new IsolationForest({ seed: 4 }).fit(X, 2000, 2);
  const names = ["f0", "f1"];

  it("ranks first the one feature on which a planted point lies far out", () => {
    for (const [row, first] of [
      [[0.1, 7], "f1"],
      [[0.2, -6], "f1"],
      [[8, -0.3], "f0"],
      [[-7, 0], "f0"],
    ] as const) {
      const e = explainRow(forest, row, names);
      assert.equal(e.features[0]?.feature, first, JSON.stringify(e));
      assert.equal(e.features[0]?.value, row[first === "f0" ? 0 : 1]);
      assert.ok((e.features[0]?.contribution ?? 0) > 0.6, JSON.stringify(e));
      assert.ok(e.levelsSaved > 2, "an outlier isolates well before c(ψ)");
    }
  });

  it("splits the credit between both features of a point out on both", () => {
    const e = explainRow(forest, [6, 6], names);
    for (const f of e.features) assert.ok(f.contribution > 0.3, JSON.stringify(e));
  });

  it("decomposes c(ψ) − E[h(x)] exactly, and shares sum to one in absolute value", () => {
    const rows = [
      [0, 0],
      [0.5, -1],
      [3, 0.2],
      [-2.5, 2.5],
    ];
    for (const row of rows) {
      const e = explainRow(forest, row, names);
      const sum = new Float64Array(1);
      pathLengthSums(forest.layout, Float64Array.from(row), 1, sum);
      const expected = averagePathLength(256) - (sum[0] as number) / 100;
      assert.ok(Math.abs(e.levelsSaved - expected) < 1e-9, `${e.levelsSaved} vs ${expected}`);
      const parts = e.features.reduce((a, f) => a + f.levelsSaved, 0);
      assert.ok(Math.abs(parts - e.levelsSaved) < 1e-9);
      const shares = e.features.reduce((a, f) => a + Math.abs(f.contribution), 0);
      assert.ok(Math.abs(shares - 1) < 1e-12);
    }
    const centre = explainRow(forest, [0, 0], names);
    assert.ok(centre.levelsSaved < 0, "a central point takes longer than average to isolate");
  });

  it("ranks the planted feature first among many", () => {
    const W = 8;
    const wide = gaussianRows(3000, W, 5);
    const f = new IsolationForest({ seed: 9 }).fit(wide, 3000, W);
    const cols = Array.from({ length: W }, (_, i) => `c${i}`);
    for (let planted = 0; planted < W; planted++) {
      const row = new Float64Array(W).fill(0.3);
      row[planted] = planted % 2 === 0 ? 7 : -7;
      const e = explainRow(f, row, cols);
      assert.equal(e.features[0]?.index, planted, JSON.stringify(e.features.slice(0, 3)));
    }
  });

  it("checks its inputs", () => {
    assert.throws(() => explainRow(forest, [1, 2], ["only"]), /2 features; 1 names/);
    assert.throws(() => explainRow(forest, [1], names), /1 values, 2 needed/);
  });
});
