// The rule-set language: one zod schema (types and the JSON Schema are derived from it) plus the checks
// a schema cannot express (field names, types, list names, formats), all reported with the JSON path of
// the offending value so that whoever edits a rule set can find it. See docs/rules.md.
import { z } from "zod";
import { DECISIONS, RISK_LEVELS } from "../contract/levels.ts";
import { type Decision, DecisionSchema, type RiskLevel, RiskLevelSchema } from "../contract/outputs.ts";
import { closest, FIELD_FORMATS, type ResolvedField, resolveField } from "./fields.ts";

const SLUG = /^[a-z0-9]+(?:[_-][a-z0-9]+)*$/;
const LIST_NAME = /^[a-z][a-z0-9_]*$/;

export const COMPARISON_OPS = ["==", "!=", ">", ">=", "<", "<="] as const;
export type ComparisonOp = (typeof COMPARISON_OPS)[number];

const FieldText = z
  .string()
  .min(1)
  .max(100)
  .describe(
    "event.<field>, feature.<registry name>, score, or a bare name (event field first, then feature)",
  );

const ListName = z
  .string()
  .regex(LIST_NAME, "list names are lower case letters, digits and _, starting with a letter")
  .max(64);

/** The other side of a comparison may be another numeric field, optionally scaled: amount > 10 × mean. */
export const FieldValueSchema = z.strictObject({
  field: FieldText,
  times: z.number().default(1).describe("multiplier of the field's value (default 1)"),
});

const CompareSchema = z.strictObject({
  field: FieldText,
  op: z.enum(COMPARISON_OPS),
  value: z.union([z.number(), z.string(), z.boolean(), FieldValueSchema]),
});
const BetweenSchema = z.strictObject({
  field: FieldText,
  between: z.tuple([z.number(), z.number()]).describe("[lo, hi], both ends included"),
});
const Literals = z.array(z.union([z.string(), z.number()])).min(1);
const InSchema = z.strictObject({ field: FieldText, in: Literals });
const InListSchema = z.strictObject({ field: FieldText, in_list: ListName });
const NotInSchema = z.strictObject({ field: FieldText, not_in: Literals });
const NotInListSchema = z.strictObject({ field: FieldText, not_in_list: ListName });
const ExistsSchema = z.strictObject({ exists: FieldText });
const MissingSchema = z.strictObject({ missing: FieldText });
const AllSchema = z.strictObject({
  get all() {
    return z.array(ConditionSchema).min(1);
  },
});
const AnySchema = z.strictObject({
  get any() {
    return z.array(ConditionSchema).min(1);
  },
});
const NotSchema = z.strictObject({
  get not() {
    return ConditionSchema;
  },
});

/** The key that tells each kind of condition apart, in the order of ConditionSchema's options. */
const CONDITION_KEYS = [
  "op",
  "between",
  "in",
  "in_list",
  "not_in",
  "not_in_list",
  "exists",
  "missing",
  "all",
  "any",
  "not",
] as const;

export const ConditionSchema = z.union([
  CompareSchema,
  BetweenSchema,
  InSchema,
  InListSchema,
  NotInSchema,
  NotInListSchema,
  ExistsSchema,
  MissingSchema,
  AllSchema,
  AnySchema,
  NotSchema,
]);
/** A condition after validation (defaults filled in). */
export type Condition = z.infer<typeof ConditionSchema>;
/** A condition as written. */
export type ConditionInput = z.input<typeof ConditionSchema>;

export const RuleSchema = z.strictObject({
  id: z
    .string()
    .max(64)
    .regex(SLUG, "rule ids are slugs: lower case letters and digits, words joined by _ or -"),
  description: z.string().min(1).max(500),
  when: ConditionSchema,
  weight: z.number().default(0).describe("points added when the rule hits; may be negative"),
  decision: DecisionSchema.optional().describe("forces at least this decision (BLOCK > REVIEW > APPROVE)"),
  risk: RiskLevelSchema.optional().describe("forces at least this risk level"),
  enabled: z.boolean().default(true),
});
export type Rule = z.infer<typeof RuleSchema>;
export type RuleInput = z.input<typeof RuleSchema>;

export const RiskCutoffsSchema = z.strictObject({
  medium_at: z.number(),
  high_at: z.number(),
  critical_at: z.number(),
});
export type RiskCutoffs = z.infer<typeof RiskCutoffsSchema>;

export const ScoreKnotSchema = z.strictObject({
  score: z.number().min(0).max(1),
  points: z.number(),
});

export const DEFAULT_DECISIONS = {
  LOW: "APPROVE",
  MEDIUM: "APPROVE",
  HIGH: "REVIEW",
  CRITICAL: "BLOCK",
} as const;

export const PolicySchema = z.strictObject({
  score_points: z
    .array(ScoreKnotSchema)
    .describe(
      "model score → points: 0 below the first knot, linear between knots, the last knot's points above it; [] = the score adds nothing",
    ),
  decisions: z
    .strictObject(
      Object.fromEntries(RISK_LEVELS.map((level) => [level, DecisionSchema])) as Record<
        RiskLevel,
        typeof DecisionSchema
      >,
    )
    .default(DEFAULT_DECISIONS),
});
export type Policy = z.infer<typeof PolicySchema>;

export const RuleSetSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,63}$/, "1-64 characters of A-Z a-z 0-9 _ . : + - (not leading)"),
  description: z.string().max(2000).default(""),
  rules: z.array(RuleSchema),
  lists: z.record(ListName, z.array(z.string().min(1).max(200))).default({}),
  risk: RiskCutoffsSchema,
  policy: PolicySchema,
});
/** A validated rule set (defaults filled in). */
export type RuleSet = z.infer<typeof RuleSetSchema>;
/** A rule set as written (defaults optional). */
export type RuleSetInput = z.input<typeof RuleSetSchema>;

export interface RuleSetIssue {
  /** JSON path of the offending value, e.g. `rules[3].when.all[1].field` ("" = the whole document). */
  path: string;
  message: string;
}

/** A rule set that cannot be used; `issues` lists every problem found, each with its JSON path. */
export class RuleSetError extends Error {
  override name = "RuleSetError";
  readonly issues: readonly RuleSetIssue[];
  constructor(issues: readonly RuleSetIssue[], what = "rule set") {
    const lines = issues.map((i) => `  ${i.path === "" ? "(document)" : i.path}: ${i.message}`);
    super(
      `${what} is invalid (${issues.length} problem${issues.length === 1 ? "" : "s"}); fix these and load it again:\n${lines.join("\n")}`,
    );
    this.issues = issues;
  }
}

/** The JSON Schema of a rule set as written (for editors and docs/rules.md). */
export function ruleSetJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(RuleSetSchema, { io: "input" }) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------
// Structural errors: zod reports a failed union as every option's failures; report the one the author
// meant instead, chosen by the key that names the kind of condition.

type Path = readonly PropertyKey[];

export function formatPath(path: Path): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (typeof seg === "string" && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg))
      out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

function at(root: unknown, path: Path): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

const KNOWN_KEYS = [
  ...Object.keys(RuleSetSchema.shape),
  ...Object.keys(RuleSchema.shape),
  ...Object.keys(RiskCutoffsSchema.shape),
  ...Object.keys(PolicySchema.shape),
  ...Object.keys(ScoreKnotSchema.shape),
  "field",
  "value",
  "times",
  ...CONDITION_KEYS,
];

/** Which option of ConditionSchema the author meant, or why no option fits. */
function conditionKind(v: unknown): number | string {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    return `expected a condition such as {"field": "amount", "op": ">", "value": 3000}, got ${describe(v)}`;
  const keys = Object.keys(v);
  const kinds = CONDITION_KEYS.filter((k) => keys.includes(k));
  if (kinds.length === 1) return CONDITION_KEYS.indexOf(kinds[0] as (typeof CONDITION_KEYS)[number]);
  if (kinds.length > 1)
    return `one test per condition object, found ${kinds.map((k) => `"${k}"`).join(" and ")}: combine tests with "all" or "any"`;
  const unknown = keys.filter((k) => k !== "field").map((k) => `"${k}"${suggestKey(k)}`);
  return `a condition needs one of ${CONDITION_KEYS.map((k) => `"${k}"`).join(", ")}${
    unknown.length > 0 ? `; unknown key ${unknown.join(", ")}` : ""
  }`;
}

function suggestKey(key: string): string {
  const c = closest(key, KNOWN_KEYS);
  return c === undefined ? "" : ` (did you mean "${c}"?)`;
}

function zodIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: Path,
  input: unknown,
  out: RuleSetIssue[],
): void {
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "invalid_union") {
      const value = at(input, path);
      const last = path[path.length - 1];
      const parent = path[path.length - 2];
      if (value === undefined) {
        out.push({ path: formatPath(path), message: "required" });
      } else if (last === "value") {
        if (value !== null && typeof value === "object" && !Array.isArray(value))
          zodIssues(issue.errors[3] ?? [], path, input, out);
        else
          out.push({
            path: formatPath(path),
            message: `expected a number, a string, true/false or {"field": ..., "times": ...}, got ${describe(value)}`,
          });
      } else if (parent === "in" || parent === "not_in") {
        out.push({
          path: formatPath(path),
          message: `list items are strings or numbers, got ${describe(value)}`,
        });
      } else {
        const kind = conditionKind(value);
        if (typeof kind === "string") out.push({ path: formatPath(path), message: kind });
        else zodIssues(issue.errors[kind] ?? [], path, input, out);
      }
    } else if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys)
        out.push({ path: formatPath([...path, key]), message: `unknown key "${key}"${suggestKey(key)}` });
    } else if (issue.code === "invalid_type" && at(input, path) === undefined) {
      out.push({ path: formatPath(path), message: `required (${issue.expected})` });
    } else {
      out.push({ path: formatPath(path), message: issue.message });
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Semantic checks: what a field is, what it may be compared with, which lists exist.

interface CheckContext {
  issues: RuleSetIssue[];
  lists: Readonly<Record<string, readonly string[]>>;
  /** For each list, the fields it is tested against (formats its values must meet) and where. */
  listUses: Map<string, { field: ResolvedField; path: string }[]>;
}

const EMPTY_STRING =
  'an empty string counts as a missing value and never matches; test it with {"missing": field}';

function field(ctx: CheckContext, text: string, path: string): ResolvedField | undefined {
  const r = resolveField(text);
  if (typeof r === "string") {
    ctx.issues.push({ path, message: r });
    return undefined;
  }
  return r;
}

function checkFormat(ctx: CheckContext, f: ResolvedField, value: string, path: string, why = ""): void {
  if (f.kind !== "event") return;
  const format = FIELD_FORMATS[f.key as keyof typeof FIELD_FORMATS];
  if (format !== undefined && !format.test(value))
    ctx.issues.push({
      path,
      message: `${JSON.stringify(value)} can never equal ${f.name}, which is ${format.hint}${why}`,
    });
}

function checkScoreRange(ctx: CheckContext, f: ResolvedField, value: number, path: string): void {
  if (f.kind === "score" && (value < 0 || value > 1))
    ctx.issues.push({
      path,
      message: `the model score is in [0, 1]; ${value} is outside it${value > 1 && value <= 100 ? ` (did you mean ${value / 100}?)` : ""}`,
    });
  if (f.kind === "feature" && f.boolean && value !== 0 && value !== 1)
    ctx.issues.push({ path, message: `${f.name} is 0 or 1 (or true/false); ${value} is neither` });
}

function checkCondition(ctx: CheckContext, c: Condition, path: string): void {
  if ("all" in c) {
    c.all.forEach((child, i) => {
      checkCondition(ctx, child, `${path}.all[${i}]`);
    });
  } else if ("any" in c) {
    c.any.forEach((child, i) => {
      checkCondition(ctx, child, `${path}.any[${i}]`);
    });
  } else if ("not" in c) {
    checkCondition(ctx, c.not, `${path}.not`);
  } else if ("exists" in c) {
    field(ctx, c.exists, `${path}.exists`);
  } else if ("missing" in c) {
    field(ctx, c.missing, `${path}.missing`);
  } else if ("op" in c) {
    const f = field(ctx, c.field, `${path}.field`);
    if (f === undefined) return;
    const v = c.value;
    if (typeof v === "object") {
      const other = field(ctx, v.field, `${path}.value.field`);
      if (f.type !== "number")
        ctx.issues.push({
          path: `${path}.field`,
          message: `${f.name} is a string; only numbers compare with another field`,
        });
      if (other !== undefined && other.type !== "number")
        ctx.issues.push({
          path: `${path}.value.field`,
          message: `${other.name} is a string; compare numbers only`,
        });
    } else if (typeof v === "number") {
      if (f.type === "string")
        ctx.issues.push({
          path: `${path}.value`,
          message: `${f.name} is a string; compare it with a string such as "${v}", not the number ${v}`,
        });
      else checkScoreRange(ctx, f, v, `${path}.value`);
    } else if (typeof v === "boolean") {
      if (f.kind !== "feature" || !f.boolean)
        ctx.issues.push({
          path: `${path}.value`,
          message: `true/false compares only with 0/1 features such as feature.is_new_country; ${f.name} is a ${f.type}`,
        });
      else if (c.op !== "==" && c.op !== "!=")
        ctx.issues.push({
          path: `${path}.op`,
          message: `"${c.op}" orders numbers; use == or != with true/false`,
        });
    } else {
      if (f.type === "number")
        ctx.issues.push({
          path: `${path}.value`,
          message: `${f.name} is a number; compare it with a number, not the string ${JSON.stringify(v)}`,
        });
      else if (v === "") ctx.issues.push({ path: `${path}.value`, message: EMPTY_STRING });
      else if (c.op !== "==" && c.op !== "!=")
        ctx.issues.push({
          path: `${path}.op`,
          message: `"${c.op}" orders numbers; ${f.name} is a string: use ==, !=, in or not_in`,
        });
      else checkFormat(ctx, f, v, `${path}.value`);
    }
  } else if ("between" in c) {
    const f = field(ctx, c.field, `${path}.field`);
    const [lo, hi] = c.between;
    if (lo > hi)
      ctx.issues.push({
        path: `${path}.between`,
        message: `[${lo}, ${hi}] is empty: write [lo, hi] with lo ≤ hi`,
      });
    if (f === undefined) return;
    if (f.type !== "number")
      ctx.issues.push({
        path: `${path}.field`,
        message: `${f.name} is a string; between applies to numbers`,
      });
    else {
      checkScoreRange(ctx, f, lo, `${path}.between[0]`);
      checkScoreRange(ctx, f, hi, `${path}.between[1]`);
    }
  } else if ("in" in c || "not_in" in c) {
    const key = "in" in c ? "in" : "not_in";
    const values = "in" in c ? c.in : c.not_in;
    const f = field(ctx, c.field, `${path}.field`);
    if (f === undefined) return;
    values.forEach((v, i) => {
      const p = `${path}.${key}[${i}]`;
      if (typeof v === "number" && f.type === "string")
        ctx.issues.push({ path: p, message: `${f.name} is a string; list strings, not the number ${v}` });
      else if (typeof v === "string" && f.type === "number")
        ctx.issues.push({
          path: p,
          message: `${f.name} is a number; list numbers, not the string ${JSON.stringify(v)}`,
        });
      else if (v === "") ctx.issues.push({ path: p, message: EMPTY_STRING });
      else if (typeof v === "string") checkFormat(ctx, f, v, p);
      else checkScoreRange(ctx, f, v, p);
    });
  } else {
    const key = "in_list" in c ? "in_list" : "not_in_list";
    const name = "in_list" in c ? c.in_list : c.not_in_list;
    const f = field(ctx, c.field, `${path}.field`);
    if (!Object.hasOwn(ctx.lists, name)) {
      const near = closest(name, Object.keys(ctx.lists));
      ctx.issues.push({
        path: `${path}.${key}`,
        message: `unknown list "${name}"${near === undefined ? "" : `; did you mean ${near}?`} (declare it under "lists")`,
      });
    }
    if (f === undefined) return;
    if (f.type !== "string") {
      ctx.issues.push({
        path: `${path}.field`,
        message: `${f.name} is a number and named lists hold strings; use "in": [numbers] instead`,
      });
      return;
    }
    const uses = ctx.listUses.get(name) ?? [];
    uses.push({ field: f, path });
    ctx.listUses.set(name, uses);
  }
}

/**
 * The checks zod cannot make, on an already well-formed rule set. Returns the issues (empty: valid) and,
 * for each list, the fields it is tested against, so that runtime list edits can be checked the same way.
 */
export function checkRuleSet(rs: RuleSet): {
  issues: RuleSetIssue[];
  listUses: Map<string, { field: ResolvedField; path: string }[]>;
} {
  const ctx: CheckContext = { issues: [], lists: rs.lists, listUses: new Map() };
  const seen = new Map<string, number>();
  rs.rules.forEach((rule, i) => {
    const first = seen.get(rule.id);
    if (first !== undefined)
      ctx.issues.push({
        path: `rules[${i}].id`,
        message: `duplicate rule id "${rule.id}" (also rules[${first}]); ids must be unique, hits are reported by id`,
      });
    else seen.set(rule.id, i);
    checkCondition(ctx, rule.when, `rules[${i}].when`);
  });
  for (const [name, uses] of ctx.listUses) {
    const values = rs.lists[name] ?? [];
    for (const use of uses)
      values.forEach((v, k) => {
        checkFormat(
          ctx,
          use.field,
          v,
          `lists.${name}[${k}]`,
          ` (the list is tested against it at ${use.path})`,
        );
      });
  }
  const { medium_at, high_at, critical_at } = rs.risk;
  if (!(high_at > medium_at))
    ctx.issues.push({ path: "risk.high_at", message: `must be greater than medium_at (${medium_at})` });
  if (!(critical_at > high_at))
    ctx.issues.push({ path: "risk.critical_at", message: `must be greater than high_at (${high_at})` });
  rs.policy.score_points.forEach((knot, i) => {
    const prev = rs.policy.score_points[i - 1];
    if (prev === undefined) return;
    if (!(knot.score > prev.score))
      ctx.issues.push({
        path: `policy.score_points[${i}].score`,
        message: `knots go by increasing score: ${knot.score} must be greater than ${prev.score}`,
      });
    if (knot.points < prev.points)
      ctx.issues.push({
        path: `policy.score_points[${i}].points`,
        message: `a higher score must not be worth fewer points: ${knot.points} < ${prev.points}`,
      });
  });
  for (let i = 1; i < RISK_LEVELS.length; i++) {
    const lo: Decision = rs.policy.decisions[RISK_LEVELS[i - 1] as RiskLevel];
    const hi: Decision = rs.policy.decisions[RISK_LEVELS[i] as RiskLevel];
    if (DECISIONS.indexOf(hi) < DECISIONS.indexOf(lo))
      ctx.issues.push({
        path: `policy.decisions.${RISK_LEVELS[i]}`,
        message: `${hi} is milder than ${lo} for ${RISK_LEVELS[i - 1]}: a higher risk must not get a milder decision`,
      });
  }
  return ctx;
}

/** Validates a rule set (structure, then names, types, lists and formats); throws RuleSetError. */
export function parseRuleSet(input: unknown): RuleSet {
  const parsed = RuleSetSchema.safeParse(input);
  if (!parsed.success) {
    const issues: RuleSetIssue[] = [];
    zodIssues(parsed.error.issues, [], input, issues);
    throw new RuleSetError(issues, describeRuleSet(input));
  }
  const { issues } = checkRuleSet(parsed.data);
  if (issues.length > 0) throw new RuleSetError(issues, describeRuleSet(input));
  return parsed.data;
}

/** Parses and validates the JSON text of a rule set; throws RuleSetError (also for text that is not JSON). */
export function loadRuleSet(json: string): RuleSet {
  let input: unknown;
  try {
    input = JSON.parse(json);
  } catch (err) {
    throw new RuleSetError([{ path: "", message: `not JSON: ${(err as Error).message}` }]);
  }
  return parseRuleSet(input);
}

function describeRuleSet(input: unknown): string {
  const version = at(input, ["version"]);
  return typeof version === "string" ? `rule set "${version}"` : "rule set";
}
