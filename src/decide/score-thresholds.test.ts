import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultRuleSet } from "./defaults.ts";
import { scoreForPoints, scoreThresholds, withScoreThresholds } from "./score-thresholds.ts";

describe("score thresholds of a rule set", () => {
  it("the default knots (0.5→1, 0.6→2, 0.7→5) and cut-offs (high 2 → REVIEW, critical 5 → BLOCK)", () => {
    assert.deepEqual(scoreThresholds(defaultRuleSet()), { review: 0.6, block: 0.7 });
  });
  it("inverts the piecewise-linear knots", () => {
    const knots = [
      { score: 0.5, points: 1 },
      { score: 0.7, points: 5 },
    ];
    assert.equal(scoreForPoints(knots, 1), 0.5);
    assert.ok(Math.abs((scoreForPoints(knots, 3) as number) - 0.6) < 1e-12);
    assert.equal(scoreForPoints(knots, 6), null);
    assert.equal(scoreForPoints([], 1), null);
  });
  it("moves the knots to new thresholds and back", () => {
    const rs = withScoreThresholds(defaultRuleSet(), { review: 0.3, block: 0.8 }, "t-1");
    assert.equal(rs.version, "t-1");
    assert.deepEqual(scoreThresholds(rs), { review: 0.3, block: 0.8 });
    assert.throws(() => withScoreThresholds(rs, { review: 0.9, block: 0.8 }, "x"), /review < block/);
  });
});
