// One real event per fraud scenario, as docs/simulator.md shows them: the first event of each scenario
// that the simulator emits with its defaults and seed 42. Regenerate the doc's section with
//   node src/simulate/examples.ts
// (a test fails when the doc and the simulator disagree).
import { readFileSync, writeFileSync } from "node:fs";
import type { Transaction } from "../contract/transaction.ts";
import { createSimulator, SCENARIO_NAMES, type ScenarioName } from "./index.ts";

export const EXAMPLES_SEED = 42;
const DOC = new URL("../../docs/simulator.md", import.meta.url);
const START = "<!-- scenario-examples:start -->";
const END = "<!-- scenario-examples:end -->";

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

/** The section as docs/simulator.md holds it now. */
export function documentedScenarioExamples(): string {
  const doc = readFileSync(DOC, "utf8");
  const i = doc.indexOf(START);
  const j = doc.indexOf(END);
  if (i < 0 || j < i) throw new Error(`docs/simulator.md needs ${START} and ${END} markers`);
  return doc.slice(i + START.length, j).trim();
}

if (import.meta.main) {
  const doc = readFileSync(DOC, "utf8");
  const i = doc.indexOf(START);
  const j = doc.indexOf(END);
  if (i < 0 || j < i) throw new Error(`docs/simulator.md needs ${START} and ${END} markers`);
  writeFileSync(DOC, `${doc.slice(0, i + START.length)}\n\n${renderScenarioExamples()}\n\n${doc.slice(j)}`);
}
