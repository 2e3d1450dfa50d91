// Validates rule-set files, or prints the rule-set JSON Schema, until the fraudstream command grows a
// `rules` subcommand:
//
//   node src/decide/check-rules.ts FILE.json...     exit 1 and every problem with its JSON path, or a summary
//   node src/decide/check-rules.ts --schema         the JSON Schema of a rule set (for editors)
import { readFileSync } from "node:fs";
import { compileRuleSet } from "./compile.ts";
import { loadRuleSet, RuleSetError, ruleSetJsonSchema } from "./rules.ts";

function main(args: string[]): number {
  if (args.length === 0) {
    console.error("usage: node src/decide/check-rules.ts FILE.json... | --schema");
    return 2;
  }
  if (args[0] === "--schema") {
    console.log(JSON.stringify(ruleSetJsonSchema(), null, 2));
    return 0;
  }
  let failed = false;
  for (const file of args) {
    try {
      const compiled = compileRuleSet(loadRuleSet(readFileSync(file, "utf8")));
      const lists = compiled.lists.names().map((n) => `${n} (${compiled.lists.get(n).size})`);
      console.log(
        `${file}: ${compiled.version}, ${compiled.rules.length} enabled rules, lists: ${lists.join(", ") || "none"}`,
      );
    } catch (err) {
      failed = true;
      if (err instanceof RuleSetError) console.error(`${file}: ${err.message}`);
      else console.error(`${file}: ${(err as Error).message}`);
    }
  }
  return failed ? 1 : 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
