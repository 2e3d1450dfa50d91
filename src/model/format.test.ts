import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FEATURE_NAMES, FEATURE_SET_VERSION } from "../features/registry.ts";
import {
  float32InputThreshold,
  forestFingerprint,
  loadModel,
  MODEL_FORMAT,
  ModelFormatError,
  type ModelMetaInput,
  saveModel,
} from "./format.ts";
import { IsolationForest } from "./iforest.ts";
import { Sfc32 } from "./rng.ts";
import { gaussianRows } from "./test-data.ts";

const X = gaussianRows(500, 3, 21);
const model = new IsolationForest({ nEstimators: 20, contamination: 0.1, seed: 8 }).fit(X, 500, 3);
const meta: ModelMetaInput = {
  modelVersion: "iforest-test-1",
  featureNames: ["a", "b", "c"],
  featureSetVersion: "fs-test",
  training: {
    rows: 500,
    timeRange: { from: "2026-11-01T00:00:00Z", to: "2026-11-08T00:00:00Z" },
    trainedAt: "2026-11-22T10:00:00+01:00",
    trainer: "fraudstream",
    source: "unit test",
  },
};
const text = saveModel(model, meta);

function edit(change: (file: Record<string, unknown> & { forest: Record<string, unknown> }) => void): string {
  const file = JSON.parse(text);
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

describe("model file", () => {
  it("round-trips: same hyperparameters, metadata, trees and scores", () => {
    const { model: back, meta: m } = loadModel(text, {
      expectFeatures: ["a", "b", "c"],
      expectFeatureSetVersion: "fs-test",
    });
    assert.deepEqual(back.params, model.params);
    assert.equal(back.offset, model.offset);
    assert.deepEqual(back.state, model.state);
    assert.equal(forestFingerprint(back.state), forestFingerprint(model.state));
    assert.equal(m.modelVersion, "iforest-test-1");
    assert.deepEqual(m.featureNames, ["a", "b", "c"]);
    assert.deepEqual(m.training, meta.training);
    assert.equal(m.scoreThreshold, null);
    assert.equal(m.metrics, null);
    const a = new Float64Array(500);
    const b = new Float64Array(500);
    model.scoreSamples(X, 500, a);
    back.scoreSamples(X, 500, b);
    assert.deepEqual(b, a);
  });

  it("is self-describing JSON", () => {
    const file = JSON.parse(text);
    assert.equal(file.format, MODEL_FORMAT);
    assert.equal(file.formatVersion, 1);
    assert.deepEqual(file.hyperparameters, {
      nEstimators: 20,
      maxSamples: "auto",
      maxFeatures: { fraction: 1 },
      contamination: 0.1,
      bootstrap: false,
      seed: 8,
    });
    assert.equal(file.forest.threshold.dtype, "<f8");
    assert.equal(file.forest.feature.dtype, "<i4");
    assert.equal(file.forest.splitInput, "float64");
  });

  it("records the worker's feature set", () => {
    const wide = new IsolationForest({ nEstimators: 2 }).fit(
      gaussianRows(50, FEATURE_NAMES.length, 1),
      50,
      FEATURE_NAMES.length,
    );
    const t = saveModel(wide, {
      ...meta,
      featureNames: FEATURE_NAMES,
      featureSetVersion: FEATURE_SET_VERSION,
    });
    const { meta: m } = loadModel(t, {
      expectFeatures: FEATURE_NAMES,
      expectFeatureSetVersion: FEATURE_SET_VERSION,
    });
    assert.equal(m.featureSetVersion, FEATURE_SET_VERSION);
  });

  it("names features that differ from what the caller expects", () => {
    assert.equal(
      problem(() => loadModel(text, { expectFeatures: ["a", "c"] })),
      "feature_mismatch: model expects features [a,b,c] in this order; got [a,c]",
    );
    assert.match(
      problem(() => loadModel(text, { expectFeatures: ["a", "c", "b"] })),
      /^feature_mismatch/,
    );
    assert.equal(
      problem(() => loadModel(text, { expectFeatureSetVersion: "fs-other" })),
      "feature_set_mismatch: model was trained on feature set fs-test; this worker computes fs-other",
    );
  });

  it("refuses other formats and format versions", () => {
    assert.match(
      problem(() => loadModel("{not json")),
      /^not_json/,
    );
    assert.match(
      problem(() => loadModel("[]")),
      /^not_a_model/,
    );
    assert.equal(
      problem(() => loadModel(edit((f) => Object.assign(f, { formatVersion: 2 })))),
      "unsupported_version: model file format version 2 is not supported; this build reads version 1",
    );
  });

  it("names invalid fields", () => {
    assert.match(
      problem(() => loadModel(edit((f) => Object.assign(f, { modelVersion: "" })))),
      /^invalid: invalid model file: modelVersion:/,
    );
    assert.match(
      problem(() => loadModel(edit((f) => Object.assign(f.forest, { offset: "x" })))),
      /forest\.offset/,
    );
    assert.match(
      problem(() => loadModel(edit((f) => Object.assign(f, { featureNames: ["a", "b"] })))),
      /featureNames has 2 names but the forest has 3 features/,
    );
  });

  it("detects corrupt arrays", () => {
    const threshold = () => JSON.parse(text).forest.threshold;
    assert.equal(
      problem(() =>
        loadModel(edit((f) => Object.assign(f.forest, { threshold: { ...threshold(), base64: "@@@@" } }))),
      ),
      "corrupt_array: forest.threshold: not valid base64",
    );
    assert.match(
      problem(() =>
        loadModel(
          edit((f) =>
            Object.assign(f.forest, { threshold: { ...threshold(), length: threshold().length + 1 } }),
          ),
        ),
      ),
      /^corrupt_array: forest\.threshold: \d+ bytes decoded, \d+ values of 8 bytes expected/,
    );
    // A child pointing back at its parent would make the walk loop.
    const left = new Int32Array(model.state.left);
    left[1] = left[1] === -1 ? -1 : 0;
    left[0] = 0;
    const b64 = Buffer.from(left.buffer).toString("base64");
    assert.match(
      problem(() =>
        loadModel(
          edit((f) => Object.assign(f.forest, { left: { dtype: "<i4", length: left.length, base64: b64 } })),
        ),
      ),
      /^corrupt_forest: corrupt forest: tree 0 node 0 has children 0 and/,
    );
  });

  it("checks base64 strictly", () => {
    const threshold = JSON.parse(text).forest.threshold;
    for (const bad of [
      `${threshold.base64.slice(0, -4)}AB=C`,
      threshold.base64.slice(1),
      `${threshold.base64.slice(0, -4)}A\nBC`,
    ]) {
      assert.match(
        problem(() =>
          loadModel(edit((f) => Object.assign(f.forest, { threshold: { ...threshold, base64: bad } }))),
        ),
        /^corrupt_array: forest\.threshold: not valid base64/,
      );
    }
  });

  it("reads arrays of many megabytes", () => {
    // One caterpillar tree of 600,001 nodes (internal node 2j: leaf 2j+1 on the left, 2j+2 on the right).
    const nodes = 600_001;
    const left = new Int32Array(nodes).fill(-1);
    const right = new Int32Array(nodes).fill(-1);
    const feature = new Int32Array(nodes).fill(-1);
    const threshold = new Float64Array(nodes);
    const nodeSamples = new Int32Array(nodes).fill(1);
    for (let k = 0; k + 2 < nodes; k += 2) {
      left[k] = k + 1;
      right[k] = k + 2;
      feature[k] = k % 3;
      threshold[k] = k / 7;
      nodeSamples[k] = (nodes - k + 1) / 2;
    }
    const big = IsolationForest.fromState(
      { nEstimators: 1 },
      {
        nFeatures: 3,
        samplesPerTree: 300_001,
        offset: -0.5,
        nodeOffsets: Int32Array.of(0, nodes),
        feature,
        threshold,
        left,
        right,
        nodeSamples,
      },
    );
    const bigText = saveModel(big, meta);
    // 6.4 MB of base64 in one string: a regular expression check overflowed the stack at this size.
    assert.ok(bigText.length > 15_000_000);
    assert.deepEqual(loadModel(bigText).model.state.threshold, threshold);
  });

  it("refuses to save metadata it could not load", () => {
    assert.throws(() => saveModel(model, { ...meta, featureNames: ["a"] }), /3 features; 1 names/);
    assert.throws(
      () => saveModel(model, { ...meta, training: { ...meta.training, trainedAt: "yesterday" } }),
      /training\.trainedAt/,
    );
  });
});

describe("float32InputThreshold", () => {
  const check = (t: number, x: number) =>
    assert.equal(x <= float32InputThreshold(t), Math.fround(x) <= t, `t = ${t}, x = ${x}`);

  it("decides x <= t′ exactly as float32(x) <= t", () => {
    const r = new Sfc32(1);
    const f64 = new Float64Array(1);
    const u32 = new Uint32Array(f64.buffer);
    for (let k = 0; k < 20_000; k++) {
      // Thresholds: arbitrary doubles, float32 values, and the midpoints between float32 neighbours.
      const base = (r.float() - 0.5) * 10 ** Math.floor(r.float() * 20 - 10);
      const f = Math.fround(base);
      const candidates = [base, f, (f + Math.fround(f * (1 + 2 ** -23))) / 2];
      for (const t of candidates) {
        const tp = float32InputThreshold(t);
        check(t, tp);
        // The next double above t′ must round above t.
        f64[0] = tp;
        if (tp > 0) u32[0] = (u32[0] as number) + 1;
        else if (tp < 0) u32[0] = (u32[0] as number) - 1;
        const above = tp === 0 ? Number.MIN_VALUE : (f64[0] as number);
        check(t, above);
        check(t, t);
        check(t, f);
      }
    }
  });

  it("handles zero, ties to even and the ends of the float32 range", () => {
    for (const t of [
      0,
      -0,
      1,
      -1,
      0.1,
      1 + 2 ** -24,
      1 + 3 * 2 ** -24,
      3.4028234663852886e38,
      -3.4028234663852886e38,
      3.5e38,
      -3.5e38,
    ]) {
      const tp = float32InputThreshold(t);
      check(t, tp);
      check(t, tp + Math.abs(tp) * 2 ** -52 + Number.MIN_VALUE);
    }
    assert.equal(float32InputThreshold(1), 1 + 2 ** -24, "1 is even: its upper tie rounds down to it");
    assert.ok(
      float32InputThreshold(1 + 2 ** -23) < 1 + 3 * 2 ** -24,
      "an odd float32 keeps below its upper tie",
    );
    assert.equal(float32InputThreshold(Number.POSITIVE_INFINITY), Number.POSITIVE_INFINITY);
  });
});
