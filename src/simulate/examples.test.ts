import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TransactionSchema } from "../contract/transaction.ts";
import {
  documentedScenarioExamples,
  readmeScenarioExamples,
  renderScenarioExampleLines,
  renderScenarioExamples,
  scenarioExamples,
} from "./examples.ts";
import { SCENARIO_NAMES } from "./index.ts";

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

  it("in docs/simulator.md are what the simulator emits now (regenerate: node src/simulate/examples.ts)", () => {
    assert.equal(documentedScenarioExamples(), renderScenarioExamples());
  });

  it("in the README are the same events, one JSON line each (regenerate: node src/simulate/examples.ts)", () => {
    assert.equal(readmeScenarioExamples(), renderScenarioExampleLines());
  });
});
