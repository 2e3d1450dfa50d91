// Moved to src/contract (levels.ts, outputs.ts): risk levels and decisions are part of the output
// contract. Re-exported here only until the worker imports them from there.
export {
  type Decision,
  DecisionSchema,
  isFlagged,
  type RiskLevel,
  RiskLevelSchema,
} from "../contract/outputs.ts";
