import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDuration, SplitError, timeSplit } from "./split.ts";

const H = 3_600_000;
const list = (a: Int32Array) => [...a];

describe("time split with label delay", () => {
  // Ten rows one hour apart (t = 0h … 9h), given out of order; labels known 1 h after the event.
  const times = [9, 0, 1, 2, 3, 4, 5, 6, 7, 8].map((h) => h * H);

  it("cuts on event time and keeps out of train/validation what was not known before the cut", () => {
    const s = timeSplit({ times, labelDelayMs: H, testFraction: 0.2, validationFraction: 0.2 });
    // asOf = 9h: the 9h row's label (known at 10h) is not known: 9 eligible rows (0h … 8h).
    assert.equal(s.asOf, 9 * H);
    assert.equal(s.unlabelled, 1);
    // test = last ⌈0.2·9⌉ = 2 eligible rows (7h, 8h); validation = the 2 before (5h, 6h).
    assert.equal(s.testFrom, 7 * H);
    assert.equal(s.validationFrom, 5 * H);
    assert.deepEqual(list(s.test), [8, 9]);
    // validation 5h (known 6h ≤ 7h) yes; 6h (known 7h ≤ 7h) yes.
    assert.deepEqual(list(s.validation), [6, 7]);
    // train: t < 5h and known ≤ 5h → 0h … 4h (4h is known exactly at the cut).
    assert.deepEqual(list(s.train), [1, 2, 3, 4, 5]);
    assert.equal(s.gap, 0);
  });

  it("a longer delay opens gaps before each cut", () => {
    const s = timeSplit({ times, labelDelayMs: 2 * H, testFraction: 0.25, validationFraction: 0.25 });
    // eligible: known ≤ 9h → t ≤ 7h: 8 rows; test = 2 (6h, 7h), validation = 2 (4h, 5h).
    assert.equal(s.unlabelled, 2);
    assert.equal(s.testFrom, 6 * H);
    assert.equal(s.validationFrom, 4 * H);
    assert.deepEqual(list(s.test), [7, 8]);
    // validation: 4h known 6h ≤ 6h yes; 5h known 7h > 6h no.
    assert.deepEqual(list(s.validation), [5]);
    // train: 0h, 1h, 2h (known 4h ≤ 4h); 3h known 5h > 4h no.
    assert.deepEqual(list(s.train), [1, 2, 3]);
    assert.equal(s.gap, 2);
  });

  it("a label's own known-at time wins over the delay", () => {
    const known = times.map((t) => t + H);
    known[4] = 20 * H; // the 3h row's label arrived very late: not known by asOf
    known[0] = 9 * H; // the 9h row's label was known at once
    const s = timeSplit({
      times,
      labelKnownAt: known,
      labelDelayMs: H,
      testFraction: 0.2,
      validationFraction: 0.2,
    });
    assert.equal(s.unlabelled, 1);
    assert.ok(!list(s.train).includes(4) && !list(s.validation).includes(4) && !list(s.test).includes(4));
    assert.ok(list(s.test).includes(0));
    // NaN falls back to the delay.
    known[4] = Number.NaN;
    const t = timeSplit({
      times,
      labelKnownAt: known,
      labelDelayMs: H,
      testFraction: 0.2,
      validationFraction: 0.2,
    });
    assert.equal(t.unlabelled, 0);
  });

  it("nothing is trainable when the delay exceeds the span", () => {
    const s = timeSplit({ times, labelDelayMs: 7 * 24 * H, testFraction: 0.2, validationFraction: 0.2 });
    assert.equal(s.unlabelled, 10);
    assert.equal(s.train.length + s.validation.length + s.test.length, 0);
  });

  it("an explicit asOf later than the data makes every label known", () => {
    const s = timeSplit({ times, labelDelayMs: H, asOf: 100 * H, testFraction: 0, validationFraction: 0 });
    assert.equal(s.train.length, 10);
    assert.equal(s.testFrom, Number.POSITIVE_INFINITY);
  });

  it("names every bad setting", () => {
    assert.throws(
      () => timeSplit({ times, labelDelayMs: -1, testFraction: 0.6, validationFraction: 0.5 }),
      (e: Error) =>
        e instanceof SplitError &&
        /labelDelayMs/.test(e.message) &&
        /testFraction \+ validationFraction/.test(e.message),
    );
  });

  it("parses durations", () => {
    assert.equal(parseDuration("7d"), 7 * 24 * H);
    assert.equal(parseDuration("36h"), 36 * H);
    assert.equal(parseDuration("90m"), 90 * 60_000);
    assert.equal(parseDuration("1.5s"), 1500);
    assert.equal(parseDuration("250"), 250);
    assert.ok(Number.isNaN(parseDuration("7 days")));
  });
});
