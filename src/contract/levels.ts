// Risk levels and decisions: the vocabulary every decision, alert, topic message and dashboard shares.
// Plain values, no zod, so that the dashboard can import them at run time without bundling zod; the
// schemas (src/contract/outputs.ts) are built from these tuples.

/** Risk levels in increasing order; a risk code is an index into this. */
export const RISK_LEVELS = ["LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;

/** Decisions in increasing severity; a decision code is an index into this (BLOCK wins over REVIEW…). */
export const DECISIONS = ["APPROVE", "REVIEW", "BLOCK"] as const;

/** Risk levels that raise an alert (go to the anomalies topic and the alerts table). */
export function isFlagged(risk: (typeof RISK_LEVELS)[number]): boolean {
  return risk === "HIGH" || risk === "CRITICAL";
}
