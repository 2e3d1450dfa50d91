import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  averagePrecision,
  cardPrecisionAtK,
  confusionAt,
  detectionReport,
  evaluate,
  prAuc,
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

describe("card precision at top k per day and the detection report", () => {
  const D = 86_400_000;
  // Day 0: card a (0.9 legit, 0.2 fraud → risk 0.9, compromised), b (0.8 legit), c (0.7 fraud).
  // Day 1: card a (0.3 legit), d (0.95 fraud).
  const scores = [0.9, 0.2, 0.8, 0.7, 0.3, 0.95];
  const labels = [0, 1, 0, 1, 0, 1];
  const times = [1000, 2000, 3000, 4000, D + 10, D + 20];
  const cards = ["a", "a", "b", "c", "a", "d"];

  it("matches the hand-worked figures", () => {
    // k = 2: day 0 top 2 = a (compromised), b → 1/2; day 1 top 2 = d (compromised), a → 1/2; mean 1/2.
    const r2 = cardPrecisionAtK(scores, labels, times, cards, 2);
    assert.equal(r2.days, 2);
    assert.deepEqual(
      r2.perDay.map((d) => [d.day, d.cards, d.precision]),
      [
        ["1970-01-01T00:00:00.000Z", 3, 0.5],
        ["1970-01-02T00:00:00.000Z", 2, 0.5],
      ],
    );
    assert.equal(r2.mean, 0.5);
    // k = 1: day 0 a → 1; day 1 d → 1.
    assert.equal(cardPrecisionAtK(scores, labels, times, cards, 1).mean, 1);
    // k = 3: day 0 a, b, c → 2/3; day 1 only 2 cards, 1 compromised → 1/3 (divided by k); mean 1/2.
    close(cardPrecisionAtK(scores, labels, times, cards, 3).mean as number, (2 / 3 + 1 / 3) / 2);
  });

  it("reports ranking, the REVIEW/BLOCK confusions and card precision in one schema-checked shape", () => {
    const r = detectionReport({
      set: "test",
      scores,
      labels,
      thresholds: { review: 0.7, block: 0.9 },
      cards: { times, ids: cards, k: 2 },
    });
    assert.equal(r.rows, 6);
    assert.equal(r.positives, 3);
    // review at 0.7 flags 0.95 (fraud), 0.9 (legit), 0.8 (legit), 0.7 (fraud): precision 1/2, recall 2/3.
    assert.equal(r.review?.precision, 0.5);
    close(r.review?.recall as number, 2 / 3);
    // block at 0.9 flags 0.95 (fraud), 0.9 (legit).
    assert.equal(r.block?.tp, 1);
    assert.equal(r.block?.fp, 1);
    // ROC: positives 0.95, 0.7, 0.2 against negatives 0.9, 0.8, 0.3: 3 + 1 + 0 = 4 of 9.
    close(r.rocAuc as number, 4 / 9);
    // AP: ranks 0.95+ 0.9- 0.8- 0.7+ 0.3- 0.2+: ⅓·1 + ⅓·½ + ⅓·½ = 2/3.
    close(r.prAuc as number, 2 / 3);
    close(prAuc(scores, labels), 2 / 3);
    assert.equal(r.cardPrecision?.mean, 0.5);
    assert.equal(
      detectionReport({ set: "x", scores, labels, thresholds: { review: null, block: null } }).cardPrecision,
      null,
    );
  });

  it("rejects mismatched inputs and a bad k", () => {
    assert.throws(() => cardPrecisionAtK([1], [1], [0, 1], ["a"], 1), /1 scores but 1 labels, 2 times/);
    assert.throws(() => cardPrecisionAtK([1], [1], [0], ["a"], 0), /k must be/);
  });
});
