import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TransactionSchema } from "../contract/transaction.ts";
import { FEATURE_NAMES } from "../features/registry.ts";
import { EVENT_FIELD_NAMES, EVENT_FIELD_TYPES, resolveField } from "./fields.ts";
import {
  type ConditionInput,
  loadRuleSet,
  parseRuleSet,
  type RuleInput,
  type RuleSetError,
  type RuleSetInput,
  ruleSetJsonSchema,
} from "./rules.ts";

const base = (): RuleSetInput => ({
  version: "test-1",
  lists: { blocked_users: ["u-9"], high_risk_countries: ["KP"] },
  rules: [],
  risk: { medium_at: 1, high_at: 2, critical_at: 5 },
  policy: { score_points: [] },
});

const withRule = (when: unknown, extra: Record<string, unknown> = {}): unknown => ({
  ...base(),
  rules: [{ id: "r", description: "a rule", when, weight: 1, ...extra }],
});

/** The "path: message" lines of the RuleSetError thrown for `input`. */
function problems(input: unknown): string[] {
  try {
    parseRuleSet(input);
  } catch (err) {
    assert.equal((err as Error).name, "RuleSetError", String(err));
    return (err as RuleSetError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail("expected the rule set to be rejected");
}

describe("fields", () => {
  it("resolves prefixed and bare names; a bare name is the event field first", () => {
    assert.deepEqual(resolveField("event.country"), {
      kind: "event",
      type: "string",
      key: "country",
      name: "event.country",
    });
    assert.deepEqual(resolveField("country"), resolveField("event.country"));
    assert.equal((resolveField("feature.txn_count_1m") as { index: number }).index, 8);
    assert.deepEqual(resolveField("txn_count_1m"), resolveField("feature.txn_count_1m"));
    assert.equal((resolveField("is_new_country") as { boolean: boolean }).boolean, true);
    assert.deepEqual(resolveField("score"), { kind: "score", type: "number", name: "score" });
    assert.deepEqual(resolveField("amount"), resolveField("event.amount"));
  });

  it("the only name that is both an event field and a feature is amount, which hold the same value", () => {
    // If this grows, a bare name would silently mean the event field; make the new name unambiguous.
    assert.deepEqual(
      EVENT_FIELD_NAMES.filter((n) => FEATURE_NAMES.includes(n)),
      ["amount"],
    );
  });

  it("classifies every field of the event contract", () => {
    assert.deepEqual(Object.keys(EVENT_FIELD_TYPES).sort(), Object.keys(TransactionSchema.shape).sort());
  });

  it("refuses labels and unknown names, suggesting the nearest", () => {
    assert.match(resolveField("event.is_fraud") as string, /ground-truth label/);
    assert.equal(
      resolveField("feature.txn_cnt_1m"),
      'unknown feature "txn_cnt_1m"; did you mean txn_count_1m?',
    );
    assert.equal(resolveField("event.cuntry"), 'unknown event field "cuntry"; did you mean country?');
    assert.match(
      resolveField("amount_zcore") as string,
      /^unknown field "amount_zcore"; did you mean amount_zscore\?/,
    );
    assert.match(resolveField("wibble") as string, /^unknown field "wibble" \(fields are/);
  });
});

describe("rule-set schema", () => {
  it("fills defaults: weight 0, enabled, decisions by risk, no lists, empty description", () => {
    const rs = parseRuleSet({
      version: "v1",
      rules: [{ id: "x", description: "d", when: { exists: "event.card_id" } }],
      risk: { medium_at: 1, high_at: 2, critical_at: 3 },
      policy: { score_points: [] },
    });
    assert.equal(rs.rules[0]?.weight, 0);
    assert.equal(rs.rules[0]?.enabled, true);
    assert.deepEqual(rs.lists, {});
    assert.equal(rs.description, "");
    assert.deepEqual(rs.policy.decisions, {
      LOW: "APPROVE",
      MEDIUM: "APPROVE",
      HIGH: "REVIEW",
      CRITICAL: "BLOCK",
    });
  });

  it("accepts every kind of condition", () => {
    const all: ConditionInput[] = [
      { field: "amount", op: ">", value: 3000 },
      { field: "event.amount", op: ">=", value: { field: "feature.amount_mean", times: 10 } },
      { field: "feature.is_new_device", op: "==", value: true },
      { field: "event.currency", op: "!=", value: "EUR" },
      { field: "feature.hour_of_day", between: [0, 5] },
      { field: "event.channel", in: ["online", "mobile"] },
      { field: "feature.channel_code", not_in: [0, 3] },
      { field: "event.user_id", in_list: "blocked_users" },
      { field: "event.country", not_in_list: "high_risk_countries" },
      { exists: "event.device_id" },
      { missing: "event.card_id" },
      { any: [{ field: "score", op: ">=", value: 0.9 }, { not: { missing: "event.mcc" } }] },
    ];
    const rs = parseRuleSet(withRule({ all }));
    assert.equal(rs.rules.length, 1);
  });

  it("generates a JSON Schema of the language (for editors and the docs)", () => {
    const schema = ruleSetJsonSchema() as {
      properties: Record<string, unknown>;
      required: string[];
      $defs?: Record<string, unknown>;
    };
    assert.deepEqual(schema.required.sort(), ["policy", "risk", "rules", "version"]);
    const text = JSON.stringify(schema);
    for (const key of [
      "in_list",
      "not_in_list",
      "between",
      "exists",
      "missing",
      "all",
      "any",
      "not",
      "times",
    ])
      assert.ok(text.includes(`"${key}"`), key);
  });
});

describe("bad rule sets are rejected with the JSON path of each problem", () => {
  it("an unknown feature deep in a condition, with a suggestion", () => {
    const rs = base();
    const ok: RuleInput = {
      id: "ok",
      description: "fine",
      when: { field: "score", op: ">", value: 0.5 },
      weight: 1,
    };
    rs.rules = [
      { ...ok, id: "a" },
      { ...ok, id: "b" },
      { ...ok, id: "c" },
      {
        id: "d",
        description: "velocity",
        weight: 1,
        when: {
          all: [
            { field: "amount", op: ">", value: 10 },
            { field: "feature.txn_cnt_1m", op: ">=", value: 3 },
          ],
        },
      },
    ];
    assert.deepEqual(problems(rs), [
      'rules[3].when.all[1].field: unknown feature "txn_cnt_1m"; did you mean txn_count_1m?',
    ]);
  });

  it("comparing a string field with a number, or ordering strings", () => {
    assert.deepEqual(problems(withRule({ field: "country", op: "==", value: 49 })), [
      'rules[0].when.value: event.country is a string; compare it with a string such as "49", not the number 49',
    ]);
    assert.deepEqual(problems(withRule({ field: "event.currency", op: ">", value: "EUR" })), [
      'rules[0].when.op: ">" orders numbers; event.currency is a string: use ==, !=, in or not_in',
    ]);
    assert.deepEqual(problems(withRule({ field: "amount", op: "==", value: "3000" })), [
      'rules[0].when.value: event.amount is a number; compare it with a number, not the string "3000"',
    ]);
    assert.deepEqual(problems(withRule({ field: "event.country", between: [1, 2] })), [
      "rules[0].when.field: event.country is a string; between applies to numbers",
    ]);
  });

  it("an unknown list, or a named list on a numeric field", () => {
    assert.deepEqual(problems(withRule({ field: "event.user_id", in_list: "blocked_user" })), [
      'rules[0].when.in_list: unknown list "blocked_user"; did you mean blocked_users? (declare it under "lists")',
    ]);
    assert.deepEqual(
      problems(withRule({ not: { field: "feature.hour_of_day", not_in_list: "blocked_users" } })),
      [
        'rules[0].when.not.field: feature.hour_of_day is a number and named lists hold strings; use "in": [numbers] instead',
      ],
    );
  });

  it("list values and literals that can never match the field's format", () => {
    const rs = withRule({ field: "event.country", in_list: "high_risk_countries" }) as RuleSetInput;
    rs.lists = { high_risk_countries: ["KP", "ir"] };
    assert.deepEqual(problems(rs), [
      'lists.high_risk_countries[1]: "ir" can never equal event.country, which is an ISO 3166-1 alpha-2 code in upper case, such as DE (the list is tested against it at rules[0].when)',
    ]);
    assert.deepEqual(problems(withRule({ field: "channel", in: ["web", "pos", ""] })), [
      'rules[0].when.in[0]: "web" can never equal event.channel, which is one of pos, online, atm, transfer, mobile (lower case)',
      'rules[0].when.in[2]: an empty string counts as a missing value and never matches; test it with {"missing": field}',
    ]);
  });

  it("values outside what a field can hold", () => {
    assert.deepEqual(problems(withRule({ field: "score", op: ">=", value: 75 })), [
      "rules[0].when.value: the model score is in [0, 1]; 75 is outside it (did you mean 0.75?)",
    ]);
    assert.deepEqual(problems(withRule({ field: "feature.is_new_device", op: "==", value: 2 })), [
      "rules[0].when.value: feature.is_new_device is 0 or 1 (or true/false); 2 is neither",
    ]);
    assert.deepEqual(problems(withRule({ field: "feature.txn_count_1h", op: "==", value: true })), [
      "rules[0].when.value: true/false compares only with 0/1 features such as feature.is_new_country; feature.txn_count_1h is a number",
    ]);
    assert.deepEqual(problems(withRule({ field: "feature.hour_of_day", between: [6, 1] })), [
      "rules[0].when.between: [6, 1] is empty: write [lo, hi] with lo ≤ hi",
    ]);
  });

  it("the label, and a field-to-field comparison with a string", () => {
    assert.deepEqual(problems(withRule({ field: "event.is_fraud", op: "==", value: 1 })), [
      "rules[0].when.field: event.is_fraud is the ground-truth label: rules may not read it (it is absent in production and would make a backtest look perfect)",
    ]);
    assert.deepEqual(problems(withRule({ field: "amount", op: ">", value: { field: "event.currency" } })), [
      "rules[0].when.value.field: event.currency is a string; compare numbers only",
    ]);
  });

  it("structure: unknown keys, missing keys, two tests in one object, a bad operator", () => {
    assert.deepEqual(problems(withRule({ field: "amount", op: ">", valeu: 3 })), [
      "rules[0].when.value: required",
      'rules[0].when.valeu: unknown key "valeu" (did you mean "value"?)',
    ]);
    assert.deepEqual(problems(withRule({ field: "amount", op: ">", value: 3, between: [1, 2] })), [
      'rules[0].when: one test per condition object, found "op" and "between": combine tests with "all" or "any"',
    ]);
    assert.deepEqual(problems(withRule({ field: "amount", greater: 3 })), [
      'rules[0].when: a condition needs one of "op", "between", "in", "in_list", "not_in", "not_in_list", "exists", "missing", "all", "any", "not"; unknown key "greater"',
    ]);
    const bad = problems(withRule({ any: [{ exists: "amount" }, { field: "amount", op: "=>", value: 1 }] }));
    assert.equal(bad.length, 1);
    assert.match(bad[0] as string, /^rules\[0\]\.when\.any\[1\]\.op: Invalid option: expected one of "=="/);
    assert.deepEqual(problems(withRule({ all: [] })), [
      "rules[0].when.all: Too small: expected array to have >=1 items",
    ]);
    assert.deepEqual(problems(withRule("amount > 3000")), [
      'rules[0].when: expected a condition such as {"field": "amount", "op": ">", "value": 3000}, got the string "amount > 3000"',
    ]);
    assert.deepEqual(problems(withRule({ field: "amount", op: ">", value: [1] })), [
      'rules[0].when.value: expected a number, a string, true/false or {"field": ..., "times": ...}, got an array',
    ]);
  });

  it("rules: ids, forced levels; cut-offs, knots and decisions out of order", () => {
    const rs = base();
    const when = { exists: "event.card_id" };
    rs.rules = [
      { id: "same", description: "1", when },
      { id: "same", description: "2", when },
      { id: "Not A Slug", description: "3", when, risk: "SEVERE" as "HIGH" },
    ];
    rs.risk = { medium_at: 2, high_at: 2, critical_at: 1 };
    rs.policy = {
      score_points: [
        { score: 0.8, points: 2 },
        { score: 0.5, points: 1 },
      ],
      decisions: { LOW: "APPROVE", MEDIUM: "REVIEW", HIGH: "APPROVE", CRITICAL: "BLOCK" },
    };
    // Structure first: the semantic checks run on a well-formed rule set only.
    assert.deepEqual(problems(rs), [
      "rules[2].id: rule ids are slugs: lower case letters and digits, words joined by _ or -",
      'rules[2].risk: Invalid option: expected one of "LOW"|"MEDIUM"|"HIGH"|"CRITICAL"',
    ]);
    (rs.rules[2] as { id: string }).id = "fine";
    delete (rs.rules[2] as { risk?: string }).risk;
    assert.deepEqual(problems(rs), [
      'rules[1].id: duplicate rule id "same" (also rules[0]); ids must be unique, hits are reported by id',
      "risk.high_at: must be greater than medium_at (2)",
      "risk.critical_at: must be greater than high_at (2)",
      "policy.score_points[1].score: knots go by increasing score: 0.5 must be greater than 0.8",
      "policy.score_points[1].points: a higher score must not be worth fewer points: 1 < 2",
      "policy.decisions.HIGH: APPROVE is milder than REVIEW for MEDIUM: a higher risk must not get a milder decision",
    ]);
  });

  it("the error message lists every problem and names the rule set", () => {
    const rs = withRule({
      all: [
        { field: "feature.nope", op: ">", value: 1 },
        { field: "event.country", in_list: "nope" },
      ],
    }) as RuleSetInput;
    rs.version = "mine-2";
    assert.throws(
      () => parseRuleSet(rs),
      (err: Error) => {
        assert.equal(err.name, "RuleSetError");
        assert.match(
          err.message,
          /^rule set "mine-2" is invalid \(2 problems\); fix these and load it again:\n/,
        );
        assert.match(err.message, /\n {2}rules\[0\]\.when\.all\[0\]\.field: unknown feature "nope"/);
        assert.match(err.message, /\n {2}rules\[0\]\.when\.all\[1\]\.in_list: unknown list "nope"/);
        return true;
      },
    );
  });

  it("text that is not JSON, and a document that is not an object", () => {
    assert.throws(
      () => loadRuleSet("{ nope"),
      /rule set is invalid \(1 problem\)[\s\S]*\(document\): not JSON/,
    );
    assert.deepEqual(problems([]), [": Invalid input: expected object, received array"]);
  });

  it("disabled rules are checked too (so they do not rot)", () => {
    assert.deepEqual(problems(withRule({ field: "feature.nope", op: ">", value: 1 }, { enabled: false })), [
      'rules[0].when.field: unknown feature "nope"',
    ]);
  });
});
