import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FEATURE_NAMES, FEATURE_SET_VERSION } from "../features/registry.ts";
import { loadModel, ModelFormatError, saveModel } from "./format.ts";
import { GBDT_FORMAT, type GbdtMetaInput, loadGbdtModel, saveGbdtModel } from "./gbdt-format.ts";
import { GbdtScorer } from "./gbdt-scorer.ts";
import { randomEnsemble, randomRows } from "./gbdt-test-trees.ts";
import { fitGbdt } from "./gbdt-train.ts";
import { IsolationForest } from "./iforest.ts";
import { IsolationForestScorer } from "./iforest-scorer.ts";
import { loadAnyModel, scorerFromModelFile } from "./model-file.ts";
import { servingScorer } from "./serving.ts";
import { gaussianRows } from "./test-data.ts";
import { predictMargin, sigmoid, type TreeEnsemble } from "./trees.ts";

const ensemble = randomEnsemble(11, {
  trees: 25,
  maxDepth: 5,
  nFeatures: 4,
  split: "lt-f32",
  leafChance: 0.2,
});
const meta: GbdtMetaInput = {
  modelVersion: "gbdt-test-1",
  featureSetVersion: "fs-test",
  hyperparameters: { rounds: 25, maxDepth: 5, eta: 0.3, note: null, list: [1, "a"] },
  training: {
    rows: 1000,
    timeRange: { from: "2026-11-01T00:00:00Z", to: "2026-11-08T00:00:00Z" },
    trainedAt: "2026-12-01T10:00:00+01:00",
    trainer: "fraudstream",
    source: "unit test",
  },
  scoreThreshold: 0.7,
};
const text = saveGbdtModel(ensemble, meta);

type Raw = Record<string, unknown> & { ensemble: Record<string, unknown> };
function edit(change: (file: Raw) => void): string {
  const file = JSON.parse(text) as Raw;
  change(file);
  return JSON.stringify(file);
}

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ModelFormatError, `expected a ModelFormatError, got ${String(e)}`);
    return `${e.problem}: ${e.message}`;
  }
  assert.fail("no error");
}

function margins(e: TreeEnsemble, X: Float64Array, n: number): Float64Array {
  const w = e.featureNames.length;
  return Float64Array.from({ length: n }, (_, i) => predictMargin(e, X.subarray(i * w, (i + 1) * w)));
}

describe("boosted-trees model file", () => {
  it("round-trips the trees and metadata; the scorer gives sigmoid(margin)", () => {
    const { ensemble: back, meta: m } = loadGbdtModel(text, {
      expectFeatures: ["f0", "f1", "f2", "f3"],
      expectFeatureSetVersion: "fs-test",
    });
    assert.equal(back.split, "lt-f32");
    assert.equal(back.baseMargin, ensemble.baseMargin);
    assert.equal(back.trees.length, 25);
    for (let t = 0; t < 25; t++) {
      const a = back.trees[t];
      const b = ensemble.trees[t];
      assert.ok(a !== undefined && b !== undefined);
      assert.deepEqual(a.feature, b.feature);
      assert.deepEqual(a.threshold, b.threshold);
      assert.deepEqual(a.missingLeft, b.missingLeft);
      assert.deepEqual(a.value, b.value);
      assert.deepEqual(a.cover, b.cover);
    }
    assert.deepEqual(m.hyperparameters, meta.hyperparameters);
    assert.deepEqual(m.training, meta.training);
    assert.equal(m.scoreThreshold, 0.7);
    assert.equal(m.metrics, null);
    const X = randomRows(ensemble, 300, 2);
    const scorer = GbdtScorer.fromModelFile(text);
    assert.equal(scorer.version, "gbdt-test-1");
    assert.equal(scorer.threshold, 0.7);
    const out = new Float64Array(300);
    scorer.scoreBatch(X, 300, out);
    assert.deepEqual(out, margins(ensemble, X, 300).map(sigmoid));
  });

  it("keeps split gains when the ensemble has them, and leaves them out when not", () => {
    assert.equal("gain" in (JSON.parse(text) as Raw).ensemble, false);
    assert.equal(loadGbdtModel(text).ensemble.trees[0]?.gain, undefined);
    const withGain: TreeEnsemble = {
      ...ensemble,
      trees: ensemble.trees.map((t) => ({
        ...t,
        gain: Float64Array.from(t.feature, (f, k) => (f < 0 ? 0 : k + 0.5)),
      })),
    };
    const back = loadGbdtModel(saveGbdtModel(withGain, meta)).ensemble;
    for (let t = 0; t < 25; t++)
      assert.deepEqual(back.trees[t]?.gain, Float64Array.from(withGain.trees[t]?.gain ?? []));
  });

  it("saves what the trainer fits; the loaded scorer and TreeSHAP agree with the trained ensemble", () => {
    const rows = 2000;
    const X = gaussianRows(rows, 3, 4);
    for (let i = 0; i < X.length; i += 11) X[i] = Number.NaN;
    const labels = Float64Array.from({ length: rows }, (_, i) =>
      (X[i * 3] as number) + (X[i * 3 + 1] as number) > 0.5 ? 1 : 0,
    );
    const { ensemble: fitted, report } = fitGbdt(
      { X, rows, cols: 3, labels, featureNames: ["a", "b", "c"] },
      { maxIter: 20, earlyStopping: false },
    );
    const saved = saveGbdtModel(fitted, { ...meta, hyperparameters: report.hyperparameters });
    const scorer = GbdtScorer.fromModelFile(saved, { expectFeatures: ["a", "b", "c"] });
    const out = new Float64Array(rows);
    scorer.scoreBatch(X, rows, out);
    assert.deepEqual(out, margins(fitted, X, rows).map(sigmoid));
    const e = scorer.explain(X.subarray(0, 3));
    assert.ok(Math.abs(e.features.reduce((s, f) => s + f.contribution, e.expectedMargin) - e.margin) <= 1e-9);
    assert.ok(scorer.ensemble.trees.every((t) => t.gain !== undefined));
  });

  it("explains a row with TreeSHAP values that add up to its margin", () => {
    const scorer = GbdtScorer.fromModelFile(text);
    const X = randomRows(ensemble, 20, 5);
    for (let i = 0; i < 20; i++) {
      const row = X.subarray(i * 4, (i + 1) * 4);
      const e = scorer.explain(row);
      assert.equal(e.margin, predictMargin(ensemble, row));
      assert.equal(e.probability, sigmoid(e.margin));
      const sum = e.features.reduce((s, f) => s + f.contribution, e.expectedMargin);
      assert.ok(Math.abs(sum - e.margin) <= 1e-9);
      for (let k = 1; k < e.features.length; k++) {
        assert.ok((e.features[k - 1]?.contribution as number) >= (e.features[k]?.contribution as number));
      }
      for (const f of e.features) assert.equal(f.feature, `f${f.index}`);
    }
  });

  it("one loader and the serving scorer take both kinds by their format", () => {
    const forest = new IsolationForest({ nEstimators: 10, seed: 3 }).fit(gaussianRows(200, 2, 1), 200, 2);
    const forestText = saveModel(forest, {
      modelVersion: "if-1",
      featureNames: ["a", "b"],
      featureSetVersion: null,
      training: {
        rows: 200,
        timeRange: null,
        trainedAt: "2026-12-01T00:00:00Z",
        trainer: "fraudstream",
        source: null,
      },
    });
    assert.equal(loadAnyModel(forestText).kind, "isolation-forest");
    assert.equal(loadAnyModel(text).kind, "gbdt");
    assert.ok(scorerFromModelFile(forestText) instanceof IsolationForestScorer);
    assert.ok(scorerFromModelFile(text) instanceof GbdtScorer);
    assert.match(
      problem(() => loadAnyModel('{"format":"other"}')),
      /^not_a_model: .*fraudstream.isolation-forest, fraudstream.gbdt/,
    );
    assert.match(
      problem(() => loadModel(text)),
      /^not_a_model: not a fraudstream.isolation-forest file \(format is "fraudstream.gbdt"\)/,
    );
    // Served: the worker's feature set and features only.
    assert.match(
      problem(() => servingScorer(text)),
      /^feature_set_mismatch: /,
    );
    const names = FEATURE_NAMES.slice(0, 4);
    const served = saveGbdtModel(
      { ...ensemble, featureNames: names },
      { ...meta, featureSetVersion: FEATURE_SET_VERSION },
    );
    const s = servingScorer(served);
    assert.ok(s instanceof GbdtScorer);
    assert.deepEqual(s.featureNames, names);
    assert.deepEqual(s.model.params, meta.hyperparameters);
  });

  it("names the path of what is wrong", () => {
    assert.match(
      problem(() => loadGbdtModel("{")),
      /^not_json: /,
    );
    assert.match(
      problem(() => loadGbdtModel(edit((f) => Object.assign(f, { formatVersion: 2 })))),
      /^unsupported_version: fraudstream.gbdt format version 2/,
    );
    assert.match(
      problem(() => loadGbdtModel(edit((f) => Object.assign(f, { modelVersion: "" })))),
      /^invalid: .*modelVersion: /,
    );
    assert.match(
      problem(() => loadGbdtModel(edit((f) => Object.assign(f.ensemble, { split: "lt" })))),
      /^invalid: .*ensemble\.split: /,
    );
    assert.match(
      problem(() => loadGbdtModel(edit((f) => Object.assign(f.ensemble, { objective: "multi:softmax" })))),
      /^invalid: .*ensemble\.objective: /,
    );
    assert.match(
      problem(() =>
        loadGbdtModel(
          edit((f) => Object.assign(f, { training: { ...(f.training as object), trainedAt: "yesterday" } })),
        ),
      ),
      /^invalid: .*training\.trainedAt: /,
    );
    assert.match(
      problem(() => loadGbdtModel(edit((f) => Object.assign(f, { featureNames: ["a"] })))),
      /^invalid: featureNames has 1 names but the ensemble has 4/,
    );
    const value = (JSON.parse(text) as Raw).ensemble.value as Record<string, unknown>;
    assert.match(
      problem(() =>
        loadGbdtModel(edit((f) => Object.assign(f.ensemble, { value: { ...value, base64: "@@@@" } }))),
      ),
      /^corrupt_array: ensemble\.value: not valid base64/,
    );
    assert.match(
      problem(() =>
        loadGbdtModel(edit((f) => Object.assign(f.ensemble, { value: { ...value, length: 3 } }))),
      ),
      /^corrupt_array: ensemble\.value: \d+ bytes decoded, 3 values of 8 bytes expected/,
    );
    // A child index pointing back up the tree would make a walk loop forever: refused at load.
    const left = Int32Array.from(ensemble.trees[0]?.left ?? []);
    left[0] = 0;
    const leftB64 = Buffer.from(left.buffer).toString("base64");
    assert.match(
      problem(() =>
        loadGbdtModel(
          edit((f) => {
            const all = Buffer.from((f.ensemble.left as { base64: string }).base64, "base64");
            Buffer.from(leftB64, "base64").copy(all, 0);
            (f.ensemble.left as { base64: string }).base64 = all.toString("base64");
          }),
        ),
      ),
      /^corrupt_forest: corrupt ensemble: tree 0 node 0: child 0 is not a later node of the tree/,
    );
    assert.match(
      problem(() => loadGbdtModel(text, { expectFeatures: ["f0", "f1", "f3", "f2"] })),
      /^feature_mismatch: /,
    );
    assert.equal(JSON.parse(text).format, GBDT_FORMAT);
  });

  it("saving refuses an ensemble or metadata the loader would refuse", () => {
    assert.throws(
      () => saveGbdtModel(ensemble, { ...meta, modelVersion: "" }),
      /cannot save model: modelVersion: /,
    );
    const bad = { ...ensemble, baseMargin: Number.NaN };
    assert.throws(() => saveGbdtModel(bad, meta), /cannot save model: baseMargin NaN is not finite/);
  });
});
