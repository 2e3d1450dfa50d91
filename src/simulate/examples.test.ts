import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { TransactionSchema } from "../contract/transaction.ts";
import { renderScenarioExampleLines, renderScenarioExamples, scenarioExamples } from "./examples.ts";
import { SCENARIO_NAMES } from "./index.ts";

/** The scenario-examples section of a document as it stands. */
function documented(path: string): string {
  const text = readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
  const start = "<!-- scenario-examples:start -->";
  const from = text.indexOf(start);
  const to = text.indexOf("<!-- scenario-examples:end -->");
  assert.ok(from >= 0 && to > from, `${path} lacks the scenario-examples markers`);
  return text.slice(from + start.length, to).trim();
}

describe("scenario examples", () => {
  it("are one valid, labelled event per scenario", () => {
    const examples = scenarioExamples();
    assert.deepEqual([...examples.keys()], [...SCENARIO_NAMES]);
    for (const [name, e] of examples) {
      assert.ok(TransactionSchema.safeParse(e).success, name);
      assert.equal(e.fraud_type, name);
      assert.equal(e.is_fraud, 1);
    }
  });

  it("in docs/simulator.md are what the simulator emits now (regenerate: node tools/render-docs.ts)", () => {
    assert.equal(documented("docs/simulator.md"), renderScenarioExamples());
  });

  it("in the README are the same events, one JSON line each (regenerate: node tools/render-docs.ts)", () => {
    assert.equal(documented("README.md"), renderScenarioExampleLines());
  });
});
