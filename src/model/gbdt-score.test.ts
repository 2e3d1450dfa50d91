import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileEnsemble, lessThanFloat32Threshold, marginBatch, probabilityBatch } from "./gbdt-score.ts";
import { randomEnsemble, randomRows } from "./gbdt-test-trees.ts";
import { checkEnsemble, predictMargin, sigmoid, type TreeEnsemble } from "./trees.ts";

function reference(e: TreeEnsemble, X: Float64Array, n: number): Float64Array {
  const width = e.featureNames.length;
  return Float64Array.from({ length: n }, (_, i) => predictMargin(e, X.subarray(i * width, (i + 1) * width)));
}

function firstDifference(a: Float64Array, b: Float64Array): string | undefined {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `row ${i}: ${a[i]} vs ${b[i]}`;
  return undefined;
}

describe("compiled boosted-trees scoring", () => {
  it("equals predictMargin bit for bit on random ensembles, both split tests, any batch size", () => {
    let cases = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const split = seed % 2 === 0 ? "le" : "lt-f32";
      const e = randomEnsemble(seed, {
        trees: 1 + (seed % 23),
        maxDepth: 1 + (seed % 8),
        nFeatures: 1 + (seed % 6),
        split,
        leafChance: (seed % 4) * 0.15,
      });
      assert.equal(checkEnsemble(e), undefined);
      const c = compileEnsemble(e);
      // Sizes around the eight-row groups and the block length (the leftover-row path and block ends).
      for (const n of [0, 1, 7, 8, 9, 17, c.blockRows - 1, c.blockRows + 3, 2 * c.blockRows + 13]) {
        const X = randomRows(e, n, seed * 1000 + n);
        const want = reference(e, X, n);
        const got = new Float64Array(n);
        marginBatch(c, X, n, got);
        assert.equal(firstDifference(got, want), undefined, `seed ${seed} (${split}), n ${n}`);
        const p = new Float64Array(n);
        probabilityBatch(c, X, n, p);
        assert.equal(firstDifference(p, want.map(sigmoid)), undefined);
        cases += n;
      }
    }
    assert.ok(cases > 10_000);
  });

  it("handles infinite thresholds and infinite values in the data exactly", () => {
    for (const split of ["le", "lt-f32"] as const) {
      for (let seed = 100; seed < 110; seed++) {
        const base = randomEnsemble(seed, { trees: 12, maxDepth: 5, nFeatures: 3, split, leafChance: 0.1 });
        // Every third split at +∞ (every number left; NaN as missingLeft says), every fifth at −∞ ("le").
        const e: TreeEnsemble = {
          ...base,
          trees: base.trees.map((t) => ({
            ...t,
            threshold: t.threshold.map((th, k) =>
              k % 3 === 0
                ? Number.POSITIVE_INFINITY
                : k % 5 === 0 && split === "le"
                  ? Number.NEGATIVE_INFINITY
                  : th,
            ),
          })),
        };
        const n = 300;
        const X = randomRows(e, n, seed);
        for (let i = 0; i < X.length; i += 7)
          X[i] = i % 2 === 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
        const got = new Float64Array(n);
        marginBatch(compileEnsemble(e), X, n, got);
        assert.equal(firstDifference(got, reference(e, X, n)), undefined, `${split} seed ${seed}`);
      }
    }
  });

  it("turns float32(x) < t into an exact x <= t′", () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const probes = [
      0, -0, 1, -1, 0.1, -0.1, 1e-40, -1e-40, 3.4028234663852886e38, -3.4028234663852886e38, 1.7e9,
    ];
    for (const p of probes) {
      const t = Math.fround(p);
      const tp = lessThanFloat32Threshold(t);
      // Every x near t′ (both sides) and near t must decide as float32(x) < t does.
      for (const x0 of [tp, t, (t + tp) / 2]) {
        for (let s = -4; s <= 4; s++) {
          const x = x0 + s * Math.max(Math.abs(x0), 1e-300) * 2 ** -52;
          assert.equal(x <= tp, Math.fround(x) < t, `t ${t}, x ${x}`);
        }
      }
      // float32 neighbours of t: the one below goes left, t itself does not.
      f[0] = t;
      if (t !== 0 && Math.abs(t) < 3e38) {
        u[0] = t > 0 ? (u[0] as number) - 1 : (u[0] as number) + 1;
        assert.ok((f[0] as number) <= tp && !(t <= tp));
      }
    }
    // Beyond the float32 range: values that round to −∞ are below the smallest float32.
    assert.equal(-1e39 <= lessThanFloat32Threshold(-3.4028234663852886e38), true);
    assert.equal(-3.4028234663852886e38 <= lessThanFloat32Threshold(-3.4028234663852886e38), false);
  });

  it("a compiled layout that flips the NaN direction is caught (the test can fail)", () => {
    const e = randomEnsemble(5, { trees: 10, maxDepth: 4, nFeatures: 3, split: "le" });
    const flipped: TreeEnsemble = {
      ...e,
      trees: e.trees.map((t) => ({ ...t, missingLeft: t.missingLeft.map((m) => 1 - m) })),
    };
    const X = randomRows(e, 200, 9);
    const got = new Float64Array(200);
    marginBatch(compileEnsemble(flipped), X, 200, got);
    assert.notEqual(firstDifference(got, reference(e, X, 200)), undefined);
  });

  it("refuses what it cannot score, naming the node", () => {
    const e = randomEnsemble(3, { trees: 2, maxDepth: 2, nFeatures: 2, split: "le" });
    const bad = {
      ...e,
      trees: [e.trees[0], { ...e.trees[1], feature: Int32Array.of(5, -1, -1, -1, -1, -1, -1) }],
    };
    assert.throws(
      () => compileEnsemble(bad as TreeEnsemble),
      /tree 1 node 0: feature 5 is not one of the 2 columns/,
    );
    const c = compileEnsemble(e);
    assert.throws(
      () => marginBatch(c, new Float64Array(3), 2, new Float64Array(2)),
      /2 rows × 2 columns need 4/,
    );
  });
});
