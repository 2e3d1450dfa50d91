// One real event per fraud scenario, as docs/simulator.md (pretty-printed) and the README (one JSON
// line each) show them: the first event of each scenario that the simulator emits with its defaults
// and seed 42. `node tools/render-docs.ts` writes them into both documents (a test fails when a
// document and the simulator disagree).
import type { Transaction } from "../contract/transaction.ts";
import { createSimulator, SCENARIO_NAMES, type ScenarioName } from "./index.ts";

export const EXAMPLES_SEED = 42;

/** The first event of each scenario, in SCENARIO_NAMES order. */
export function scenarioExamples(seed = EXAMPLES_SEED): Map<ScenarioName, Transaction> {
  const sim = createSimulator({ seed });
  const found = new Map<ScenarioName, Transaction>();
  for (let i = 0; i < 1_000_000 && found.size < SCENARIO_NAMES.length; i++) {
    const e = sim.next();
    const type = e.fraud_type as ScenarioName | undefined;
    if (type !== undefined && !found.has(type)) found.set(type, e);
  }
  if (found.size < SCENARIO_NAMES.length)
    throw new Error(`no example of ${SCENARIO_NAMES.filter((s) => !found.has(s)).join(", ")}`);
  return new Map(SCENARIO_NAMES.map((s) => [s, found.get(s) as Transaction]));
}

/** The Markdown between the doc's markers. */
export function renderScenarioExamples(seed = EXAMPLES_SEED): string {
  const parts: string[] = [];
  for (const [name, event] of scenarioExamples(seed))
    parts.push(`#### \`${name}\`\n\n\`\`\`json\n${JSON.stringify(event, null, 2)}\n\`\`\``);
  return parts.join("\n\n");
}

/** The README's section: the same events as JSON Lines, one line each, in one code block. */
export function renderScenarioExampleLines(seed = EXAMPLES_SEED): string {
  const lines = [...scenarioExamples(seed).values()].map((e) => JSON.stringify(e));
  return `\`\`\`jsonl\n${lines.join("\n")}\n\`\`\``;
}
