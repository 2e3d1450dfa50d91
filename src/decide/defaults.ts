// The shipped rule sets: the default (default-rules.json) and the two baselines a backtest compares it
// with, the classic weighted rules alone and the model score alone. All three share the risk cut-offs
// and (where the score counts) the score-to-points knots, so that only the thing compared differs.
import defaultRules from "./default-rules.json" with { type: "json" };
import { parseRuleSet, type RuleSet } from "./rules.ts";

/** The default rule set, validated (a fresh copy each call: callers may edit it). */
export function defaultRuleSet(): RuleSet {
  return parseRuleSet(structuredClone(defaultRules));
}

export const DEFAULT_RULE_SET_VERSION: string = defaultRules.version;

/**
 * The weighted scheme of the reference pipelines and nothing else: amount > 3,000 (in whatever
 * currency: that is how they did it) 2 points, a location change (a country new to the user, or
 * country ≠ home_country) 2 points, 3+ payments in a minute or 8+ in an hour 1 point; flagged (HIGH)
 * at 2 points. The model score adds nothing.
 */
export function classicRuleSet(base: RuleSet = defaultRuleSet()): RuleSet {
  return parseRuleSet({
    version: `${base.version}+classic`,
    description:
      "Classic weighted rules only (high value 2, location change 2, high frequency 1; flag at 2), no model score",
    lists: {},
    rules: [
      {
        id: "high_value",
        description: "Amount over 3,000 (currency-blind, as in the reference pipelines)",
        when: { field: "event.amount", op: ">", value: 3000 },
        weight: 2,
      },
      {
        id: "location_change",
        description: "A country new to the user, or a country other than the home country",
        when: {
          any: [
            {
              all: [
                { field: "feature.is_new_country", op: "==", value: true },
                { field: "feature.user_txn_count", op: ">=", value: 1 },
              ],
            },
            { field: "feature.is_foreign", op: "==", value: true },
          ],
        },
        weight: 2,
      },
      {
        id: "high_frequency",
        description: "3+ prior payments in the last minute or 8+ in the last hour",
        when: {
          any: [
            { field: "feature.txn_count_1m", op: ">=", value: 3 },
            { field: "feature.txn_count_1h", op: ">=", value: 8 },
          ],
        },
        weight: 1,
      },
    ],
    risk: { medium_at: 1, high_at: 2, critical_at: 5 },
    policy: { score_points: [], decisions: base.policy.decisions },
  });
}

/** The model score alone: `base`'s cut-offs and score-to-points knots, no rules, no lists. */
export function modelOnlyRuleSet(base: RuleSet = defaultRuleSet()): RuleSet {
  return parseRuleSet({
    version: `${base.version}+model-only`,
    description: `Model score only, mapped to points and risk as in ${base.version}; no rules`,
    lists: {},
    rules: [],
    risk: base.risk,
    policy: base.policy,
  });
}
