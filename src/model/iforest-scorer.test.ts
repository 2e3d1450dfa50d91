import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { saveModel } from "./format.ts";
import { IsolationForest } from "./iforest.ts";
import { IsolationForestScorer } from "./iforest-scorer.ts";
import type { Scorer } from "./scorer.ts";
import { gaussianRows } from "./test-data.ts";

const X = gaussianRows(1000, 3, 2);
const model = new IsolationForest({ nEstimators: 30, seed: 1 }).fit(X, 1000, 3);
const text = saveModel(model, {
  modelVersion: "iforest-2026-11-22-a",
  featureNames: ["x", "y", "z"],
  featureSetVersion: null,
  training: {
    rows: 1000,
    timeRange: null,
    trainedAt: "2026-11-22T00:00:00Z",
    trainer: "fraudstream",
    source: null,
  },
});

describe("IsolationForestScorer", () => {
  it("is a Scorer: version and features from the model, score = −score_samples", () => {
    const scorer: Scorer = IsolationForestScorer.fromModelFile(text, { expectFeatures: ["x", "y", "z"] });
    assert.equal(scorer.version, "iforest-2026-11-22-a");
    assert.deepEqual(scorer.featureNames, ["x", "y", "z"]);
    const out = new Float64Array(4);
    scorer.scoreBatch(Float64Array.of(0, 0, 0, 0.1, 0, 0, 9, 0, 0, 0, -8, 0), 4, out);
    const ss = new Float64Array(4);
    model.scoreSamples(Float64Array.of(0, 0, 0, 0.1, 0, 0, 9, 0, 0, 0, -8, 0), 4, ss);
    for (let i = 0; i < 4; i++) {
      assert.equal(out[i], -(ss[i] as number));
      assert.ok((out[i] as number) > 0 && (out[i] as number) <= 1);
    }
    assert.ok((out[2] as number) > 0.5 && (out[3] as number) > 0.5, "far rows are anomalous (paper: > 0.5)");
    assert.ok((out[0] as number) < 0.5, "the centre is not");
  });

  it("flags at −offset unless the file sets a threshold, and explains", () => {
    const scorer = IsolationForestScorer.fromModelFile(text);
    assert.equal(scorer.threshold, 0.5);
    const file = JSON.parse(text);
    file.scoreThreshold = 0.62;
    assert.equal(IsolationForestScorer.fromModelFile(JSON.stringify(file)).threshold, 0.62);
    const e = scorer.explain([0, 9, 0]);
    assert.equal(e.features[0]?.feature, "y");
  });

  it("refuses a model for other features", () => {
    assert.throws(
      () => IsolationForestScorer.fromModelFile(text, { expectFeatures: ["x", "z", "y"] }),
      /model expects features \[x,y,z\] in this order; got \[x,z,y\]/,
    );
  });
});
