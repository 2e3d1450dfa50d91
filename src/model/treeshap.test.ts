import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { randomEnsemble, randomRows } from "./gbdt-test-trees.ts";
import { predictMargin, type Tree, type TreeEnsemble } from "./trees.ts";
import { TreeShap } from "./treeshap.ts";

function left(e: TreeEnsemble, tree: Tree, k: number, x: number): boolean {
  if (Number.isNaN(x)) return tree.missingLeft[k] === 1;
  const t = tree.threshold[k] as number;
  return e.split === "le" ? x <= t : Math.fround(x) < t;
}

/** v(S): E[f(x) | x_S] with unknown features integrated out by cover, straight from the definition. */
function conditional(e: TreeEnsemble, row: ArrayLike<number>, known: number): number {
  let sum = e.baseMargin;
  for (const tree of e.trees) {
    const walk = (k: number): number => {
      const f = tree.feature[k] as number;
      if (f < 0) return tree.value[k] as number;
      const l = tree.left[k] as number;
      const r = tree.right[k] as number;
      if ((known >> f) & 1) return walk(left(e, tree, k, row[f] as number) ? l : r);
      const c = tree.cover[k] as number;
      return ((tree.cover[l] as number) / c) * walk(l) + ((tree.cover[r] as number) / c) * walk(r);
    };
    sum += walk(0);
  }
  return sum;
}

/** Shapley values by enumerating every subset of the other features. */
function bruteForce(e: TreeEnsemble, row: ArrayLike<number>): Float64Array {
  const m = e.featureNames.length;
  const fact = [1];
  for (let i = 1; i <= m; i++) fact.push((fact[i - 1] as number) * i);
  const v = Float64Array.from({ length: 1 << m }, (_, s) => conditional(e, row, s));
  const phi = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    for (let s = 0; s < 1 << m; s++) {
      if ((s >> i) & 1) continue;
      let size = 0;
      for (let b = s; b > 0; b >>= 1) size += b & 1;
      const w = ((fact[size] as number) * (fact[m - size - 1] as number)) / (fact[m] as number);
      phi[i] = (phi[i] as number) + w * ((v[s | (1 << i)] as number) - (v[s] as number));
    }
  }
  return phi;
}

describe("TreeSHAP", () => {
  it("equals brute-force Shapley values and adds up to the margin, on random trees", () => {
    let rows = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const e = randomEnsemble(seed, {
        trees: 1 + (seed % 5),
        maxDepth: 1 + (seed % 6),
        // Few features, so paths split on one feature more than once (the UNWIND case).
        nFeatures: 1 + (seed % 5),
        split: seed % 2 === 0 ? "le" : "lt-f32",
        leafChance: (seed % 3) * 0.2,
      });
      const shap = new TreeShap(e);
      assert.ok(Math.abs(shap.expectedMargin - conditional(e, [], 0)) <= 1e-12);
      const width = e.featureNames.length;
      const X = randomRows(e, 25, seed);
      for (let i = 0; i < 25; i++) {
        const row = X.subarray(i * width, (i + 1) * width);
        const phi = shap.contributions(row);
        const want = bruteForce(e, row);
        for (let f = 0; f < width; f++) {
          assert.ok(
            Math.abs((phi[f] as number) - (want[f] as number)) <= 1e-9,
            `seed ${seed} row ${i} f${f}: ${phi[f]} vs ${want[f]}`,
          );
        }
        const sum = phi.reduce((a, b) => a + b, shap.expectedMargin);
        assert.ok(Math.abs(sum - predictMargin(e, row)) <= 1e-9, `seed ${seed} row ${i}: Σ ${sum}`);
        rows++;
      }
    }
    assert.equal(rows, 750);
  });

  it("adds up to the margin on deep, wide ensembles too", () => {
    const e = randomEnsemble(77, {
      trees: 60,
      maxDepth: 10,
      nFeatures: 12,
      split: "lt-f32",
      leafChance: 0.1,
    });
    const shap = new TreeShap(e);
    const X = randomRows(e, 50, 3);
    for (let i = 0; i < 50; i++) {
      const row = X.subarray(i * 12, (i + 1) * 12);
      const sum = shap.contributions(row).reduce((a, b) => a + b, shap.expectedMargin);
      assert.ok(Math.abs(sum - predictMargin(e, row)) <= 1e-9);
    }
  });

  it("the brute force catches a wrong attribution (the test can fail)", () => {
    const e = randomEnsemble(4, { trees: 3, maxDepth: 3, nFeatures: 3, split: "le" });
    // Covers that disagree with the ones TreeSHAP reads change the game: its values must differ.
    const skewed: TreeEnsemble = {
      ...e,
      trees: e.trees.map((t) => ({ ...t, cover: t.cover.map((c, k) => c * (1 + (k % 3))) })),
    };
    const row = randomRows(e, 1, 8);
    const phi = new TreeShap(skewed).contributions(row);
    const want = bruteForce(e, row);
    assert.ok(phi.some((p, f) => Math.abs(p - (want[f] as number)) > 1e-6));
  });
});
