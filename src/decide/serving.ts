// The rule set a worker decides with, built from what the registry serves: the active rule set's JSON
// plus the list entries edited at runtime, which are added to the lists the rule set declares. Entries
// of lists the rule set does not declare cannot be referenced by any of its rules and are left out.
// Pure: text in, compiled rules out; a bad rule set throws RuleSetError naming the JSON path.
import { type CompiledRuleSet, compileRuleSet } from "./compile.ts";
import type { RuleSetInput } from "./rules.ts";

/** A compiled rule set and the version stamped on every decision made with it. */
export interface ServedRules {
  /** The rule set's version, with `+lists.<digest>` when runtime list entries apply. */
  readonly version: string;
  readonly compiled: CompiledRuleSet;
}

/** Rules stamped with their own version (no runtime lists). */
export function servedRules(compiled: CompiledRuleSet): ServedRules {
  return { version: compiled.version, compiled };
}

/** `body` = { ruleSet, lists } as src/io/pg/rule-sets.ts `active()` serves it; `id` its version key. */
export function servingRules(id: string, body: string): ServedRules {
  const { ruleSet, lists } = JSON.parse(body) as { ruleSet: RuleSetInput; lists: Record<string, string[]> };
  const compiled = compileRuleSet(ruleSet);
  const declared = compiled.lists;
  const merged: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(lists ?? {}))
    if (declared.has(name)) merged[name] = [...declared.get(name), ...values];
  return { version: id, compiled: Object.keys(merged).length === 0 ? compiled : compiled.withLists(merged) };
}
