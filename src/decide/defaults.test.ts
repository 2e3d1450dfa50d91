import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { isFlagged } from "../contract/levels.ts";
import { parseEventTime, type Transaction } from "../contract/transaction.ts";
import { FeatureEngine } from "../features/engine.ts";
import { featureIndex } from "../features/registry.ts";
import { type CompiledRuleSet, compileRuleSet } from "./compile.ts";
import { decide, type Verdict } from "./decide.ts";
import { classicRuleSet, DEFAULT_RULE_SET_VERSION, defaultRuleSet, modelOnlyRuleSet } from "./defaults.ts";
import { explainVerdict } from "./explain.ts";
import { loadRuleSet } from "./rules.ts";
import { row, tx, WIDTH } from "./testing.ts";

const BERLIN = { country: "DE", city: "Berlin", latitude: 52.52, longitude: 13.405 };
const PARIS = { country: "FR", city: "Paris", latitude: 48.857, longitude: 2.352 };
const NEW_YORK = { country: "US", city: "New York", latitude: 40.713, longitude: -74.006 };

/** One user's stream through the real feature engine, decided with one rule set after the history. */
class User {
  private readonly engine = new FeatureEngine({ allowedLatenessMs: 300_000, stateTtlMs: 30 * 86_400_000 });
  private readonly out = new Float64Array(WIDTH);
  private readonly status = new Uint8Array(1);
  private n = 0;
  features = new Float64Array(WIDTH);

  private readonly base: Partial<Transaction>;

  constructor(base: Partial<Transaction>, amounts: number[]) {
    this.base = base;
    // One payment a day at noon local time, 1 to 12 November, at home, same card and device.
    amounts.forEach((amount, i) => {
      this.pay({ amount, timestamp: `2026-11-${String(i + 1).padStart(2, "0")}T12:00:00+01:00` });
    });
  }

  /** Computes the event's features (then the event joins the user's history) and returns it. */
  pay(overrides: Partial<Transaction>): Transaction {
    const e = tx({ ...BERLIN, ...this.base, ...overrides, transaction_id: `t-${this.n++}` });
    this.engine.processBatch([e], [parseEventTime(e.timestamp)], this.out, this.status);
    assert.equal(this.status[0], 0, "not late");
    this.features = this.out.slice();
    return e;
  }

  decide(c: CompiledRuleSet, overrides: Partial<Transaction>, score = 0.1): Verdict {
    const e = this.pay(overrides);
    return decide(c, e, this.features, 0, score);
  }

  feature(name: string): number {
    return this.features[featureIndex(name)] as number;
  }
}

const EUR_HISTORY = [40, 45, 50, 55, 60, 40, 45, 50, 55, 60, 50, 50]; // mean 50
const LATER = "2026-11-20T12:00:00+01:00";
const ids = (v: Verdict) => v.hits.map((h) => h.id);

describe("the default rule set", () => {
  const compiled = compileRuleSet(defaultRuleSet());

  it("loads from its JSON file, dated and versioned", () => {
    const text = readFileSync(new URL("./default-rules.json", import.meta.url), "utf8");
    const rs = loadRuleSet(text);
    assert.match(rs.version, /^default-\d{4}-\d{2}-\d{2}\.\d+$/);
    assert.equal(rs.version, DEFAULT_RULE_SET_VERSION);
    assert.deepEqual(rs, defaultRuleSet());
    for (const r of rs.rules) assert.ok(r.enabled && r.description.length > 10, r.id);
    for (const name of [
      "blocked_users",
      "blocked_cards",
      "blocked_devices",
      "high_risk_countries",
      "high_risk_categories",
    ])
      assert.ok(Object.hasOwn(rs.lists, name), name);
  });

  it("a 5,000 EUR payment from a country new to the user flags: 2 + 2 + 2 = 6 → CRITICAL", () => {
    const u = new User({}, EUR_HISTORY);
    const v = u.decide(compiled, { ...PARIS, amount: 5000, timestamp: LATER });
    assert.deepEqual(ids(v), ["high_value", "large_for_user", "new_country"]);
    assert.deepEqual(
      [v.scorePoints, v.rulePoints, v.points, v.risk, v.decision],
      [0, 6, 6, "CRITICAL", "BLOCK"],
    );
    assert.equal(isFlagged(v.risk), true);
    // The classic rules flag it too (2 + 2 = 4: HIGH), the model alone at score 0.1 does not.
    const classic = new User({}, EUR_HISTORY).decide(compileRuleSet(classicRuleSet()), {
      ...PARIS,
      amount: 5000,
      timestamp: LATER,
    });
    assert.deepEqual(
      [ids(classic), classic.points, classic.risk],
      [["high_value", "location_change"], 4, "HIGH"],
    );
    const model = new User({}, EUR_HISTORY).decide(compileRuleSet(modelOnlyRuleSet()), {
      ...PARIS,
      amount: 5000,
      timestamp: LATER,
    });
    assert.deepEqual([model.points, model.risk], [0, "LOW"]);
  });

  it("an everyday payment at home with a calm score is approved outright (−1 point)", () => {
    const v = new User({}, EUR_HISTORY).decide(compiled, { amount: 45, timestamp: LATER }, 0.1);
    assert.deepEqual(ids(v), ["auto_approve_small_calm"]);
    assert.deepEqual([v.points, v.risk, v.decision], [-1, "LOW", "APPROVE"]);
    assert.deepEqual(v.forced, { decision: { decision: "APPROVE", rule: "auto_approve_small_calm" } });
    // Not with a restless model: score 0.3 adds nothing yet (below 0.5) but stops the auto-approval.
    const restless = new User({}, EUR_HISTORY).decide(compiled, { amount: 45, timestamp: LATER }, 0.3);
    assert.deepEqual([ids(restless), restless.points, restless.forced], [[], 0, undefined]);
  });

  it("amounts count relative to the user, not in absolute units of any currency", () => {
    const yen = { currency: "JPY", country: "JP", home_country: "JP", latitude: 35.68, longitude: 139.69 };
    const history = EUR_HISTORY.map((a) => a * 150); // mean 7,500 JPY
    // 9,000 JPY is an ordinary payment for this user: the classic rule counts it as high value.
    const ordinary = new User(yen, history).decide(compiled, { amount: 9000, timestamp: LATER }, 0.4);
    assert.deepEqual([ids(ordinary), ordinary.risk], [[], "LOW"]);
    const classic = new User(yen, history).decide(compileRuleSet(classicRuleSet()), {
      amount: 9000,
      timestamp: LATER,
    });
    assert.deepEqual([ids(classic), classic.risk], [["high_value"], "HIGH"]);
    // 450,000 JPY (≈ 3,000 USD) is 60 times this user's mean: large for the user, not "high value".
    const large = new User(yen, history).decide(compiled, { amount: 450_000, timestamp: LATER });
    assert.deepEqual([ids(large), large.points, large.risk], [["large_for_user"], 2, "HIGH"]);
  });

  it("a payment over 3,000 EUR the model also flags is CRITICAL by policy, whatever the points", () => {
    // A user who pays about 2,000 EUR: 3,500 is not 10 times their mean, so only high_value (2) hits;
    // score 0.61 → 2 + (0.01 / 0.1) × 3 = 2.3 points; 4.3 points would be HIGH.
    const rich = [1500, 1750, 2000, 2250, 2500, 1500, 1750, 2000, 2250, 2500, 2000, 2000];
    const v = new User({}, rich).decide(compiled, { amount: 3500, timestamp: LATER }, 0.61);
    assert.deepEqual(ids(v), ["high_value", "large_and_model_flags"]);
    assert.deepEqual([v.scorePoints, v.rulePoints, v.points], [2.3, 2, 4.3]);
    assert.deepEqual([v.risk, v.decision], ["CRITICAL", "BLOCK"]);
    assert.deepEqual(v.forced, { risk: { level: "CRITICAL", rule: "large_and_model_flags" } });
    // Without the model's agreement it stays HIGH.
    const calm = new User({}, rich).decide(compiled, { amount: 3500, timestamp: LATER }, 0.59);
    assert.deepEqual([ids(calm), calm.risk, calm.decision], [["high_value"], "HIGH", "REVIEW"]);
  });

  it("impossible travel: Berlin, then New York 30 minutes later", () => {
    const u = new User({}, EUR_HISTORY);
    u.pay({ amount: 50, timestamp: "2026-11-20T12:00:00+01:00" });
    const v = u.decide(compiled, { ...NEW_YORK, amount: 50, timestamp: "2026-11-20T06:30:00-05:00" });
    assert.ok(u.feature("speed_from_prev_kmh") > 10_000);
    assert.deepEqual(ids(v), ["new_country", "impossible_travel"]);
    assert.deepEqual([v.points, v.risk, v.decision], [4, "HIGH", "REVIEW"]);
  });

  it("card testing: the third tiny payment within minutes hits, the first two do not", () => {
    const u = new User({}, EUR_HISTORY);
    const at = (s: number) => `2026-11-20T12:00:${String(s).padStart(2, "0")}+01:00`;
    const tiny = [0, 20, 40, 59].map((s, i) =>
      u.decide(
        compiled,
        { amount: 1 + i / 10, merchant_id: `m-${i + 10}`, channel: "online", timestamp: at(s) },
        0.2,
      ),
    );
    assert.deepEqual(tiny.map(ids), [
      ["auto_approve_small_calm"],
      ["auto_approve_small_calm"],
      ["card_testing"],
      ["high_frequency", "card_testing"], // and now 3 payments in the last minute
    ]);
    assert.deepEqual(
      tiny.map((v) => `${v.points} ${v.risk} ${v.decision}`),
      ["-1 LOW APPROVE", "-1 LOW APPROVE", "3 HIGH REVIEW", "4 HIGH REVIEW"],
    );
  });

  it("blocked lists force BLOCK and CRITICAL, and a list change takes effect at once", () => {
    const c = compileRuleSet(defaultRuleSet());
    const u = new User({}, EUR_HISTORY);
    assert.equal(u.decide(c, { amount: 45, timestamp: LATER }).decision, "APPROVE");
    c.lists.add("blocked_cards", "c-1");
    const v = u.decide(c, { amount: 45, timestamp: "2026-11-21T12:00:00+01:00" });
    assert.deepEqual(ids(v), ["blocked_card", "auto_approve_small_calm"]);
    assert.deepEqual([v.risk, v.decision], ["CRITICAL", "BLOCK"]); // BLOCK wins over the auto-approval
    assert.deepEqual(v.forced, {
      risk: { level: "CRITICAL", rule: "blocked_card" },
      decision: { decision: "BLOCK", rule: "blocked_card" },
    });
    c.lists.delete("blocked_cards", "c-1");
    c.lists.add("blocked_devices", "d-1");
    assert.deepEqual(ids(u.decide(c, { amount: 45, timestamp: "2026-11-22T12:00:00+01:00" })), [
      "blocked_device",
      "auto_approve_small_calm",
    ]);
  });

  it("gambling at 03:00 local time, and a high-risk country", () => {
    const night = new User({}, EUR_HISTORY).decide(compiled, {
      amount: 60,
      merchant_category: "gambling",
      mcc: "7995",
      channel: "online",
      timestamp: "2026-11-20T03:00:00+01:00",
    });
    assert.deepEqual([ids(night), night.risk], [["high_risk_category_night"], "HIGH"]);
    const day = new User({}, EUR_HISTORY).decide(compiled, {
      amount: 60,
      merchant_category: "gambling",
      timestamp: "2026-11-20T15:00:00+01:00",
    });
    assert.deepEqual(ids(day), []);
    const kp = new User({}, EUR_HISTORY).decide(compiled, { country: "KP", amount: 50, timestamp: LATER });
    assert.deepEqual(ids(kp), ["new_country", "high_risk_country"]);
  });

  it("abroad in a country the user knows is 1 point; a new country is 2, not 3", () => {
    const u = new User({}, EUR_HISTORY);
    const first = u.decide(compiled, { ...PARIS, amount: 50, timestamp: LATER }, 0.2);
    assert.deepEqual([ids(first), first.points, first.risk], [["new_country"], 2, "HIGH"]);
    const again = u.decide(compiled, { ...PARIS, amount: 50, timestamp: "2026-11-21T12:00:00+01:00" }, 0.2);
    assert.deepEqual(
      [ids(again), again.points, again.risk, again.decision],
      [["abroad"], 1, "MEDIUM", "APPROVE"],
    );
  });

  it("a burst of payments within a minute is worth 1 point (MEDIUM) on its own", () => {
    const u = new User({}, EUR_HISTORY);
    const at = (m: number) => `2026-11-20T12:00:${String(m).padStart(2, "0")}+01:00`;
    for (const s of [0, 10, 20]) u.pay({ amount: 50, timestamp: at(s) });
    const v = u.decide(compiled, { amount: 50, timestamp: at(30) }, 0.4);
    assert.deepEqual([ids(v), v.points, v.risk], [["high_frequency"], 1, "MEDIUM"]);
  });

  it("behaves as docs/rules.md shows (hand-made feature row, explanation of a policy hit)", () => {
    const e = tx({ amount: 5000, country: "FR" });
    const v = decide(compiled, e, row(e, { is_new_country: 1, amount_mean: 50, amount_zscore: 20 }), 0, 0.1);
    assert.deepEqual(
      v.hits.map((h) => h.id),
      ["high_value", "large_for_user", "new_country"],
    );
    assert.equal(v.risk, "CRITICAL");
    const rich = [1500, 1750, 2000, 2250, 2500, 1500, 1750, 2000, 2250, 2500, 2000, 2000];
    const u = new User({}, rich);
    const big = u.pay({ amount: 3500, timestamp: LATER });
    const verdict = decide(compiled, big, u.features, 0, 0.61);
    assert.deepEqual(explainVerdict(compiled, verdict, big, u.features, 0, 0.61), [
      "score 0.61 → +2.3 points",
      '+2 high_value: More than 3,000 in a currency worth roughly a US dollar or more (classic rule, currency-aware) [event.amount = 3500 (> 3000), event.currency = "EUR" (in_list usd_scale_currencies)]',
      '+0 large_and_model_flags: Policy: a payment over 3,000 in a USD-scale currency (money at risk, whatever the user\'s habits) that the model also flags (score 0.6 or more) is CRITICAL [score = 0.61 (>= 0.6), event.amount = 3500 (> 3000), event.currency = "EUR" (in_list usd_scale_currencies)]',
      "4.3 points (high_at 2); at least CRITICAL forced by large_and_model_flags → CRITICAL → BLOCK",
    ]);
  });

  it("explains its hits in words", () => {
    const u = new User({}, EUR_HISTORY);
    const e = u.pay({ ...PARIS, amount: 5000, timestamp: LATER });
    const v = decide(compiled, e, u.features, 0, 0.1);
    const lines = explainVerdict(compiled, v, e, u.features, 0, 0.1);
    assert.equal(lines[0], "score 0.1 → +0 points");
    assert.match(
      lines[1] as string,
      /^\+2 high_value: .*\[event\.amount = 5000 \(> 3000\), event\.currency = "EUR" \(in_list usd_scale_currencies\)\]$/,
    );
    assert.match(
      lines[3] as string,
      /^\+2 new_country: .*feature\.is_new_country = 1 \(== true\), feature\.user_txn_count = 12 \(>= 1\)\]$/,
    );
    assert.equal(lines.at(-1), "6 points (critical_at 5) → CRITICAL → BLOCK");
  });
});

describe("the baselines", () => {
  it("classic: the three weighted rules, flag at 2, no score", () => {
    const rs = classicRuleSet();
    assert.equal(rs.version, `${DEFAULT_RULE_SET_VERSION}+classic`);
    assert.deepEqual(
      rs.rules.map((r) => [r.id, r.weight]),
      [
        ["high_value", 2],
        ["location_change", 2],
        ["high_frequency", 1],
      ],
    );
    assert.equal(rs.risk.high_at, 2);
    assert.deepEqual(rs.policy.score_points, []);
  });

  it("model only: the default's knots and cut-offs, no rules", () => {
    const rs = modelOnlyRuleSet();
    const d = defaultRuleSet();
    assert.equal(rs.version, `${DEFAULT_RULE_SET_VERSION}+model-only`);
    assert.deepEqual([rs.rules, rs.lists, rs.risk, rs.policy], [[], {}, d.risk, d.policy]);
  });
});
