// PROVISIONAL decision policy: fixed score cut-offs, no rules. It stands in until the rule engine
// (rules as data, versioned rule sets) replaces it; its version string says so on every row it decides.
import type { Decision, RiskLevel } from "./levels.ts";

export const PROVISIONAL_RULE_SET_VERSION = "provisional-cutoffs-v0";

export interface Verdict {
  risk: RiskLevel;
  decision: Decision;
}

const VERDICTS: readonly Verdict[] = [
  { risk: "LOW", decision: "APPROVE" },
  { risk: "MEDIUM", decision: "APPROVE" },
  { risk: "HIGH", decision: "REVIEW" },
  { risk: "CRITICAL", decision: "BLOCK" },
];

/** Maps an anomaly score in [0, 1] to a risk level and decision by fixed cut-offs 0.5 / 0.75 / 0.9. */
export function provisionalVerdict(score: number): Verdict {
  const level = score >= 0.9 ? 3 : score >= 0.75 ? 2 : score >= 0.5 ? 1 : 0;
  return VERDICTS[level] as Verdict;
}
