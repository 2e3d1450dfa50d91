// Risk levels and decisions: the vocabulary every decision, alert and dashboard shares.
import { z } from "zod";

export const RiskLevelSchema = z.enum(["LOW", "MEDIUM", "HIGH", "CRITICAL"]);
export type RiskLevel = z.infer<typeof RiskLevelSchema>;

export const DecisionSchema = z.enum(["APPROVE", "REVIEW", "BLOCK"]);
export type Decision = z.infer<typeof DecisionSchema>;

/** Risk levels that raise an alert (go to the anomalies topic and the alerts table). */
export function isFlagged(risk: RiskLevel): boolean {
  return risk === "HIGH" || risk === "CRITICAL";
}
