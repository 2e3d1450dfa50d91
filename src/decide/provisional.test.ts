import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isFlagged } from "./levels.ts";
import { provisionalVerdict } from "./provisional.ts";

describe("provisional verdict", () => {
  it("maps score cut-offs to risk levels and decisions, edges included", () => {
    assert.deepEqual(provisionalVerdict(0), { risk: "LOW", decision: "APPROVE" });
    assert.deepEqual(provisionalVerdict(0.4999), { risk: "LOW", decision: "APPROVE" });
    assert.deepEqual(provisionalVerdict(0.5), { risk: "MEDIUM", decision: "APPROVE" });
    assert.deepEqual(provisionalVerdict(0.75), { risk: "HIGH", decision: "REVIEW" });
    assert.deepEqual(provisionalVerdict(0.9), { risk: "CRITICAL", decision: "BLOCK" });
    assert.deepEqual(provisionalVerdict(1), { risk: "CRITICAL", decision: "BLOCK" });
  });

  it("flags HIGH and CRITICAL only", () => {
    assert.deepEqual((["LOW", "MEDIUM", "HIGH", "CRITICAL"] as const).map(isFlagged), [
      false,
      false,
      true,
      true,
    ]);
  });
});
