// Rule conditions compiled into closures over (event, feature vector, row offset, score). Names are
// resolved to columns and lists to cells once, here; evaluation then reads a typed array slot or an
// event property and compares, allocating nothing. Every leaf reads and compares inside one closure
// so that no number crosses a call boundary (a non-integer double returned from a call that is not
// inlined is boxed, i.e. allocated).

import { DECISIONS, RISK_LEVELS } from "../contract/levels.ts";
import type { Decision, RiskLevel, RuleHit } from "../contract/outputs.ts";
import type { Transaction } from "../contract/transaction.ts";
import { featureIndex } from "../features/registry.ts";
import type { EventNumberField, EventStringField, ResolvedField } from "./fields.ts";
import { resolveField } from "./fields.ts";
import { type ListCell, ListStore } from "./lists.ts";
import {
  type ComparisonOp,
  type Condition,
  checkRuleSet,
  parseRuleSet,
  type RiskCutoffs,
  type RuleSet,
  type RuleSetInput,
} from "./rules.ts";

/** A compiled condition. `offset` is where the event's row starts in `features` (FEATURES order). */
export type Test = (event: Transaction, features: Float64Array, offset: number, score: number) => boolean;

export interface CompiledRule {
  readonly id: string;
  readonly description: string;
  readonly weight: number;
  readonly decision: Decision | undefined;
  readonly risk: RiskLevel | undefined;
  /** Index into RISK_LEVELS of the forced risk, −1 when the rule forces none. */
  readonly riskCode: number;
  /** Index into DECISIONS of the forced decision, −1 when the rule forces none. */
  readonly decisionCode: number;
  /** The rule as a verdict reports its hit: one frozen object per rule, shared by all verdicts. */
  readonly hit: Readonly<RuleHit>;
  readonly when: Condition;
  readonly test: Test;
}

const AMOUNT_COLUMN = featureIndex("amount");

function resolved(text: string): ResolvedField {
  const f = resolveField(text);
  // parseRuleSet has already rejected unresolvable names, with their paths.
  if (typeof f === "string") throw new Error(`internal: unchecked field reached the compiler: ${f}`);
  // The amount is also feature column 0, written from the event itself: reading the typed array
  // avoids a property load on events of many shapes and the boxing of a returned double.
  if (f.kind === "event" && f.key === "amount")
    return { kind: "feature", type: "number", index: AMOUNT_COLUMN, boolean: false, name: f.name };
  return f;
}

const NEVER: Test = () => false;

function compareNumber(f: ResolvedField, op: ComparisonOp, k: number): Test {
  if (f.kind === "feature") {
    const c = f.index;
    switch (op) {
      case "==":
        return (_e, x, o) => x[o + c] === k;
      case "!=":
        return (_e, x, o) => {
          const v = x[o + c] as number;
          return !Number.isNaN(v) && v !== k;
        };
      case ">":
        return (_e, x, o) => (x[o + c] as number) > k;
      case ">=":
        return (_e, x, o) => (x[o + c] as number) >= k;
      case "<":
        return (_e, x, o) => (x[o + c] as number) < k;
      case "<=":
        return (_e, x, o) => (x[o + c] as number) <= k;
    }
  }
  if (f.kind === "score") {
    switch (op) {
      case "==":
        return (_e, _x, _o, s) => s === k;
      case "!=":
        return (_e, _x, _o, s) => !Number.isNaN(s) && s !== k;
      case ">":
        return (_e, _x, _o, s) => s > k;
      case ">=":
        return (_e, _x, _o, s) => s >= k;
      case "<":
        return (_e, _x, _o, s) => s < k;
      case "<=":
        return (_e, _x, _o, s) => s <= k;
    }
  }
  if (f.type !== "number") return NEVER;
  const key: EventNumberField = f.key;
  switch (op) {
    case "==":
      return (e) => e[key] === k;
    case "!=":
      return (e) => {
        const v = e[key];
        return v !== undefined && v !== k;
      };
    case ">":
      return (e) => {
        const v = e[key];
        return v !== undefined && v > k;
      };
    case ">=":
      return (e) => {
        const v = e[key];
        return v !== undefined && v >= k;
      };
    case "<":
      return (e) => {
        const v = e[key];
        return v !== undefined && v < k;
      };
    case "<=":
      return (e) => {
        const v = e[key];
        return v !== undefined && v <= k;
      };
  }
}

/**
 * Field against field × times. Both sides are loaded into a per-condition scratch array rather than
 * returned, for the reason given at the top of this file; NaN stands for missing and fails every op.
 */
function compareFields(f: ResolvedField, op: ComparisonOp, g: ResolvedField, times: number): Test {
  if (f.kind === "feature" && g.kind === "feature") return compareColumns(f.index, op, g.index, times);
  const slots = new Float64Array(2);
  const load = loader(f, slots, 0);
  const loadOther = loader(g, slots, 1);
  const both = (e: Transaction, x: Float64Array, o: number, s: number): boolean => {
    load(e, x, o, s);
    loadOther(e, x, o, s);
    return !Number.isNaN(slots[0]) && !Number.isNaN(slots[1]);
  };
  switch (op) {
    case "==":
      return (e, x, o, s) => both(e, x, o, s) && slots[0] === (slots[1] as number) * times;
    case "!=":
      return (e, x, o, s) => both(e, x, o, s) && slots[0] !== (slots[1] as number) * times;
    case ">":
      return (e, x, o, s) => both(e, x, o, s) && (slots[0] as number) > (slots[1] as number) * times;
    case ">=":
      return (e, x, o, s) => both(e, x, o, s) && (slots[0] as number) >= (slots[1] as number) * times;
    case "<":
      return (e, x, o, s) => both(e, x, o, s) && (slots[0] as number) < (slots[1] as number) * times;
    case "<=":
      return (e, x, o, s) => both(e, x, o, s) && (slots[0] as number) <= (slots[1] as number) * times;
  }
}

/** Column against column × times, the common case (event.amount is a column too); NaN fails every op. */
function compareColumns(a: number, op: ComparisonOp, b: number, times: number): Test {
  switch (op) {
    case "==":
      return (_e, x, o) => x[o + a] === (x[o + b] as number) * times;
    case "!=":
      return (_e, x, o) => {
        const l = x[o + a] as number;
        const r = (x[o + b] as number) * times;
        return !Number.isNaN(l) && !Number.isNaN(r) && l !== r;
      };
    case ">":
      return (_e, x, o) => (x[o + a] as number) > (x[o + b] as number) * times;
    case ">=":
      return (_e, x, o) => (x[o + a] as number) >= (x[o + b] as number) * times;
    case "<":
      return (_e, x, o) => (x[o + a] as number) < (x[o + b] as number) * times;
    case "<=":
      return (_e, x, o) => (x[o + a] as number) <= (x[o + b] as number) * times;
  }
}

type Loader = (e: Transaction, x: Float64Array, o: number, s: number) => void;

function loader(f: ResolvedField, into: Float64Array, slot: number): Loader {
  if (f.kind === "feature") {
    const c = f.index;
    return (_e, x, o) => {
      into[slot] = x[o + c] as number;
    };
  }
  if (f.kind === "score")
    return (_e, _x, _o, s) => {
      into[slot] = s;
    };
  if (f.type !== "number") throw new Error(`internal: ${f.name} is not a number`);
  const key: EventNumberField = f.key;
  return (e) => {
    into[slot] = e[key] ?? Number.NaN;
  };
}

function between(f: ResolvedField, lo: number, hi: number): Test {
  if (f.kind === "feature") {
    const c = f.index;
    return (_e, x, o) => {
      const v = x[o + c] as number;
      return v >= lo && v <= hi;
    };
  }
  if (f.kind === "score") return (_e, _x, _o, s) => s >= lo && s <= hi;
  if (f.type !== "number") return NEVER;
  const key: EventNumberField = f.key;
  return (e) => {
    const v = e[key];
    return v !== undefined && v >= lo && v <= hi;
  };
}

/** Numeric membership by a scan of a few values: no boxing of the looked-up number. */
function inNumbers(f: ResolvedField, values: readonly number[], negate: boolean): Test {
  const vals = Float64Array.from(values);
  const n = vals.length;
  const member = (v: number): boolean => {
    for (let j = 0; j < n; j++) if (vals[j] === v) return true;
    return false;
  };
  if (f.kind === "feature") {
    const c = f.index;
    return (_e, x, o) => {
      const v = x[o + c] as number;
      return !Number.isNaN(v) && member(v) !== negate;
    };
  }
  if (f.kind === "score") return (_e, _x, _o, s) => !Number.isNaN(s) && member(s) !== negate;
  if (f.type !== "number") return NEVER;
  const key: EventNumberField = f.key;
  return (e) => {
    const v = e[key];
    return v !== undefined && member(v) !== negate;
  };
}

/**
 * One function literal per field: V8 keeps inline caches per literal, so each field's load stays as
 * fast as the events' shapes allow instead of sharing one megamorphic keyed load. An empty string
 * reads as missing, as in the feature engine.
 */
const STRING_GETTERS: Record<EventStringField, (e: Transaction) => string | undefined> = {
  transaction_id: (e) => e.transaction_id || undefined,
  timestamp: (e) => e.timestamp || undefined,
  user_id: (e) => e.user_id || undefined,
  card_id: (e) => e.card_id || undefined,
  currency: (e) => e.currency || undefined,
  merchant_id: (e) => e.merchant_id || undefined,
  merchant_name: (e) => e.merchant_name || undefined,
  merchant_category: (e) => e.merchant_category || undefined,
  mcc: (e) => e.mcc || undefined,
  channel: (e) => e.channel || undefined,
  device: (e) => e.device || undefined,
  device_id: (e) => e.device_id || undefined,
  ip_address: (e) => e.ip_address || undefined,
  country: (e) => e.country || undefined,
  city: (e) => e.city || undefined,
  home_country: (e) => e.home_country || undefined,
};

/** How a text field is read: an event field, or a metadata key (scalars by their text; "" and null as missing). */
function stringGetter(f: ResolvedField & { type: "string" }): (e: Transaction) => string | undefined {
  if (f.kind === "event") return STRING_GETTERS[f.key];
  const key = f.key;
  return (e) => {
    const v = e.metadata?.[key];
    return v === undefined || v === null || v === "" ? undefined : String(v);
  };
}

/** String membership in a list cell (named lists: the cell's values change at runtime). */
function inStrings(get: (e: Transaction) => string | undefined, cell: ListCell, negate: boolean): Test {
  return negate
    ? (e) => {
        const v = get(e);
        return v !== undefined && !cell.values.has(v);
      }
    : (e) => {
        // Blocked lists are usually empty: skip reading the event at all.
        const values = cell.values;
        if (values.size === 0) return false;
        const v = get(e);
        return v !== undefined && values.has(v);
      };
}

function equalsString(get: (e: Transaction) => string | undefined, k: string, negate: boolean): Test {
  return negate
    ? (e) => {
        const v = get(e);
        return v !== undefined && v !== k;
      }
    : (e) => get(e) === k;
}

function exists(f: ResolvedField, present: boolean): Test {
  if (f.kind === "feature") {
    const c = f.index;
    return (_e, x, o) => {
      const v = x[o + c] as number;
      return Number.isNaN(v) !== present;
    };
  }
  if (f.kind === "score") return (_e, _x, _o, s) => Number.isNaN(s) !== present;
  if (f.type === "number") {
    const key: EventNumberField = f.key;
    return (e) => (e[key] !== undefined) === present;
  }
  const get = stringGetter(f);
  return (e) => (get(e) !== undefined) === present;
}

function combine(kids: Test[], every: boolean): Test {
  if (kids.length === 1) return kids[0] as Test;
  if (kids.length === 2) {
    const a = kids[0] as Test;
    const b = kids[1] as Test;
    return every
      ? (e, x, o, s) => a(e, x, o, s) && b(e, x, o, s)
      : (e, x, o, s) => a(e, x, o, s) || b(e, x, o, s);
  }
  const n = kids.length;
  return every
    ? (e, x, o, s) => {
        for (let j = 0; j < n; j++) if (!(kids[j] as Test)(e, x, o, s)) return false;
        return true;
      }
    : (e, x, o, s) => {
        for (let j = 0; j < n; j++) if ((kids[j] as Test)(e, x, o, s)) return true;
        return false;
      };
}

/** Compiles one (already checked) condition; named lists are looked up in `lists`. */
export function compileCondition(c: Condition, lists: ListStore): Test {
  if ("all" in c)
    return combine(
      c.all.map((k) => compileCondition(k, lists)),
      true,
    );
  if ("any" in c)
    return combine(
      c.any.map((k) => compileCondition(k, lists)),
      false,
    );
  if ("not" in c) {
    const t = compileCondition(c.not, lists);
    return (e, x, o, s) => !t(e, x, o, s);
  }
  if ("exists" in c) return exists(resolved(c.exists), true);
  if ("missing" in c) return exists(resolved(c.missing), false);
  const f = resolved(c.field);
  if ("op" in c) {
    const v = c.value;
    if (typeof v === "object") return compareFields(f, c.op, resolved(v.field), v.times);
    if (typeof v === "boolean") return compareNumber(f, c.op, v ? 1 : 0);
    if (typeof v === "number") return compareNumber(f, c.op, v);
    if (f.type !== "string") return NEVER;
    if (c.op === "==" || c.op === "!=") return equalsString(stringGetter(f), v, c.op === "!=");
    return NEVER;
  }
  if ("between" in c) return between(f, c.between[0], c.between[1]);
  if ("in" in c || "not_in" in c) {
    const values = "in" in c ? c.in : c.not_in;
    const negate = !("in" in c);
    if (f.type === "string")
      return inStrings(stringGetter(f), { values: new Set(values.map(String)) }, negate);
    return inNumbers(f, values.map(Number), negate);
  }
  const name = "in_list" in c ? c.in_list : c.not_in_list;
  if (f.type !== "string") return NEVER;
  return inStrings(stringGetter(f), lists.cell(name), "not_in_list" in c);
}

/**
 * A rule set ready to evaluate (see decide.ts). Built by compileRuleSet; holds the enabled rules in
 * order, the risk cut-offs, the score-to-points knots and the live list store.
 */
export class CompiledRuleSet {
  readonly version: string;
  readonly description: string;
  /** Enabled rules in rule-set order (disabled ones are checked at load time, then left out). */
  readonly rules: readonly CompiledRule[];
  /** The named lists, editable at runtime: an edit takes effect at the next evaluation. */
  readonly lists: ListStore;
  readonly cutoffs: Readonly<RiskCutoffs>;
  /** policy.score_points as two parallel arrays (scores ascending). */
  readonly knotScores: Float64Array;
  readonly knotPoints: Float64Array;
  /** policy.decisions as decision codes, indexed by risk code. */
  readonly decisionByRisk: Uint8Array;
  /** The rule set as loaded (lists as they were at load time; see toRuleSet for the current ones). */
  readonly source: RuleSet;

  /** Use compileRuleSet; this trusts that `source` was validated and `lists` built from its check. */
  constructor(source: RuleSet, lists: ListStore) {
    this.source = source;
    this.version = source.version;
    this.description = source.description;
    this.lists = lists;
    this.cutoffs = Object.freeze({ ...source.risk });
    this.knotScores = Float64Array.from(source.policy.score_points, (k) => k.score);
    this.knotPoints = Float64Array.from(source.policy.score_points, (k) => k.points);
    this.decisionByRisk = Uint8Array.from(RISK_LEVELS, (r) => DECISIONS.indexOf(source.policy.decisions[r]));
    this.rules = source.rules
      .filter((r) => r.enabled)
      .map((r) => ({
        id: r.id,
        description: r.description,
        weight: r.weight,
        decision: r.decision,
        risk: r.risk,
        riskCode: r.risk === undefined ? -1 : RISK_LEVELS.indexOf(r.risk),
        decisionCode: r.decision === undefined ? -1 : DECISIONS.indexOf(r.decision),
        hit: Object.freeze({ id: r.id, weight: r.weight, description: r.description }),
        when: r.when,
        test: compileCondition(r.when, lists),
      }));
  }

  /**
   * The same rules with other list values: a new compiled rule set whose lists start from this one's
   * current values, replaced by `lists` where given. This one is left as it is (an immutable swap,
   * e.g. one per batch); to edit lists in place instead, use `lists.set/add/delete`.
   */
  withLists(lists: Readonly<Record<string, readonly string[]>>): CompiledRuleSet {
    for (const name of Object.keys(lists)) this.lists.cell(name); // unknown names fail here, by name
    const { listUses } = checkRuleSet(this.source);
    const store = new ListStore(this.lists.snapshot(), listUses);
    for (const [name, values] of Object.entries(lists)) store.set(name, values); // checks formats
    return new CompiledRuleSet(this.source, store);
  }

  /** The rule set with its lists as they are now (what to store after runtime list edits). */
  toRuleSet(): RuleSet {
    return { ...this.source, lists: this.lists.snapshot() };
  }

  /** The compiled rule with this id (enabled rules only). */
  rule(id: string): CompiledRule | undefined {
    return this.rules.find((r) => r.id === id);
  }
}

/** Validates (see parseRuleSet; throws RuleSetError with JSON paths) and compiles a rule set. */
export function compileRuleSet(input: RuleSetInput): CompiledRuleSet {
  const source = parseRuleSet(input);
  const { listUses } = checkRuleSet(source);
  return new CompiledRuleSet(source, new ListStore(source.lists, listUses));
}
