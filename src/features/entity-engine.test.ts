import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Transaction } from "../contract/transaction.ts";
import { DEFAULT_ENTITY_FEATURES, resolveEntityFeatures } from "./entity.ts";
import { EntityEngine } from "./entity-engine.ts";

const T0 = Date.UTC(2026, 10, 1);
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

function tx(id: string, fields: Partial<Transaction> = {}): Transaction {
  return { transaction_id: id, timestamp: "", user_id: "u1", amount: 10, currency: "EUR", ...fields };
}

describe("entity features", () => {
  test("default set resolves with unique names and the documented bucket widths", () => {
    const names = DEFAULT_ENTITY_FEATURES.map((f) => f.name);
    assert.equal(new Set(names).size, names.length);
    const byName = new Map(DEFAULT_ENTITY_FEATURES.map((f) => [f.name, f]));
    assert.equal(byName.get("merchant_txn_count_1h")?.bucketMs, MIN);
    assert.equal(byName.get("merchant_txn_count_1d")?.bucketMs, HOUR);
    assert.equal(byName.get("merchant_txn_count_7d")?.bucketMs, 6 * HOUR);
    assert.equal(byName.get("merchant_txn_count_30d")?.bucketMs, DAY);
    assert.ok(byName.has("device_distinct_users_24h"));
    assert.ok(byName.has("card_fraud_rate_30d"));
  });

  test("count, sum, mean, max over a 1 h window with minute buckets, window edge by bucket", () => {
    const fs = resolveEntityFeatures(
      (["count", "sum", "mean", "max"] as const).map((kind) => ({
        key: "merchant" as const,
        aggregate: { kind },
        windowMs: HOUR,
        cold: -1,
      })),
    );
    const e = new EntityEngine(fs);
    const out = new Float64Array(4);
    e.processEvent(tx("a", { merchant_id: "m", amount: 5 }), T0 + 30_000, out, 0);
    assert.deepEqual([...out], [-1, -1, -1, -1]);
    e.processEvent(tx("b", { merchant_id: "m", amount: 7 }), T0 + 10 * MIN, out, 0);
    assert.deepEqual([...out], [1, 5, 5, 5]);
    // At T0 + 1 h + 1 ms the window (t − 1 h, t] starts at T0 + 1 ms; buckets start at the next
    // minute boundary after t − 1 h, so the first minute bucket (event a) is out.
    e.processEvent(tx("c", { merchant_id: "m", amount: 1 }), T0 + HOUR + 1, out, 0);
    assert.deepEqual([...out], [1, 7, 7, 7]);
  });

  test("distinct cards by last sighting; a label counts only after it is known", () => {
    const fs = resolveEntityFeatures([
      { key: "merchant", aggregate: { kind: "distinct", of: "card" }, windowMs: DAY, cold: 0 },
      { key: "merchant", aggregate: { kind: "fraud_rate" }, windowMs: 7 * DAY, cold: 0 },
    ]);
    const e = new EntityEngine(fs);
    const out = new Float64Array(2);
    const a = tx("a", { merchant_id: "m", card_id: "c1" });
    e.processEvent(a, T0, out, 0);
    e.processEvent(tx("b", { merchant_id: "m", card_id: "c1" }), T0 + HOUR, out, 0);
    assert.deepEqual([...out], [1, 0]);
    e.processEvent(tx("c", { merchant_id: "m", card_id: "c2" }), T0 + 2 * HOUR, out, 0);
    assert.deepEqual([...out], [1, 0]);
    e.processLabel(a, T0, true, T0 + 3 * HOUR);
    assert.throws(() => e.processEvent(tx("x", { merchant_id: "m" }), T0 + 3 * HOUR, out, 0), RangeError);
    e.processEvent(tx("d", { merchant_id: "m", card_id: "c3" }), T0 + 3 * HOUR + 1, out, 0);
    assert.deepEqual([...out], [2, 1 / 3]);
    // Taken back by a legit label.
    e.processLabel(a, T0, false, T0 + 4 * HOUR);
    e.processEvent(tx("e", { merchant_id: "m" }), T0 + 5 * HOUR, out, 0);
    assert.deepEqual([...out], [3, 0]);
  });

  test("beyond the exact bound, distinct counts come from the sketch within its error", () => {
    const fs = resolveEntityFeatures([
      { key: "device", aggregate: { kind: "distinct", of: "user" }, windowMs: DAY, cold: 0 },
    ]);
    const e = new EntityEngine(fs, { exactDistinct: 32 });
    const out = new Float64Array(1);
    for (let i = 0; i < 2000; i++)
      e.processEvent(tx(`t${i}`, { device_id: "d", user_id: `u${i}` }), T0 + i * 1000, out, 0);
    assert.ok(Math.abs((out[0] as number) - 1999) / 1999 < 0.3, `estimate ${out[0]}`);
  });
});
