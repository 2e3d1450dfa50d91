import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ExplanationSchema, type Factor } from "../contract/outputs.ts";
import { compileRuleSet } from "./compile.ts";
import { decideInto, VerdictBuffer } from "./decide.ts";
import { EXPLAIN_TOP, explanationAt, type FactorSource, NO_SCORE } from "./explanation.ts";
import type { RuleSetInput } from "./rules.ts";
import { row, tx } from "./testing.ts";

const always = { exists: "event.user_id" } as const;
const never = { field: "event.amount", op: ">", value: 1_000_000 } as const;

const compiled = compileRuleSet({
  version: "t",
  lists: {},
  rules: [
    { id: "first", description: "always hits", weight: 1.5, when: always },
    { id: "missed", description: "never hits", weight: 2, when: never },
    { id: "third", description: "hits too", weight: 0.25, when: always },
  ],
  risk: { medium_at: 1, high_at: 2, critical_at: 5 },
  policy: {
    score_points: [
      { score: 0.5, points: 1 },
      { score: 0.75, points: 2 },
    ],
  },
} satisfies RuleSetInput);

const event = tx();
const features = row(event);

/** Slot `i` of a fresh buffer decided with `score`. */
function decided(score: number, i = 0): VerdictBuffer {
  const v = VerdictBuffer.for(compiled, i + 1);
  decideInto(compiled, event, features, 0, score, v, i);
  return v;
}

/** A scorer over two columns whose explanation lists 8 factors and records the row it was given. */
function scorer(): FactorSource & { seen: number[][] } {
  const seen: number[][] = [];
  const factors: Factor[] = Array.from({ length: 8 }, (_, k) => ({
    feature: `f${k}`,
    value: k * 10,
    contribution: 0.4 / (k + 1) + 0.000_012_5,
  }));
  return {
    featureNames: ["a", "b"],
    seen,
    explain(r) {
      seen.push(Array.from(r));
      return { features: factors };
    },
  };
}

describe("explanationAt", () => {
  it("gives the points and the hits in rule-set order, without factors when none are asked for", () => {
    // score 0.625 → 1.5 score points; rules first + third = 1.75.
    const e = explanationAt(compiled.rules, decided(0.625), 0, 0.625);
    assert.deepEqual(e, {
      points: { score: 1.5, rules: 1.75, total: 3.25 },
      hits: [
        { id: "first", weight: 1.5, description: "always hits" },
        { id: "third", weight: 0.25, description: "hits too" },
      ],
    });
    assert.equal(
      JSON.stringify(e),
      '{"points":{"score":1.5,"rules":1.75,"total":3.25},"hits":[{"id":"first","weight":1.5,"description":"always hits"},{"id":"third","weight":0.25,"description":"hits too"}]}',
    );
    ExplanationSchema.parse(e);
  });

  it("adds the top factors of the scorer's row, contributions rounded to 1e-4", () => {
    const s = scorer();
    const rows = Float64Array.from([9, 9, 9, 0.3, 0.7, 9]);
    const e = explanationAt(compiled.rules, decided(0.8, 2), 2, 0.8, { source: s, rows, at: 3 });
    assert.deepEqual(s.seen, [[0.3, 0.7]], "the row at `at`, as wide as the scorer's features");
    assert.equal(EXPLAIN_TOP, 6);
    assert.deepEqual(e.factors, [
      { feature: "f0", value: 0, contribution: 0.4 },
      { feature: "f1", value: 10, contribution: 0.2 },
      { feature: "f2", value: 20, contribution: 0.1333 },
      { feature: "f3", value: 30, contribution: 0.1 },
      { feature: "f4", value: 40, contribution: 0.08 },
      { feature: "f5", value: 50, contribution: 0.0667 },
    ]);
    assert.deepEqual(Object.keys(e), ["points", "hits", "factors"]);
    assert.deepEqual(e.points, { score: 2, rules: 1.75, total: 3.75 });
    ExplanationSchema.parse(e);
  });

  it("says there was no score instead of guessing factors when the score is NaN", () => {
    const s = scorer();
    const e = explanationAt(compiled.rules, decided(Number.NaN), 0, Number.NaN, {
      source: s,
      rows: new Float64Array(2),
      at: 0,
    });
    assert.deepEqual(e, {
      points: { score: 0, rules: 1.75, total: 1.75 },
      hits: [
        { id: "first", weight: 1.5, description: "always hits" },
        { id: "third", weight: 0.25, description: "hits too" },
      ],
      model: "no score: a feature value was missing or not finite",
    });
    assert.equal(e.model, NO_SCORE);
    assert.equal(s.seen.length, 0, "the scorer is not asked");
    ExplanationSchema.parse(e);
  });

  it("has no factors when the scorer cannot explain", () => {
    const e = explanationAt(compiled.rules, decided(0.9), 0, 0.9, {
      source: { featureNames: ["a"] },
      rows: new Float64Array(1),
      at: 0,
    });
    assert.deepEqual(Object.keys(e), ["points", "hits"]);
  });

  it("lists no hits when no rule hit", () => {
    const quiet = compileRuleSet({
      version: "q",
      lists: {},
      rules: [{ id: "missed", description: "never hits", weight: 2, when: never }],
      risk: { medium_at: 1, high_at: 2, critical_at: 5 },
      policy: { score_points: [] },
    });
    const v = VerdictBuffer.for(quiet, 1);
    decideInto(quiet, event, features, 0, 0.3, v, 0);
    assert.deepEqual(explanationAt(quiet.rules, v, 0, 0.3), {
      points: { score: 0, rules: 0, total: 0 },
      hits: [],
    });
  });
});
