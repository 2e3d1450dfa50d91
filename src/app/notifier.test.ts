import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { retryDelay } from "./notifier.ts";

describe("retryDelay", () => {
  it("doubles its ceiling per failure up to the maximum, with the jitter between half and all of it", () => {
    assert.equal(
      retryDelay(1, 1000, 60_000, () => 0),
      500,
    );
    assert.equal(
      retryDelay(1, 1000, 60_000, () => 0.999_999),
      1000,
    );
    assert.equal(
      retryDelay(2, 1000, 60_000, () => 0),
      1000,
    );
    assert.equal(
      retryDelay(4, 1000, 60_000, () => 0.5),
      6000,
    );
    assert.equal(
      retryDelay(20, 1000, 60_000, () => 0),
      30_000,
      "capped: half the maximum at least",
    );
    assert.equal(
      retryDelay(20, 1000, 60_000, () => 0.999_999),
      60_000,
      "never above the maximum",
    );
    const seen = new Set<number>();
    for (let i = 0; i < 50; i++) seen.add(retryDelay(3, 1000, 60_000, Math.random));
    assert.ok(seen.size > 10, "replicas failing together spread their retries");
    for (const d of seen) assert.ok(d >= 2000 && d <= 4000, `${d} within [2000, 4000]`);
  });
});
