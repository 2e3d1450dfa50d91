// Why a rule hit, in terms of the values the event had: for alerts and analysts, not the hot path
// (it interprets the rule's condition again and allocates freely). Decides nothing by itself; it
// reuses the compiled leaves, so an explanation can never disagree with the verdict it explains.
import type { Transaction } from "../contract/transaction.ts";
import { type CompiledRuleSet, compileCondition } from "./compile.ts";
import type { Verdict } from "./decide.ts";
import { type ResolvedField, resolveField } from "./fields.ts";
import type { Condition } from "./rules.ts";

export interface LeafTrace {
  /** JSON path of the leaf inside the rule, e.g. `when.all[1]`. */
  path: string;
  /** Canonical field name, e.g. `feature.amount_zscore`. */
  field: string;
  /** The event's value of the field; null when missing. */
  value: number | string | null;
  /** The test, e.g. `> 3000`, `>= 10 × feature.amount_mean (= 41.2)`, `in_list blocked_users`. */
  test: string;
  result: boolean;
}

export interface RuleTrace {
  id: string;
  result: boolean;
  /** The leaves that decided the result (for `any`, the ones that held when it held). */
  leaves: LeafTrace[];
}

function readField(
  f: ResolvedField,
  event: Transaction,
  features: Float64Array,
  offset: number,
  score: number,
): number | string | null {
  let v: number | string | undefined;
  if (f.kind === "feature") v = features[offset + f.index];
  else if (f.kind === "score") v = score;
  else if (f.kind === "metadata") {
    const m = event.metadata?.[f.key];
    v = m === undefined || m === null ? undefined : typeof m === "number" ? m : String(m);
  } else v = event[f.key];
  if (v === undefined || v === "" || (typeof v === "number" && Number.isNaN(v))) return null;
  return v;
}

function field(text: string): ResolvedField {
  const f = resolveField(text);
  if (typeof f === "string") throw new Error(`internal: unchecked field ${text}: ${f}`);
  return f;
}

function fmt(v: number | string | null): string {
  if (v === null) return "missing";
  if (typeof v === "string") return JSON.stringify(v);
  return String(Math.round(v * 1e6) / 1e6);
}

function trace(
  compiled: CompiledRuleSet,
  c: Condition,
  path: string,
  args: [Transaction, Float64Array, number, number],
): { result: boolean; leaves: LeafTrace[] } {
  const [event, features, offset, score] = args;
  if ("all" in c || "any" in c) {
    const every = "all" in c;
    const kids = ("all" in c ? c.all : c.any).map((k, i) =>
      trace(compiled, k, `${path}.${every ? "all" : "any"}[${i}]`, args),
    );
    const result = every ? kids.every((k) => k.result) : kids.some((k) => k.result);
    const shown = !every && result ? kids.filter((k) => k.result) : kids;
    return { result, leaves: shown.flatMap((k) => k.leaves) };
  }
  if ("not" in c) {
    const inner = trace(compiled, c.not, `${path}.not`, args);
    return {
      result: !inner.result,
      leaves: inner.leaves.map((l) => ({ ...l, test: `not (${l.test})`, result: !l.result })),
    };
  }
  const result = compileCondition(c, compiled.lists)(event, features, offset, score);
  let f: ResolvedField;
  let test: string;
  if ("exists" in c) {
    f = field(c.exists);
    test = "exists";
  } else if ("missing" in c) {
    f = field(c.missing);
    test = "missing";
  } else {
    f = field(c.field);
    if ("op" in c) {
      const v = c.value;
      if (typeof v === "object") {
        const g = field(v.field);
        const other = readField(g, event, features, offset, score);
        test = `${c.op} ${v.times === 1 ? "" : `${v.times} × `}${g.name} (= ${fmt(other)})`;
      } else test = `${c.op} ${typeof v === "string" ? JSON.stringify(v) : String(v)}`;
    } else if ("between" in c) test = `between [${c.between[0]}, ${c.between[1]}]`;
    else if ("in" in c) test = `in ${JSON.stringify(c.in)}`;
    else if ("not_in" in c) test = `not_in ${JSON.stringify(c.not_in)}`;
    else if ("in_list" in c) test = `in_list ${c.in_list}`;
    else test = `not_in_list ${c.not_in_list}`;
  }
  return {
    result,
    leaves: [{ path, field: f.name, value: readField(f, event, features, offset, score), test, result }],
  };
}

/** Why rule `id` did or did not hit this event. Throws for an id that is not an enabled rule. */
export function explainRule(
  compiled: CompiledRuleSet,
  id: string,
  event: Transaction,
  features: Float64Array,
  offset: number,
  score: number,
): RuleTrace {
  const rule = compiled.rule(id);
  if (rule === undefined) throw new RangeError(`rule set ${compiled.version} has no enabled rule "${id}"`);
  const t = trace(compiled, rule.when, "when", [event, features, offset, score]);
  return { id, result: t.result, leaves: t.leaves };
}

/**
 * A verdict in words, one line per contribution, e.g.
 *   score 0.82 → +2.47 points
 *   +2 new_country: The country is new for this user [feature.is_new_country = 1 (== 1), …]
 *   4.47 points → HIGH (high_at 2) → REVIEW
 */
export function explainVerdict(
  compiled: CompiledRuleSet,
  verdict: Verdict,
  event: Transaction,
  features: Float64Array,
  offset: number,
  score: number,
): string[] {
  const lines: string[] = [];
  lines.push(`score ${fmt(score)} → ${signed(verdict.scorePoints)} points`);
  for (const hit of verdict.hits) {
    const t = explainRule(compiled, hit.id, event, features, offset, score);
    const why = t.leaves
      .filter((l) => l.result)
      .map((l) => `${l.field} = ${fmt(l.value)} (${l.test})`)
      .join(", ");
    lines.push(`${signed(hit.weight)} ${hit.id}: ${hit.description} [${why}]`);
  }
  const { medium_at, high_at, critical_at } = compiled.cutoffs;
  const cut =
    verdict.points >= critical_at
      ? `critical_at ${critical_at}`
      : verdict.points >= high_at
        ? `high_at ${high_at}`
        : verdict.points >= medium_at
          ? `medium_at ${medium_at}`
          : `below medium_at ${medium_at}`;
  let tail = `${verdict.points} points (${cut})`;
  if (verdict.forced?.risk !== undefined)
    tail += `; at least ${verdict.forced.risk.level} forced by ${verdict.forced.risk.rule}`;
  tail += ` → ${verdict.risk}`;
  if (verdict.forced?.decision !== undefined)
    tail += ` → ${verdict.decision} forced by ${verdict.forced.decision.rule}`;
  else tail += ` → ${verdict.decision}`;
  lines.push(tail);
  return lines;
}

function signed(x: number): string {
  const r = Math.round(x * 1e6) / 1e6;
  return r < 0 ? String(r) : `+${r}`;
}
