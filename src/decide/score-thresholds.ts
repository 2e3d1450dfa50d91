// Where a rule set puts the model's REVIEW and BLOCK thresholds. The model score becomes points through
// policy.score_points (piecewise linear, non-decreasing), the points a risk level through the cut-offs,
// the level a decision through policy.decisions; so, for an event no rule hits, there is a lowest
// score from which the decision is REVIEW (or worse) and one from which it is BLOCK. Training reports
// precision and recall there, `thresholds suggest` moves them. Pure.
import { DECISIONS, type Decision, RISK_LEVELS, type RiskLevel } from "../contract/outputs.ts";
import type { RuleSet } from "./rules.ts";

export interface ScoreThresholds {
  /** Lowest score at which the model alone gets REVIEW or BLOCK; null: it never does. */
  review: number | null;
  /** Lowest score at which the model alone gets BLOCK; null: it never does. */
  block: number | null;
}

/** The lowest score worth at least `points` under the knots; null when no score is. */
export function scoreForPoints(knots: RuleSet["policy"]["score_points"], points: number): number | null {
  if (knots.length === 0) return points <= 0 ? Number.NEGATIVE_INFINITY : null;
  if (points <= 0) return Number.NEGATIVE_INFINITY;
  for (let i = 0; i < knots.length; i++) {
    const k = knots[i] as { score: number; points: number };
    if (k.points >= points) {
      const prev = knots[i - 1];
      // Linear from the previous knot; below the first knot the score is worth 0.
      if (prev === undefined || prev.points === k.points) return k.score;
      return prev.score + ((points - prev.points) / (k.points - prev.points)) * (k.score - prev.score);
    }
  }
  return null;
}

const CUTOFF: Record<RiskLevel, (rs: RuleSet) => number> = {
  LOW: () => Number.NEGATIVE_INFINITY,
  MEDIUM: (rs) => rs.risk.medium_at,
  HIGH: (rs) => rs.risk.high_at,
  CRITICAL: (rs) => rs.risk.critical_at,
};

/** The lowest score from which an event no rule hits is decided `decision` or more severely. */
function thresholdFor(rs: RuleSet, decision: Decision): number | null {
  const min = DECISIONS.indexOf(decision);
  for (const level of RISK_LEVELS) {
    if (DECISIONS.indexOf(rs.policy.decisions[level]) >= min) {
      const s = scoreForPoints(rs.policy.score_points, CUTOFF[level](rs));
      return s === null ? null : Math.max(0, s);
    }
  }
  return null;
}

export function scoreThresholds(rs: RuleSet): ScoreThresholds {
  return { review: thresholdFor(rs, "REVIEW"), block: thresholdFor(rs, "BLOCK") };
}

/**
 * The rule set with its score knots replaced so that the model alone reaches MEDIUM at the midpoint
 * below `review`, HIGH at `review` and CRITICAL at `block` (the default decisions: REVIEW, BLOCK). The
 * rules and the cut-offs are unchanged, so a rule's weight counts as before.
 */
export function withScoreThresholds(
  rs: RuleSet,
  t: { review: number; block: number },
  version: string,
): RuleSet {
  if (!(t.review > 0 && t.review < t.block && t.block <= 1))
    throw new RangeError(
      `thresholds must satisfy 0 < review < block ≤ 1, got review ${t.review}, block ${t.block}`,
    );
  const { medium_at, high_at, critical_at } = rs.risk;
  return {
    ...rs,
    version,
    policy: {
      ...rs.policy,
      score_points: [
        { score: t.review / 2, points: medium_at },
        { score: t.review, points: high_at },
        { score: t.block, points: critical_at },
      ],
    },
  };
}
