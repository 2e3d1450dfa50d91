import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Transaction } from "../contract/transaction.ts";
import { featureIndex } from "../features/registry.ts";
import { type CompiledRuleSet, compileRuleSet } from "./compile.ts";
import { decide } from "./decide.ts";
import type { ConditionInput as Condition, RuleSetInput } from "./rules.ts";
import { row, tx, WIDTH } from "./testing.ts";

const LISTS = { blocked_users: ["u-9"], high_risk_countries: ["KP", "IR"], vip_users: [] as string[] };

function ruleSet(when: Condition): RuleSetInput {
  return {
    version: "t",
    lists: LISTS,
    rules: [{ id: "r", description: "the rule under test", when, weight: 1 }],
    risk: { medium_at: 1, high_at: 2, critical_at: 3 },
    policy: { score_points: [] },
  };
}

function compiled(when: Condition): CompiledRuleSet {
  return compileRuleSet(ruleSet(when));
}

/** Whether `when` holds for the event with these feature values and score. */
function holds(
  when: Condition,
  event: Transaction = tx(),
  features: Record<string, number> = {},
  score = 0.5,
): boolean {
  const c = compiled(when);
  return (c.rules[0] as { test: CompiledRuleSet["rules"][number]["test"] }).test(
    event,
    row(event, features),
    0,
    score,
  );
}

describe("comparisons", () => {
  it("on a feature: == != > >= < <= at and around the value", () => {
    const f = (op: "==" | "!=" | ">" | ">=" | "<" | "<=") =>
      [2, 3, 4].map((n) => holds({ field: "feature.txn_count_1m", op, value: 3 }, tx(), { txn_count_1m: n }));
    assert.deepEqual(f("=="), [false, true, false]);
    assert.deepEqual(f("!="), [true, false, true]);
    assert.deepEqual(f(">"), [false, false, true]);
    assert.deepEqual(f(">="), [false, true, true]);
    assert.deepEqual(f("<"), [true, false, false]);
    assert.deepEqual(f("<="), [true, true, false]);
  });

  it("on the amount (event field and feature column agree) and on the score", () => {
    const e = tx({ amount: 3000 });
    assert.equal(holds({ field: "amount", op: ">", value: 3000 }, e), false);
    assert.equal(holds({ field: "event.amount", op: ">=", value: 3000 }, e), true);
    assert.equal(holds({ field: "feature.amount", op: "==", value: 3000 }, e), true);
    assert.equal(holds({ field: "amount", op: "<", value: 3000.01 }, e), true);
    assert.equal(holds({ field: "score", op: ">=", value: 0.75 }, e, {}, 0.75), true);
    assert.equal(holds({ field: "score", op: ">", value: 0.75 }, e, {}, 0.75), false);
    assert.equal(holds({ field: "score", op: "<=", value: 0.75 }, e, {}, 0.75), true);
    assert.equal(holds({ field: "score", op: "<", value: 0.75 }, e, {}, 0.75), false);
    assert.equal(holds({ field: "score", op: "==", value: 0.75 }, e, {}, 0.75), true);
    assert.equal(holds({ field: "score", op: "!=", value: 0.75 }, e, {}, 0.7), true);
  });

  it("on an optional numeric event field (latitude), missing fails every op", () => {
    const at = tx({ latitude: 48.1 });
    const none = tx();
    for (const op of ["==", "!=", ">", ">=", "<", "<="] as const) {
      assert.equal(holds({ field: "event.latitude", op, value: 0 }, none), false, op);
    }
    assert.equal(holds({ field: "event.latitude", op: ">", value: 48 }, at), true);
    assert.equal(holds({ field: "event.latitude", op: "<=", value: 48 }, at), false);
    assert.equal(holds({ field: "event.latitude", op: "!=", value: 48 }, at), true);
    assert.equal(holds({ field: "event.latitude", between: [48, 49] }, at), true);
  });

  it("on strings: == and != with exact, case-sensitive matching; missing or empty fails both", () => {
    assert.equal(holds({ field: "country", op: "==", value: "DE" }), true);
    assert.equal(holds({ field: "country", op: "!=", value: "DE" }), false);
    assert.equal(holds({ field: "country", op: "!=", value: "FR" }), true);
    assert.equal(holds({ field: "merchant_category", op: "==", value: "Grocery" }), false);
    const none = tx({ country: undefined, merchant_id: "" });
    assert.equal(holds({ field: "country", op: "!=", value: "FR" }, none), false);
    assert.equal(holds({ field: "country", op: "==", value: "FR" }, none), false);
    assert.equal(holds({ field: "merchant_id", op: "!=", value: "m-1" }, none), false);
  });

  it("booleans compare with 0/1 features", () => {
    assert.equal(holds({ field: "is_new_device", op: "==", value: true }, tx(), { is_new_device: 1 }), true);
    assert.equal(
      holds({ field: "is_new_device", op: "==", value: false }, tx(), { is_new_device: 1 }),
      false,
    );
    assert.equal(holds({ field: "is_new_device", op: "!=", value: true }, tx(), { is_new_device: 0 }), true);
  });

  it("field against field × times (user-relative amounts)", () => {
    const e = tx({ amount: 500 });
    const mean = (m: number) => ({ amount_mean: m });
    const tenTimes: Condition = {
      field: "amount",
      op: ">=",
      value: { field: "feature.amount_mean", times: 10 },
    };
    assert.equal(holds(tenTimes, e, mean(50)), true); // 500 ≥ 10 × 50, at the edge
    assert.equal(holds(tenTimes, e, mean(50.01)), false);
    assert.equal(
      holds({ field: "amount", op: ">", value: { field: "amount_mean", times: 10 } }, e, mean(50)),
      false,
    );
    assert.equal(holds({ field: "amount", op: "==", value: { field: "amount_mean" } }, e, mean(500)), true);
    assert.equal(holds({ field: "amount", op: "!=", value: { field: "amount_mean" } }, e, mean(500)), false);
    assert.equal(
      holds({ field: "amount", op: "<", value: { field: "amount_mean", times: 0.3 } }, e, mean(2000)),
      true,
    );
    assert.equal(
      holds({ field: "amount", op: "<=", value: { field: "amount_mean", times: 0.3 } }, e, mean(1000)),
      false,
    );
    // Score against a feature and a missing event field against a feature go through the general path.
    assert.equal(
      holds({ field: "score", op: ">", value: { field: "feature.is_foreign" } }, e, {}, 0.1),
      true,
    );
    assert.equal(
      holds({ field: "event.latitude", op: "<", value: { field: "amount_mean" } }, e, mean(1)),
      false,
    );
    assert.equal(
      holds(
        { field: "event.latitude", op: "<", value: { field: "amount_mean" } },
        tx({ latitude: 0.5 }),
        mean(1),
      ),
      true,
    );
  });
});

describe("ranges, memberships, presence", () => {
  it("between includes both ends", () => {
    const night: Condition = { field: "hour_of_day", between: [0, 5] };
    // 00:00, 05:59 and 06:00 local time (the timestamp's own offset).
    assert.equal(holds(night, tx({ timestamp: "2026-11-26T00:00:00+09:00" })), true);
    assert.equal(holds(night, tx({ timestamp: "2026-11-26T05:59:59-05:00" })), true);
    assert.equal(holds(night, tx({ timestamp: "2026-11-26T06:00:00Z" })), false);
    assert.equal(holds({ field: "score", between: [0.5, 0.5] }, tx(), {}, 0.5), true);
  });

  it("in / not_in a literal list of strings or numbers", () => {
    assert.equal(holds({ field: "channel", in: ["online", "pos"] }), true);
    assert.equal(holds({ field: "channel", not_in: ["online", "pos"] }), false);
    assert.equal(holds({ field: "channel", not_in: ["online"] }), true);
    assert.equal(
      holds({ field: "feature.day_of_week", in: [0, 6] }, tx({ timestamp: "2026-11-29T10:00:00Z" })),
      true,
    ); // Sunday
    assert.equal(
      holds({ field: "feature.day_of_week", not_in: [0, 6] }, tx({ timestamp: "2026-11-29T10:00:00Z" })),
      false,
    );
    assert.equal(holds({ field: "feature.day_of_week", not_in: [0, 6] }), true); // Thursday
    assert.equal(holds({ field: "score", in: [0.5] }, tx(), {}, 0.5), true);
    assert.equal(holds({ field: "event.latitude", in: [1] }), false);
    // A missing value is in no list, and not "not in" one either.
    assert.equal(holds({ field: "channel", not_in: ["online"] }, tx({ channel: undefined })), false);
  });

  it("in_list / not_in_list a named list", () => {
    assert.equal(holds({ field: "user_id", in_list: "blocked_users" }, tx({ user_id: "u-9" })), true);
    assert.equal(holds({ field: "user_id", in_list: "blocked_users" }), false);
    assert.equal(holds({ field: "country", not_in_list: "high_risk_countries" }), true);
    assert.equal(
      holds({ field: "country", not_in_list: "high_risk_countries" }, tx({ country: "IR" })),
      false,
    );
    assert.equal(holds({ field: "user_id", in_list: "vip_users" }), false); // empty list
    assert.equal(holds({ field: "user_id", not_in_list: "vip_users" }), true);
    assert.equal(holds({ field: "card_id", not_in_list: "vip_users" }, tx({ card_id: undefined })), false);
  });

  it("exists / missing on event fields (empty string = missing), features (NaN = missing) and the score", () => {
    assert.equal(holds({ exists: "card_id" }), true);
    assert.equal(holds({ missing: "card_id" }), false);
    assert.equal(holds({ exists: "card_id" }, tx({ card_id: undefined })), false);
    assert.equal(holds({ missing: "card_id" }, tx({ card_id: undefined })), true);
    assert.equal(holds({ missing: "merchant_id" }, tx({ merchant_id: "" })), true);
    assert.equal(holds({ exists: "event.latitude" }, tx({ latitude: 0 })), true);
    assert.equal(holds({ missing: "event.latitude" }), true);
    assert.equal(holds({ exists: "feature.amount_zscore" }), true);
    assert.equal(holds({ missing: "feature.amount_zscore" }, tx(), { amount_zscore: Number.NaN }), true);
    assert.equal(holds({ exists: "score" }, tx(), {}, Number.NaN), false);
    assert.equal(holds({ missing: "score" }, tx(), {}, Number.NaN), true);
    // NaN fails comparisons, != included.
    assert.equal(
      holds({ field: "amount_zscore", op: "!=", value: 1 }, tx(), { amount_zscore: Number.NaN }),
      false,
    );
  });
});

describe("boolean combinations", () => {
  const big: Condition = { field: "amount", op: ">", value: 1000 };
  const foreign: Condition = { field: "is_foreign", op: "==", value: 1 };
  const night: Condition = { field: "hour_of_day", between: [0, 5] };
  const cases: [Transaction, boolean, boolean, boolean][] = [
    [tx({ amount: 5000, country: "FR" }), true, true, false],
    [tx({ amount: 5000 }), true, false, false],
    [tx({ country: "FR" }), false, true, false],
    [tx(), false, false, false],
    [tx({ amount: 5000, country: "FR", timestamp: "2026-11-26T03:00:00+01:00" }), true, true, true],
  ];

  it("all / any / not, one to many children, nested", () => {
    for (const [e, b, f, n] of cases) {
      assert.equal(holds({ all: [big] }, e), b);
      assert.equal(holds({ all: [big, foreign] }, e), b && f);
      assert.equal(holds({ all: [big, foreign, night] }, e), b && f && n);
      assert.equal(holds({ any: [big] }, e), b);
      assert.equal(holds({ any: [big, foreign] }, e), b || f);
      assert.equal(holds({ any: [big, foreign, night] }, e), b || f || n);
      assert.equal(holds({ not: big }, e), !b);
      assert.equal(holds({ not: { any: [big, foreign] } }, e), !(b || f));
      assert.equal(
        holds({ any: [{ all: [big, night] }, { all: [foreign, { not: big }] }] }, e),
        (b && n) || (f && !b),
      );
    }
  });
});

describe("lists at runtime", () => {
  const blocked = (): CompiledRuleSet => compiled({ field: "user_id", in_list: "blocked_users" });
  const hit = (c: CompiledRuleSet, user: string) => {
    const e = tx({ user_id: user });
    return decide(c, e, row(e), 0, 0).hits.length === 1;
  };

  it("an edit in place is seen by the next evaluation, without recompiling", () => {
    const c = blocked();
    assert.equal(c.lists.revision, 0);
    assert.equal(hit(c, "u-7"), false);
    c.lists.add("blocked_users", "u-7");
    assert.equal(hit(c, "u-7"), true);
    assert.equal(c.lists.delete("blocked_users", "u-7", "u-nobody"), 1);
    assert.equal(hit(c, "u-7"), false);
    assert.equal(hit(c, "u-9"), true);
    c.lists.set("blocked_users", ["u-1"]);
    assert.equal(hit(c, "u-9"), false);
    assert.equal(hit(c, "u-1"), true);
    assert.equal(c.lists.revision, 3);
    assert.deepEqual(c.toRuleSet().lists.blocked_users, ["u-1"]);
    assert.deepEqual(c.source.lists.blocked_users, ["u-9"]); // as loaded
  });

  it("withLists gives a new rule set and leaves the original alone", () => {
    const c = blocked();
    const d = c.withLists({ blocked_users: ["u-2"] });
    assert.equal(hit(d, "u-2"), true);
    assert.equal(hit(d, "u-9"), false);
    assert.equal(hit(c, "u-2"), false);
    assert.equal(hit(c, "u-9"), true);
    assert.deepEqual(d.lists.get("high_risk_countries"), new Set(["KP", "IR"])); // not overridden: copied
    c.lists.add("high_risk_countries", "MM");
    assert.equal(d.lists.get("high_risk_countries").has("MM"), false);
  });

  it("edits that rules could never use are refused, naming the list and the reason", () => {
    const c = compiled({ field: "country", in_list: "high_risk_countries" });
    assert.throws(() => c.lists.add("high_risk_country", "KP"), {
      name: "ListError",
      message:
        /unknown list "high_risk_country"; this rule set declares "blocked_users", "high_risk_countries", "vip_users"/,
    });
    assert.throws(() => c.lists.add("high_risk_countries", "kp"), {
      name: "ListError",
      message: /"kp" can never equal event.country, which is an ISO 3166-1 alpha-2 code in upper case/,
    });
    assert.throws(() => c.withLists({ high_risk_countries: ["Iran"] }), { name: "ListError" });
    assert.throws(() => c.withLists({ nope: [] }), { name: "ListError" });
    assert.deepEqual([...c.lists.get("high_risk_countries")], ["KP", "IR"]); // unchanged by refused edits
  });
});

describe("compiled rule set", () => {
  it("leaves disabled rules out and keeps the order of the others", () => {
    const c = compileRuleSet({
      ...ruleSet({ exists: "card_id" }),
      rules: [
        { id: "a", description: "a", when: { exists: "card_id" } },
        { id: "b", description: "b", when: { exists: "card_id" }, enabled: false },
        { id: "c", description: "c", when: { exists: "card_id" } },
      ],
    });
    assert.deepEqual(
      c.rules.map((r) => r.id),
      ["a", "c"],
    );
    assert.equal(c.rule("b"), undefined);
  });

  it("reads the row at the offset given", () => {
    const c = compiled({ field: "txn_count_1m", op: ">=", value: 3 });
    const e = tx();
    const rows = new Float64Array(3 * WIDTH);
    rows.set(row(e, { txn_count_1m: 5 }), 2 * WIDTH);
    const test = (c.rules[0] as { test: CompiledRuleSet["rules"][number]["test"] }).test;
    assert.equal(test(e, rows, 0, 0), false);
    assert.equal(test(e, rows, 2 * WIDTH, 0), true);
    assert.equal(rows[2 * WIDTH + featureIndex("txn_count_1m")], 5);
  });
});
