// The explanation stored with each scored row (and sent with each anomaly): the points from the score
// and the rules, the rules that hit, and for a flagged row the features that pushed the model score.
// The shape is ExplanationSchema (src/contract/outputs.ts); this builds it from a verdict slot.
import type { Explanation, Factor } from "../contract/outputs.ts";
import type { CompiledRuleSet } from "./compile.ts";
import { hitsAt, type VerdictBuffer } from "./decide.ts";

/** Model factors kept in an explanation. */
export const EXPLAIN_TOP = 6;

/** What the explanation needs of the scorer: its explain function, when it has one, and its width. */
export interface FactorSource {
  readonly featureNames: readonly string[];
  explain?(row: ArrayLike<number>): { features: readonly Factor[] };
}

/** Said instead of factors when the model gave no score: never guess a reason. */
export const NO_SCORE = "no score: a feature value was missing or not finite";

/**
 * The explanation of slot `i` of `verdicts`, decided with a rule set whose rules are `rules`, for a
 * row whose model score was `score`. Factors (the costlier part, hence only for alerts) come from
 * `factors.explain` of the scorer's row at `rows[at ..]` when `factors` is given and the score is a
 * number; the top EXPLAIN_TOP, contributions rounded to 1e-4.
 */
export function explanationAt(
  rules: CompiledRuleSet["rules"],
  verdicts: VerdictBuffer,
  i: number,
  score: number,
  factors?: { source: FactorSource; rows: Float64Array; at: number },
): Explanation {
  const out: Explanation = {
    points: {
      score: verdicts.scorePoints[i] as number,
      rules: verdicts.rulePoints[i] as number,
      total: verdicts.points[i] as number,
    },
    hits: hitsAt(rules, verdicts, i),
  };
  if (Number.isNaN(score)) out.model = NO_SCORE;
  else if (factors?.source.explain !== undefined) {
    const { rows, at } = factors;
    const ex = factors.source.explain(rows.subarray(at, at + factors.source.featureNames.length));
    out.factors = ex.features.slice(0, EXPLAIN_TOP).map((f) => ({
      feature: f.feature,
      value: f.value,
      contribution: Math.round(f.contribution * 1e4) / 1e4,
    }));
  }
  return out;
}
