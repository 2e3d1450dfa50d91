import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  averagePrecision,
  confusionAt,
  evaluate,
  prCurve,
  rocAuc,
  rocCurve,
  thresholdForPrecision,
  thresholdForRecall,
} from "./evaluate.ts";

// Five rows, two frauds (at 0.9 and 0.7). Worked by hand:
//   ROC AUC: (pos 0.9 beats 3 negatives + pos 0.7 beats 2) / (2 × 3) = 5/6
//   AP: recall 0 → ½ at precision 1 (0.9), ½ → 1 at precision ⅔ (0.7): ½ + ⅓ = 5/6
const scores = [0.9, 0.8, 0.7, 0.6, 0.5];
const labels = [1, 0, 1, 0, 0];
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

describe("evaluation", () => {
  it("ROC AUC and average precision of a hand-worked case", () => {
    close(rocAuc(scores, labels), 5 / 6);
    close(averagePrecision(scores, labels), 5 / 6);
    close(rocAuc(scores, [true, false, true, false, false]), 5 / 6);
  });

  it("perfect, inverted and tied rankings", () => {
    assert.equal(rocAuc([3, 2, 1], [1, 0, 0]), 1);
    assert.equal(rocAuc([1, 2, 3], [1, 0, 0]), 0);
    assert.equal(rocAuc([0.5, 0.5], [1, 0]), 0.5, "a tie counts half");
    assert.equal(averagePrecision([0.5, 0.5], [1, 0]), 0.5);
    assert.equal(averagePrecision([3, 2, 1], [1, 1, 0]), 1);
    // Ranked 1, 0, 1: AP = ½·1 + ½·⅔
    close(averagePrecision([3, 2, 1], [1, 0, 1]), 5 / 6);
  });

  it("is undefined with one class", () => {
    assert.ok(Number.isNaN(rocAuc([1, 2], [0, 0])));
    assert.ok(Number.isNaN(averagePrecision([1, 2], [0, 0])));
    assert.deepEqual(evaluate([1, 2], [0, 0]), {
      rows: 2,
      positives: 0,
      rocAuc: null,
      averagePrecision: null,
    });
  });

  it("confusion matrix, precision, recall and F1 at a threshold (score >= threshold flags)", () => {
    const c = confusionAt(scores, labels, 0.7);
    assert.deepEqual({ tp: c.tp, fp: c.fp, tn: c.tn, fn: c.fn }, { tp: 2, fp: 1, tn: 2, fn: 0 });
    close(c.precision, 2 / 3);
    assert.equal(c.recall, 1);
    close(c.f1, 0.8);
    close(c.falsePositiveRate, 1 / 3);
    const none = confusionAt(scores, labels, 2);
    assert.deepEqual([none.tp, none.fp, none.precision, none.recall, none.f1], [0, 0, 0, 0, 0]);
  });

  it("thresholds for a target precision or recall", () => {
    assert.equal(thresholdForPrecision(scores, labels, 0.9)?.threshold, 0.9);
    assert.equal(thresholdForPrecision(scores, labels, 0.6)?.threshold, 0.7, "the lowest reaching ⅔");
    assert.equal(thresholdForPrecision(scores, labels, 0.4)?.threshold, 0.5);
    assert.equal(thresholdForPrecision([1, 2], [1, 0], 0.9), undefined);
    assert.equal(thresholdForRecall(scores, labels, 1)?.threshold, 0.7, "the highest reaching all fraud");
    assert.equal(thresholdForRecall(scores, labels, 0.5)?.threshold, 0.9);
    assert.equal(thresholdForRecall(scores, labels, 0.5)?.precision, 1);
    assert.equal(thresholdForRecall([1, 2], [0, 0], 0.5), undefined);
  });

  it("ROC and PR curve points, and thinning for display", () => {
    const roc = rocCurve(scores, labels).map((p) => [p.threshold, p.falsePositiveRate, p.truePositiveRate]);
    assert.deepEqual(roc, [
      [Number.POSITIVE_INFINITY, 0, 0],
      [0.9, 0, 0.5],
      [0.8, 1 / 3, 0.5],
      [0.7, 1 / 3, 1],
      [0.6, 2 / 3, 1],
      [0.5, 1, 1],
    ]);
    const pr = prCurve(scores, labels).map((p) => [p.threshold, p.precision, p.recall]);
    assert.deepEqual(pr, [
      [Number.POSITIVE_INFINITY, 1, 0],
      [0.9, 1, 0.5],
      [0.8, 0.5, 0.5],
      [0.7, 2 / 3, 1],
      [0.6, 0.5, 1],
      [0.5, 0.4, 1],
    ]);
    const thin = rocCurve(scores, labels, { maxPoints: 3 }).map((p) => p.threshold);
    assert.deepEqual(thin, [Number.POSITIVE_INFINITY, 0.7, 0.5]);
    assert.equal(rocCurve([1, 1, 1], [1, 0, 1]).length, 2, "one point per distinct score");
  });

  it("summary with a threshold", () => {
    const e = evaluate(scores, labels, { threshold: 0.7 });
    assert.equal(e.rows, 5);
    assert.equal(e.positives, 2);
    close(e.rocAuc ?? 0, 5 / 6);
    assert.equal(e.atThreshold?.tp, 2);
  });

  it("rejects mismatched lengths, NaN scores and labels other than 0/1", () => {
    assert.throws(() => rocAuc([1, 2], [1]), /2 scores but 1 labels/);
    assert.throws(() => rocAuc([1, Number.NaN], [1, 0]), /score 1 is NaN/);
    assert.throws(() => rocAuc([1, 2], [1, 2]), /label 1 is 2/);
  });
});
