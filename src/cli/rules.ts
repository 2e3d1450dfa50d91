// `fraudstream rules …`: check rule-set files before they are registered or activated, and print the
// rule-set JSON Schema for editors. Exit codes follow diff(1): 0 all good, 1 a rule set is invalid,
// 2 trouble (a file cannot be read, or the command line is wrong).
import { readFileSync } from "node:fs";
import { getSystemErrorMessage } from "node:util";
import { type Command, CommanderError } from "commander";
import { compileRuleSet } from "../decide/compile.ts";
import { ListError } from "../decide/lists.ts";
import { loadRuleSet, RuleSetError, ruleSetJsonSchema } from "../decide/rules.ts";

export const RULES_EXIT = { ok: 0, invalid: 1, trouble: 2 } as const;

/** One file's verdict: its summary line (stdout) or its problems (stderr), and the exit code it asks for. */
export function checkRuleSetFile(path: string): { out?: string; err?: string; code: number } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason =
      e.errno === undefined ? e.message : `${getSystemErrorMessage(e.errno).toLowerCase()} (${e.code})`;
    return { err: `${path}: cannot read it: ${reason}`, code: RULES_EXIT.trouble };
  }
  try {
    const compiled = compileRuleSet(loadRuleSet(text));
    const lists = compiled.lists.names().map((n) => `${n} (${compiled.lists.get(n).size})`);
    const rules = compiled.rules.length;
    return {
      out: `${path}: rule set "${compiled.version}" is valid: ${rules} enabled rule${rules === 1 ? "" : "s"}, lists: ${lists.join(", ") || "none"}`,
      code: RULES_EXIT.ok,
    };
  } catch (err) {
    // RuleSetError names every problem with its JSON path, one per line.
    if (err instanceof RuleSetError || err instanceof ListError)
      return { err: `${path}: ${err.message}`, code: RULES_EXIT.invalid };
    throw err;
  }
}

/** Usage errors exit 2 here (commander's default is 1, which would read as "invalid"). */
function usageExitsTwo(err: CommanderError): never {
  if (err.exitCode === 0) throw err;
  throw new CommanderError(RULES_EXIT.trouble, err.code, err.message);
}

export function registerRules(program: Command): void {
  const rules = program
    .command("rules")
    .description("Check rule-set files; print the rule-set JSON Schema (docs/rules.md)")
    .exitOverride(usageExitsTwo);

  rules
    .command("check")
    .description("Validate rule-set JSON files as a worker would load them, naming every problem")
    .argument("<files...>", "rule-set JSON files")
    .addHelpText(
      "after",
      `
Prints one summary line per valid file on stdout, and every problem of an invalid one on stderr
with its JSON path (e.g. rules[2].when.field). The structure is checked first; field and list
names once the structure is right. Every file is checked, whatever the others hold.

Exit status: 0 every file is a valid rule set, 1 at least one is invalid, 2 a file cannot be read
or the command line is wrong.`,
    )
    .exitOverride(usageExitsTwo)
    .action((files: string[]) => {
      let code: number = RULES_EXIT.ok;
      for (const file of files) {
        const r = checkRuleSetFile(file);
        if (r.out !== undefined) process.stdout.write(`${r.out}\n`);
        if (r.err !== undefined) process.stderr.write(`${r.err}\n`);
        code = Math.max(code, r.code);
      }
      process.exitCode = code;
    });

  rules
    .command("schema")
    .description("Print the JSON Schema of a rule-set document (for editors; structure only)")
    .exitOverride(usageExitsTwo)
    .action(() => {
      process.stdout.write(`${JSON.stringify(ruleSetJsonSchema(), null, 2)}\n`);
    });
}
