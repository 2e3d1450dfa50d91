// Combining the model score and the rules into one risk level and decision, with the reasons.
//
//   points = score points (policy.score_points, piecewise linear in the score)
//          + Σ weight of the rules that hit
//   risk   = the level whose cut-off the points reach (risk.medium_at / high_at / critical_at),
//            raised to the highest level a hit rule forces (rule.risk)
//   decision = the most severe decision a hit rule forces (BLOCK > REVIEW > APPROVE),
//            else policy.decisions[risk] (LOW/MEDIUM → APPROVE, HIGH → REVIEW, CRITICAL → BLOCK)
//
// Pure and deterministic: the same compiled rule set, event, features and score give the same verdict.

import { DECISIONS, type Decision, RISK_LEVELS, type RiskLevel, type RuleHit } from "../contract/outputs.ts";
import type { Transaction } from "../contract/transaction.ts";
import type { CompiledRuleSet } from "./compile.ts";
import type { RiskCutoffs } from "./rules.ts";

export interface Forced {
  /** The highest risk level forced by a hit rule, and the first rule (in rule-set order) forcing it. */
  risk?: { level: RiskLevel; rule: string };
  /** The most severe decision forced by a hit rule, and the first rule forcing it. */
  decision?: { decision: Decision; rule: string };
}

export interface Verdict {
  risk: RiskLevel;
  decision: Decision;
  /** scorePoints + rulePoints (rounded to 9 decimals, so that decimal weights add up as written). */
  points: number;
  /** What the model score contributed (policy.score_points). */
  scorePoints: number;
  /** Sum of the weights of the rules that hit. */
  rulePoints: number;
  /** Rules whose condition held, in rule-set order. */
  hits: RuleHit[];
  /** Present when a hit rule forces a risk level or a decision. */
  forced?: Forced;
}

function round9(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

/**
 * Points the model score is worth: 0 below the first knot, linear between knots, the last knot's points
 * at and above the last knot. A score that is not a number (no model) is worth 0.
 */
export function scorePoints(compiled: CompiledRuleSet, score: number): number {
  const ks = compiled.knotScores;
  const ps = compiled.knotPoints;
  const n = ks.length;
  if (n === 0 || !(score >= (ks[0] as number))) return 0;
  let k = 0;
  while (k + 1 < n && score >= (ks[k + 1] as number)) k++;
  const p0 = ps[k] as number;
  if (k === n - 1) return p0;
  const s0 = ks[k] as number;
  return p0 + ((score - s0) / ((ks[k + 1] as number) - s0)) * ((ps[k + 1] as number) - p0);
}

/** Risk code (index into RISK_LEVELS) of a number of points: each cut-off belongs to the level above. */
export function riskCode(cutoffs: Readonly<RiskCutoffs>, points: number): number {
  return points >= cutoffs.critical_at
    ? 3
    : points >= cutoffs.high_at
      ? 2
      : points >= cutoffs.medium_at
        ? 1
        : 0;
}

export function riskFromPoints(cutoffs: Readonly<RiskCutoffs>, points: number): RiskLevel {
  return RISK_LEVELS[riskCode(cutoffs, points)] as RiskLevel;
}

/**
 * The verdict on one event. `features` holds the event's feature vector (FEATURES order) at `offset`;
 * `score` is the model's, in [0, 1], higher = more anomalous. Allocates only the verdict and its hits
 * array (the hit objects are shared). decideInto() into a one-slot scratch buffer, then verdictAt(), so
 * there is one implementation of the rules' evaluation.
 */
export function decide(
  compiled: CompiledRuleSet,
  event: Transaction,
  features: Float64Array,
  offset: number,
  score: number,
): Verdict {
  const out = scratchFor(compiled);
  decideInto(compiled, event, features, offset, score, out, 0);
  return verdictAt(compiled, out, 0);
}

/** decide()'s one-slot buffer, regrown when a rule set has more rules than it holds hits. */
let scratch: VerdictBuffer | undefined;

function scratchFor(compiled: CompiledRuleSet): VerdictBuffer {
  if (scratch === undefined || scratch.ruleCount < compiled.rules.length)
    scratch = VerdictBuffer.for(compiled, 1);
  return scratch;
}

function forced(
  compiled: CompiledRuleSet,
  risk: number,
  riskRule: number,
  decision: number,
  decisionRule: number,
): Forced {
  const out: Forced = {};
  if (riskRule >= 0)
    out.risk = {
      level: RISK_LEVELS[risk] as RiskLevel,
      rule: (compiled.rules[riskRule] as { id: string }).id,
    };
  if (decisionRule >= 0)
    out.decision = {
      decision: DECISIONS[decision] as Decision,
      rule: (compiled.rules[decisionRule] as { id: string }).id,
    };
  return out;
}

/**
 * Verdicts of many events as codes in typed arrays, for paths that must not allocate per event (the
 * worker's batch, backtests over millions of events). Slot i holds one event's verdict; verdictAt()
 * turns a slot into a Verdict object when one is needed (an alert, a stored explanation).
 */
export class VerdictBuffer {
  readonly capacity: number;
  readonly ruleCount: number;
  /** Index into RISK_LEVELS. */
  readonly risk: Uint8Array;
  /** Index into DECISIONS. */
  readonly decision: Uint8Array;
  readonly points: Float64Array;
  readonly scorePoints: Float64Array;
  readonly rulePoints: Float64Array;
  /** Number of rules that hit, per slot. */
  readonly hitCount: Uint16Array;
  /** Slot i's hits are hitRules[i·ruleCount .. i·ruleCount + hitCount[i]), indices into compiled.rules. */
  readonly hitRules: Uint16Array;
  /** Index into compiled.rules of the rule that forced the risk / the decision; −1: none. */
  readonly forcedRiskRule: Int32Array;
  readonly forcedDecisionRule: Int32Array;

  /** `ruleCount`: compiled.rules.length of the rule sets it will hold verdicts of (at most). */
  constructor(capacity: number, ruleCount: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError("capacity must be an integer ≥ 0");
    if (!Number.isInteger(ruleCount) || ruleCount < 0 || ruleCount > 65_535)
      throw new RangeError("ruleCount must be an integer in 0..65535");
    this.capacity = capacity;
    this.ruleCount = ruleCount;
    this.risk = new Uint8Array(capacity);
    this.decision = new Uint8Array(capacity);
    this.points = new Float64Array(capacity);
    this.scorePoints = new Float64Array(capacity);
    this.rulePoints = new Float64Array(capacity);
    this.hitCount = new Uint16Array(capacity);
    this.hitRules = new Uint16Array(capacity * ruleCount);
    this.forcedRiskRule = new Int32Array(capacity);
    this.forcedDecisionRule = new Int32Array(capacity);
  }

  /** A buffer sized for `capacity` verdicts of this rule set. */
  static for(compiled: CompiledRuleSet, capacity: number): VerdictBuffer {
    return new VerdictBuffer(capacity, compiled.rules.length);
  }
}

/** decide() into slot `i` of `out`, allocating nothing. */
export function decideInto(
  compiled: CompiledRuleSet,
  event: Transaction,
  features: Float64Array,
  offset: number,
  score: number,
  out: VerdictBuffer,
  i: number,
): void {
  const rules = compiled.rules;
  if (rules.length > out.ruleCount)
    throw new RangeError(
      `VerdictBuffer holds ${out.ruleCount} hits per verdict, rule set ${compiled.version} has ${rules.length} rules: allocate it with VerdictBuffer.for(compiled, n)`,
    );
  if (!(i >= 0 && i < out.capacity))
    throw new RangeError(`slot ${i} is outside the buffer (0..${out.capacity - 1})`);
  const base = i * out.ruleCount;
  let hits = 0;
  let rulePoints = 0;
  let forcedRisk = -1;
  let forcedRiskRule = -1;
  let forcedDecision = -1;
  let forcedDecisionRule = -1;
  for (let r = 0; r < rules.length; r++) {
    const rule = rules[r] as (typeof rules)[number];
    if (!rule.test(event, features, offset, score)) continue;
    out.hitRules[base + hits++] = r;
    rulePoints += rule.weight;
    if (rule.riskCode > forcedRisk) {
      forcedRisk = rule.riskCode;
      forcedRiskRule = r;
    }
    if (rule.decisionCode > forcedDecision) {
      forcedDecision = rule.decisionCode;
      forcedDecisionRule = r;
    }
  }
  const sp = round9(scorePoints(compiled, score));
  const rp = round9(rulePoints);
  const points = round9(sp + rp);
  const risk = Math.max(riskCode(compiled.cutoffs, points), forcedRisk);
  out.risk[i] = risk;
  out.decision[i] = forcedDecision >= 0 ? forcedDecision : (compiled.decisionByRisk[risk] as number);
  out.points[i] = points;
  out.scorePoints[i] = sp;
  out.rulePoints[i] = rp;
  out.hitCount[i] = hits;
  out.forcedRiskRule[i] = forcedRiskRule;
  out.forcedDecisionRule[i] = forcedDecisionRule;
}

/**
 * Decides `n` events whose feature rows are contiguous: event k's row starts at `k × width` in
 * `features`, its score is `scores[k]`, its verdict goes to slot k of `out`.
 */
export function decideBatch(
  compiled: CompiledRuleSet,
  events: readonly Transaction[],
  features: Float64Array,
  width: number,
  scores: Float64Array,
  out: VerdictBuffer,
  n: number = events.length,
): void {
  if (n > out.capacity || n > scores.length || features.length < n * width || n > events.length)
    throw new RangeError("decideBatch: events, features, scores or the buffer is shorter than n");
  for (let k = 0; k < n; k++)
    decideInto(compiled, events[k] as Transaction, features, k * width, scores[k] as number, out, k);
}

/** The rules that hit in slot `i` of `out` (decided with a rule set whose rules are `rules`), in order. */
export function hitsAt(rules: CompiledRuleSet["rules"], out: VerdictBuffer, i: number): RuleHit[] {
  const base = i * out.ruleCount;
  const hits: RuleHit[] = [];
  for (let h = 0; h < (out.hitCount[i] as number); h++)
    hits.push((rules[out.hitRules[base + h] as number] as { hit: RuleHit }).hit);
  return hits;
}

/** The Verdict object of slot `i` (decided with `compiled`). */
export function verdictAt(compiled: CompiledRuleSet, out: VerdictBuffer, i: number): Verdict {
  const rules = compiled.rules;
  const hits = hitsAt(rules, out, i);
  const risk = out.risk[i] as number;
  const riskRule = out.forcedRiskRule[i] as number;
  const decisionRule = out.forcedDecisionRule[i] as number;
  const verdict: Verdict = {
    risk: RISK_LEVELS[risk] as RiskLevel,
    decision: DECISIONS[out.decision[i] as number] as Decision,
    points: out.points[i] as number,
    scorePoints: out.scorePoints[i] as number,
    rulePoints: out.rulePoints[i] as number,
    hits,
  };
  if (riskRule >= 0 || decisionRule >= 0)
    verdict.forced = forced(
      compiled,
      riskRule >= 0 ? (rules[riskRule] as { riskCode: number }).riskCode : -1,
      riskRule,
      decisionRule >= 0 ? (rules[decisionRule] as { decisionCode: number }).decisionCode : -1,
      decisionRule,
    );
  return verdict;
}
