// The decision core's public surface: rule sets as data, compiled once, decided per event. Pure: no
// I/O, no clock. See docs/rules.md. Risk levels, decisions and explanations are output shapes: they
// are declared in src/contract/outputs.ts and re-exported here.
export {
  DECISIONS,
  type Decision,
  type Explanation,
  isFlagged,
  RISK_LEVELS,
  type RiskLevel,
  type RuleHit,
} from "../contract/outputs.ts";
export {
  type CompiledRule,
  CompiledRuleSet,
  compileRuleSet,
  type Test,
} from "./compile.ts";
export {
  decide,
  decideBatch,
  decideInto,
  type Forced,
  hitsAt,
  riskFromPoints,
  scorePoints,
  type Verdict,
  VerdictBuffer,
  verdictAt,
} from "./decide.ts";
export { classicRuleSet, DEFAULT_RULE_SET_VERSION, defaultRuleSet, modelOnlyRuleSet } from "./defaults.ts";
export { explainRule, explainVerdict, type LeafTrace, type RuleTrace } from "./explain.ts";
export { EXPLAIN_TOP, explanationAt, type FactorSource, NO_SCORE } from "./explanation.ts";
export { EVENT_FIELD_NAMES, resolveField } from "./fields.ts";
export { ListError, ListStore } from "./lists.ts";
export {
  type Condition,
  type ConditionInput,
  loadRuleSet,
  parseRuleSet,
  type Rule,
  type RuleInput,
  type RuleSet,
  RuleSetError,
  type RuleSetInput,
  type RuleSetIssue,
  ruleSetJsonSchema,
} from "./rules.ts";
