import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isFlagged } from "../contract/levels.ts";
import { compileRuleSet } from "./compile.ts";
import {
  decide,
  decideBatch,
  decideInto,
  riskFromPoints,
  scorePoints,
  VerdictBuffer,
  verdictAt,
} from "./decide.ts";
import { modelOnlyRuleSet } from "./defaults.ts";
import { explainRule, explainVerdict } from "./explain.ts";
import type { Rule, RuleSetInput } from "./rules.ts";
import { row, tx, WIDTH } from "./testing.ts";

const CUTOFFS = { medium_at: 1, high_at: 2, critical_at: 5 };
const KNOTS = [
  { score: 0.5, points: 1 },
  { score: 0.75, points: 2 },
  { score: 0.9, points: 5 },
];

function set(rules: RuleSetInput["rules"], score_points = KNOTS): RuleSetInput {
  return { version: "t", lists: {}, rules, risk: CUTOFFS, policy: { score_points } };
}

const always = { exists: "event.user_id" } as const;
const rule = (id: string, extra: Partial<Omit<Rule, "id">> = {}): RuleSetInput["rules"][number] => ({
  id,
  description: `rule ${id}`,
  when: always,
  ...extra,
});

const e0 = tx();
const f0 = row(e0);

describe("score points", () => {
  const c = compileRuleSet(set([]));
  it("0 below the first knot, linear between knots, flat above the last; NaN is worth 0", () => {
    const cases: [number, number][] = [
      [0, 0],
      [0.4999, 0],
      [0.5, 1],
      [0.625, 1.5], // 1 + (0.125 / 0.25) × (2 − 1)
      [0.75, 2],
      [0.8, 3], // 2 + (0.05 / 0.15) × (5 − 2)
      [0.9, 5],
      [1, 5],
      [Number.NaN, 0],
    ];
    for (const [score, points] of cases)
      assert.ok(Math.abs(scorePoints(c, score) - points) < 1e-12, `${score}`);
  });

  it("no knots: the score adds nothing", () => {
    assert.equal(scorePoints(compileRuleSet(set([], [])), 1), 0);
  });

  it("one knot: a step", () => {
    const step = compileRuleSet(set([], [{ score: 0.8, points: 3 }]));
    assert.deepEqual(
      [0.79, 0.8, 1].map((s) => scorePoints(step, s)),
      [0, 3, 3],
    );
  });
});

describe("risk cut-offs", () => {
  it("each cut-off belongs to the level above it", () => {
    const cases: [number, string][] = [
      [-3, "LOW"],
      [0, "LOW"],
      [0.999, "LOW"],
      [1, "MEDIUM"],
      [1.999, "MEDIUM"],
      [2, "HIGH"],
      [4.999, "HIGH"],
      [5, "CRITICAL"],
      [50, "CRITICAL"],
    ];
    for (const [points, risk] of cases) assert.equal(riskFromPoints(CUTOFFS, points), risk, `${points}`);
  });

  it("rule points reach a cut-off exactly even when their binary sum falls short (0.6 + 0.1 + 0.2 + 0.1)", () => {
    assert.equal(0.6 + 0.1 + 0.2 + 0.1 < 1, true); // why verdicts round to 9 decimals
    const c = compileRuleSet(
      set([
        rule("a", { weight: 0.6 }),
        rule("b", { weight: 0.1 }),
        rule("c", { weight: 0.2 }),
        rule("d", { weight: 0.1 }),
      ]),
    );
    const v = decide(c, e0, f0, 0, 0);
    assert.equal(v.points, 1);
    assert.equal(v.risk, "MEDIUM");
  });

  it("verdicts at the edges, by score alone and by score plus rules", () => {
    const c = compileRuleSet(set([rule("one", { weight: 1 })]));
    const at = (score: number) => {
      const v = decide(c, e0, f0, 0, score);
      return `${v.points} ${v.risk} ${v.decision}`;
    };
    assert.equal(at(0.49), "1 MEDIUM APPROVE");
    assert.equal(at(0.5), "2 HIGH REVIEW");
    assert.equal(at(0.8), "4 HIGH REVIEW");
    assert.equal(at(0.85), "5 CRITICAL BLOCK"); // 2 + (0.1 / 0.15) × 3 = 4, + 1
  });
});

describe("combining score and rules (hand-computed)", () => {
  const c = compileRuleSet(
    set([
      rule("big", { when: { field: "amount", op: ">", value: 1000 }, weight: 2 }),
      rule("foreign", { when: { field: "is_foreign", op: "==", value: true }, weight: 1.5 }),
      rule("calm", { when: { field: "score", op: "<", value: 0.3 }, weight: -1 }),
    ]),
  );
  const v = (amount: number, country: string, score: number) => {
    const e = tx({ amount, country });
    return decide(c, e, row(e), 0, score);
  };

  it("5,000 from abroad, score 0.8: 3 + 2 + 1.5 = 6.5 → CRITICAL → BLOCK", () => {
    assert.deepEqual(v(5000, "FR", 0.8), {
      risk: "CRITICAL",
      decision: "BLOCK",
      points: 6.5,
      scorePoints: 3,
      rulePoints: 3.5,
      hits: [
        { id: "big", weight: 2, description: "rule big" },
        { id: "foreign", weight: 1.5, description: "rule foreign" },
      ],
    });
  });

  it("5,000 at home, score 0.2: 0 + 2 − 1 = 1 → MEDIUM → APPROVE (negative weights subtract)", () => {
    const r = v(5000, "DE", 0.2);
    assert.deepEqual(
      [r.points, r.scorePoints, r.rulePoints, r.risk, r.decision],
      [1, 0, 1, "MEDIUM", "APPROVE"],
    );
    assert.deepEqual(
      r.hits.map((h) => h.id),
      ["big", "calm"],
    );
  });

  it("50 from abroad, score 0.6: 1.4 + 1.5 = 2.9 → HIGH → REVIEW, flagged", () => {
    const r = v(50, "FR", 0.6);
    assert.deepEqual(
      [r.points, r.scorePoints, r.rulePoints, r.risk, r.decision],
      [2.9, 1.4, 1.5, "HIGH", "REVIEW"],
    );
    assert.equal(isFlagged(r.risk), true);
    assert.equal(r.forced, undefined);
  });
});

describe("forced risk and decisions", () => {
  const verdict = (...rules: RuleSetInput["rules"]) => decide(compileRuleSet(set(rules)), e0, f0, 0, 0);

  it("a forced risk raises the level, never lowers it, and the highest wins", () => {
    const low = verdict(rule("x", { risk: "HIGH" }));
    assert.deepEqual([low.points, low.risk, low.decision], [0, "HIGH", "REVIEW"]);
    assert.deepEqual(low.forced, { risk: { level: "HIGH", rule: "x" } });
    const already = verdict(rule("w", { weight: 6 }), rule("x", { risk: "MEDIUM" }));
    assert.equal(already.risk, "CRITICAL");
    const two = verdict(
      rule("m", { risk: "MEDIUM" }),
      rule("c", { risk: "CRITICAL" }),
      rule("c2", { risk: "CRITICAL" }),
    );
    assert.deepEqual(two.forced, { risk: { level: "CRITICAL", rule: "c" } });
    assert.equal(two.decision, "BLOCK"); // from the risk, nothing forced it
  });

  it("BLOCK wins over REVIEW wins over APPROVE, whatever the order; the first rule forcing it is named", () => {
    const d = (...decisions: ("APPROVE" | "REVIEW" | "BLOCK")[]) => {
      const v = verdict(...decisions.map((decision, i) => rule(`r${i}`, { decision })));
      return `${v.decision} by ${v.forced?.decision?.rule}`;
    };
    assert.equal(d("APPROVE"), "APPROVE by r0");
    assert.equal(d("APPROVE", "REVIEW"), "REVIEW by r1");
    assert.equal(d("REVIEW", "APPROVE"), "REVIEW by r0");
    assert.equal(d("APPROVE", "BLOCK", "REVIEW"), "BLOCK by r1");
    assert.equal(d("BLOCK", "REVIEW", "BLOCK"), "BLOCK by r0");
  });

  it("a forced decision replaces the one the risk gives, both ways, and leaves the risk alone", () => {
    const approve = verdict(rule("lots", { weight: 9 }), rule("ok", { decision: "APPROVE" }));
    assert.deepEqual([approve.risk, approve.decision], ["CRITICAL", "APPROVE"]);
    assert.equal(isFlagged(approve.risk), true); // still an alert: someone should look at it
    const block = verdict(rule("bl", { decision: "BLOCK" }));
    assert.deepEqual([block.risk, block.decision], ["LOW", "BLOCK"]);
    assert.deepEqual(block.forced, { decision: { decision: "BLOCK", rule: "bl" } });
  });

  it("rules that do not hit force nothing", () => {
    const v = verdict(
      rule("no", { when: { missing: "event.user_id" }, decision: "BLOCK", risk: "CRITICAL" }),
    );
    assert.deepEqual([v.risk, v.decision, v.hits, v.forced], ["LOW", "APPROVE", [], undefined]);
  });
});

describe("allocation-free paths give the same verdicts", () => {
  const c = compileRuleSet(
    set([
      rule("big", { when: { field: "amount", op: ">", value: 1000 }, weight: 2 }),
      rule("fr", { when: { field: "country", op: "==", value: "FR" }, weight: 1, risk: "HIGH" }),
      rule("kp", { when: { field: "country", op: "==", value: "KP" }, decision: "BLOCK" }),
      rule("cheap", { when: { field: "amount", op: "<", value: 10 }, weight: -0.5, decision: "APPROVE" }),
    ]),
  );
  const events = [
    tx({ amount: 5, country: "FR" }),
    tx({ amount: 5000, country: "KP" }),
    tx({ amount: 50 }),
    tx({ amount: 2000, country: "FR" }),
  ];
  const scores = Float64Array.from([0.1, 0.95, 0.6, 0.7]);
  const features = new Float64Array(events.length * WIDTH);
  events.forEach((e, i) => {
    features.set(row(e), i * WIDTH);
  });

  it("decideBatch / decideInto + verdictAt ≡ decide", () => {
    const out = VerdictBuffer.for(c, events.length);
    decideBatch(c, events, features, WIDTH, scores, out);
    events.forEach((e, i) => {
      assert.deepEqual(
        verdictAt(c, out, i),
        decide(c, e, features, i * WIDTH, scores[i] as number),
        `event ${i}`,
      );
    });
    const one = VerdictBuffer.for(c, 1);
    decideInto(c, events[1] as (typeof events)[number], features, WIDTH, 0.95, one, 0);
    assert.deepEqual(verdictAt(c, one, 0), verdictAt(c, out, 1));
    assert.deepEqual(verdictAt(c, out, 1).forced, { decision: { decision: "BLOCK", rule: "kp" } });
  });

  it("refuses a buffer too small for the rule set or the batch", () => {
    const small = new VerdictBuffer(4, 2);
    assert.throws(() => decideInto(c, e0, f0, 0, 0, small, 0), /holds 2 hits per verdict.*VerdictBuffer.for/);
    assert.throws(() => decideBatch(c, events, features, WIDTH, scores, VerdictBuffer.for(c, 2)), RangeError);
  });
});

describe("model only", () => {
  it("with the default knots and cut-offs, maps scores at 0.5 / 0.6 / 0.7 to MEDIUM / HIGH / CRITICAL", () => {
    const c = compileRuleSet(modelOnlyRuleSet());
    const expected = (score: number) =>
      score >= 0.7
        ? { risk: "CRITICAL", decision: "BLOCK" }
        : score >= 0.6
          ? { risk: "HIGH", decision: "REVIEW" }
          : score >= 0.5
            ? { risk: "MEDIUM", decision: "APPROVE" }
            : { risk: "LOW", decision: "APPROVE" };
    for (let k = 0; k <= 1000; k++) {
      const score = k / 1000;
      const v = decide(c, e0, f0, 0, score);
      assert.deepEqual({ risk: v.risk, decision: v.decision }, expected(score), `score ${score}`);
      assert.deepEqual(v.hits, []);
    }
  });
});

describe("explanations", () => {
  const c = compileRuleSet(
    set([
      rule("large", {
        description: "10 times the user's mean, abroad",
        when: {
          all: [
            { field: "amount", op: ">=", value: { field: "amount_mean", times: 10 } },
            {
              any: [
                { field: "is_foreign", op: "==", value: true },
                { field: "country", op: "==", value: "KP" },
              ],
            },
          ],
        },
        weight: 2,
      }),
      rule("blocked", { when: { field: "user_id", in: ["u-9"] }, decision: "BLOCK" }),
    ]),
  );
  const e = tx({ amount: 900, country: "FR", user_id: "u-9" });
  const f = row(e, { amount_mean: 45 });

  it("name the values that made each leaf hold", () => {
    assert.deepEqual(explainRule(c, "large", e, f, 0, 0.8), {
      id: "large",
      result: true,
      leaves: [
        {
          path: "when.all[0]",
          field: "event.amount",
          value: 900,
          test: ">= 10 × feature.amount_mean (= 45)",
          result: true,
        },
        { path: "when.all[1].any[0]", field: "feature.is_foreign", value: 1, test: "== true", result: true },
      ],
    });
    assert.throws(() => explainRule(c, "nope", e, f, 0, 0), /no enabled rule "nope"/);
  });

  it("put a verdict in words", () => {
    const v = decide(c, e, f, 0, 0.8);
    assert.deepEqual(explainVerdict(c, v, e, f, 0, 0.8), [
      "score 0.8 → +3 points",
      "+2 large: 10 times the user's mean, abroad [event.amount = 900 (>= 10 × feature.amount_mean (= 45)), feature.is_foreign = 1 (== true)]",
      '+0 blocked: rule blocked [event.user_id = "u-9" (in ["u-9"])]',
      "5 points (critical_at 5) → CRITICAL → BLOCK forced by blocked",
    ]);
  });
});
