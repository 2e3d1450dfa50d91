// Entity features against values computed by hand: every aggregate, the bucketed window's edges, the
// distinct-count switch to the sketch, labels known strictly before the event, input order, expiry.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseEventTime, type Transaction } from "../contract/transaction.ts";
import {
  bucketWidthFor,
  DEFAULT_ENTITY_FEATURES,
  type EntityFeatureDefinition,
  EntityFeatureError,
  resolveEntityFeatures,
} from "./entity.ts";
import { EntityEngine, type EntityEngineOptions, HLL_REGISTERS } from "./entity-engine.ts";

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = parseEventTime("2026-03-01T10:00:00Z");

let seq = 0;
function tx(at: number, extra: Partial<Transaction> = {}): Transaction {
  seq++;
  return {
    transaction_id: `t${seq}`,
    timestamp: new Date(at).toISOString(),
    user_id: "u1",
    amount: 10,
    currency: "EUR",
    merchant_id: "m1",
    ...extra,
  };
}

class Harness {
  readonly engine: EntityEngine;
  constructor(defs: EntityFeatureDefinition[], options: EntityEngineOptions = {}) {
    this.engine = new EntityEngine(resolveEntityFeatures(defs), options);
  }
  /** The event's features (before it is added), by name. */
  event(e: Transaction): Record<string, number> {
    const f = this.engine.features;
    const out = new Float64Array(f.length);
    this.engine.processEvent(e, parseEventTime(e.timestamp), out, 0);
    return Object.fromEntries(f.map((x, i) => [x.name, out[i] as number]));
  }
  label(e: Transaction, fraud: boolean, knownAt: number): void {
    this.engine.processLabel(e, parseEventTime(e.timestamp), fraud, knownAt);
  }
}

const merchant1h = (aggregate: EntityFeatureDefinition["aggregate"], cold = 0): EntityFeatureDefinition => ({
  key: "merchant",
  aggregate,
  windowMs: HOUR,
  cold,
});

describe("definitions", () => {
  test("names, bucket widths and descriptions derive from the definition", () => {
    const [a, b, c] = resolveEntityFeatures([
      { key: "merchant", aggregate: { kind: "distinct", of: "card" }, windowMs: 7 * DAY, cold: 0 },
      { key: "card", aggregate: { kind: "mean" }, windowMs: 30 * DAY, cold: -1 },
      { key: "field:city", aggregate: { kind: "count" }, windowMs: HOUR, cold: 0 },
    ]);
    assert.equal(a?.name, "merchant_distinct_cards_7d");
    assert.equal(a?.bucketMs, 6 * HOUR);
    assert.equal(b?.name, "card_amount_mean_30d");
    assert.equal(b?.bucketMs, DAY);
    assert.match(b?.description ?? "", /-1 when none/);
    assert.equal(c?.name, "city_txn_count_1h");
    assert.equal(c?.bucketMs, MIN);
    assert.equal(bucketWidthFor(DAY), HOUR);
    assert.equal(bucketWidthFor(MIN), MIN);
  });

  test("bad definitions are refused, naming the field", () => {
    const bad: [EntityFeatureDefinition, RegExp][] = [
      [{ key: "field:nope", aggregate: { kind: "count" }, windowMs: HOUR, cold: 0 }, /key "field:nope"/],
      [{ key: "field:amount", aggregate: { kind: "count" }, windowMs: HOUR, cold: 0 }, /key "field:amount"/],
      [{ key: "card", aggregate: { kind: "count" }, windowMs: 59_999, cold: 0 }, /windowMs 59999/],
      [{ key: "card", aggregate: { kind: "count" }, windowMs: 31 * DAY, cold: 0 }, /windowMs/],
      [
        { key: "card", aggregate: { kind: "count" }, windowMs: HOUR, bucketMs: 2 * HOUR, cold: 0 },
        /bucketMs/,
      ],
      [{ key: "card", aggregate: { kind: "count" }, windowMs: HOUR, cold: Number.NaN }, /cold value/],
      [
        { key: "card", aggregate: { kind: "share", field: "x", equals: "y" }, windowMs: HOUR, cold: 0 },
        /"x"/,
      ],
      [
        { key: "card", aggregate: { kind: "distinct", of: "field:zz" }, windowMs: HOUR, cold: 0 },
        /aggregate.of/,
      ],
      [{ name: "Bad", key: "card", aggregate: { kind: "count" }, windowMs: HOUR, cold: 0 }, /snake_case/],
    ];
    for (const [d, re] of bad)
      assert.throws(
        () => resolveEntityFeatures([d]),
        (e: Error) => e instanceof EntityFeatureError && re.test(e.message),
      );
    const d: EntityFeatureDefinition = { key: "card", aggregate: { kind: "count" }, windowMs: HOUR, cold: 0 };
    assert.throws(() => resolveEntityFeatures([d, d]), /used twice/);
  });

  test("the default set is the one of issue #15", () => {
    const names = DEFAULT_ENTITY_FEATURES.map((f) => f.name);
    for (const w of ["1h", "1d", "7d", "30d"]) {
      assert.ok(names.includes(`merchant_txn_count_${w}`));
      assert.ok(names.includes(`merchant_distinct_cards_${w}`));
    }
    assert.ok(names.includes("merchant_amount_mean_30d"));
    for (const k of ["device", "ip"])
      for (const what of ["users", "cards"])
        for (const w of ["24h", "7d"]) assert.ok(names.includes(`${k}_distinct_${what}_${w}`));
    for (const w of ["1d", "7d", "30d"]) {
      assert.ok(names.includes(`card_txn_count_${w}`));
      assert.ok(names.includes(`card_amount_mean_${w}`));
    }
    for (const k of ["merchant", "card"])
      for (const w of ["7d", "30d"]) assert.ok(names.includes(`${k}_fraud_rate_${w}`));
    assert.equal(new Set(names).size, names.length);
  });
});

describe("aggregates", () => {
  test("count, sum, mean, max of prior events; cold value before any", () => {
    const h = new Harness([
      merchant1h({ kind: "count" }),
      merchant1h({ kind: "sum" }),
      merchant1h({ kind: "mean" }, -1),
      merchant1h({ kind: "max" }, -2),
    ]);
    assert.deepEqual(h.event(tx(T0, { amount: 10 })), {
      merchant_txn_count_1h: 0,
      merchant_amount_sum_1h: 0,
      merchant_amount_mean_1h: -1,
      merchant_amount_max_1h: -2,
    });
    h.event(tx(T0 + 5 * MIN, { amount: 30 }));
    h.event(tx(T0 + 5 * MIN + 1, { amount: 5 }));
    assert.deepEqual(h.event(tx(T0 + 20 * MIN, { amount: 1 })), {
      merchant_txn_count_1h: 3,
      merchant_amount_sum_1h: 45,
      merchant_amount_mean_1h: 15,
      merchant_amount_max_1h: 30,
    });
    // Another merchant is another entity.
    assert.equal(h.event(tx(T0 + 21 * MIN, { merchant_id: "m2" })).merchant_txn_count_1h, 0);
    // merchant_name stands in when merchant_id is missing; no key value at all gives the cold value.
    assert.equal(
      h.event(tx(T0 + 22 * MIN, { merchant_id: undefined, merchant_name: "m1" })).merchant_txn_count_1h,
      4,
    );
    assert.equal(h.event(tx(T0 + 23 * MIN, { merchant_id: undefined })).merchant_amount_mean_1h, -1);
  });

  test("max forgets a bucket once it leaves the window", () => {
    const h = new Harness([merchant1h({ kind: "max" })]);
    h.event(tx(T0, { amount: 100 }));
    h.event(tx(T0 + 30 * MIN, { amount: 7 }));
    assert.equal(h.event(tx(T0 + 59 * MIN)).merchant_amount_max_1h, 100);
    assert.equal(h.event(tx(T0 + 61 * MIN)).merchant_amount_max_1h, 10);
  });

  test("share of prior events with a field value", () => {
    const h = new Harness([merchant1h({ kind: "share", field: "channel", equals: "online" }, -1)]);
    const name = "merchant_share_channel_online_1h";
    assert.equal(h.event(tx(T0, { channel: "online" }))[name], -1);
    h.event(tx(T0 + MIN, { channel: "pos" }));
    h.event(tx(T0 + 2 * MIN, { channel: "online" }));
    assert.equal(h.event(tx(T0 + 3 * MIN))[name], 2 / 3);
  });

  test("distinct counts values once, and a re-sighting keeps a value in the window", () => {
    const h = new Harness([merchant1h({ kind: "distinct", of: "card" })]);
    const n = "merchant_distinct_cards_1h";
    h.event(tx(T0, { card_id: "a" }));
    h.event(tx(T0 + MIN, { card_id: "b" }));
    h.event(tx(T0 + 2 * MIN, { card_id: "a" }));
    h.event(tx(T0 + 3 * MIN));
    assert.equal(h.event(tx(T0 + 4 * MIN, { card_id: "c" }))[n], 2);
    // At T0+60m30s the buckets of T0 and T0+1m have left; "a" was seen again at T0+2m, "c" at +4m.
    assert.equal(h.event(tx(T0 + 61 * MIN + 30_000))[n], 2);
    // At T0+63m only "c" (T0+4m) is left.
    assert.equal(h.event(tx(T0 + 63 * MIN))[n], 1);
  });

  test("beyond exactDistinct the sketch estimates within 3 standard errors", () => {
    const h = new Harness([merchant1h({ kind: "distinct", of: "card" })], { exactDistinct: 16 });
    for (let i = 0; i < 2000; i++) h.event(tx(T0 + i * 1000, { card_id: `c${i}` }));
    const est = h.event(tx(T0 + 2000 * 1000)).merchant_distinct_cards_1h as number;
    const se = 1.04 / Math.sqrt(HLL_REGISTERS);
    assert.ok(Math.abs(est - 2000) <= 3 * se * 2000, `estimate ${est}`);
    // The sketch slides too: an hour later the first ~1400 cards have left the window.
    const later = h.event(tx(T0 + 2000 * 1000 + HOUR)).merchant_distinct_cards_1h as number;
    assert.ok(later <= 3 * se * 2000 + 1, `estimate ${later}`);
  });
});

describe("window edges", () => {
  // W = 1 h, B = 1 min: an event at time t sees prior events at or after (⌊(t−W)/B⌋+1)·B.
  test("1 h window, 1 min buckets: the old end is cut at the next bucket boundary", () => {
    const h = new Harness([merchant1h({ kind: "count" })]);
    h.event(tx(T0 + 30_000)); // 10:00:30, bucket 10:00
    assert.equal(h.event(tx(T0 + HOUR - 1)).merchant_txn_count_1h, 1); // 10:59:59.999: start 10:00
    // 11:00:00: start 10:01, so 10:00:30 is out although (t−W, t] = (10:00, 11:00] holds it: the cut
    // loses at most one bucket width.
    assert.equal(h.event(tx(T0 + HOUR)).merchant_txn_count_1h, 1); // only the 10:59:59.999 event
  });

  test("events at the same time count as prior", () => {
    const h = new Harness([merchant1h({ kind: "count" })]);
    h.event(tx(T0));
    assert.equal(h.event(tx(T0)).merchant_txn_count_1h, 1);
  });

  test("30 d window, 1 d buckets: between 29 and 30 days back", () => {
    const h = new Harness([{ key: "card", aggregate: { kind: "count" }, windowMs: 30 * DAY, cold: 0 }]);
    const day0 = parseEventTime("2026-03-01T00:00:00Z");
    h.event(tx(day0 + 23 * HOUR, { card_id: "k" })); // 1 March 23:00
    // 30 March 23:59: start ⌊(30 Mar 23:59 − 30 d)/1 d⌋+1 = 1 March → in (29 d 59 min back).
    assert.equal(h.event(tx(day0 + 29 * DAY + 23 * HOUR + 59 * MIN, { card_id: "k" })).card_txn_count_30d, 1);
    // 31 March 00:00: start 2 March → 1 March 23:00 is out, 29 d 1 h back.
    assert.equal(h.event(tx(day0 + 30 * DAY, { card_id: "k" })).card_txn_count_30d, 1);
    // 2 April: both March 1 and March 30 in? start 3 March → only the two of 30/31 March.
    assert.equal(h.event(tx(day0 + 32 * DAY, { card_id: "k" })).card_txn_count_30d, 2);
  });

  test("several windows over one entity", () => {
    const h = new Harness(
      [HOUR, DAY, 7 * DAY].map((windowMs) => ({
        key: "merchant" as const,
        aggregate: { kind: "count" as const },
        windowMs,
        cold: 0,
      })),
    );
    h.event(tx(T0));
    h.event(tx(T0 + 2 * DAY));
    h.event(tx(T0 + 3 * DAY - 2 * HOUR));
    assert.deepEqual(h.event(tx(T0 + 3 * DAY)), {
      merchant_txn_count_1h: 0,
      merchant_txn_count_1d: 1, // T0+2d is exactly 24 h back: out
      merchant_txn_count_7d: 3,
    });
    // Idle past the longest window: everything cold, then counting restarts.
    assert.equal(h.event(tx(T0 + 11 * DAY)).merchant_txn_count_7d, 0);
    assert.equal(h.event(tx(T0 + 11 * DAY)).merchant_txn_count_7d, 1);
  });
});

describe("labels", () => {
  const defs: EntityFeatureDefinition[] = [
    { key: "merchant", aggregate: { kind: "fraud_rate" }, windowMs: 7 * DAY, cold: -1 },
  ];
  const n = "merchant_fraud_rate_7d";

  test("a label counts for events strictly after it is known", () => {
    const h = new Harness(defs);
    const a = tx(T0);
    assert.equal(h.event(a)[n], -1);
    h.event(tx(T0 + HOUR));
    h.event(tx(T0 + DAY));
    assert.equal(h.event(tx(T0 + DAY))[n], 0);
    h.label(a, true, T0 + 2 * DAY);
    assert.equal(h.engine.time, T0 + 2 * DAY);
    assert.equal(h.event(tx(T0 + 2 * DAY + 1))[n], 1 / 4);
    // A repeated label counts once; a legit correction takes it back.
    h.label(a, true, T0 + 2 * DAY + 2);
    assert.equal(h.event(tx(T0 + 2 * DAY + 3))[n], 1 / 5);
    h.label(a, false, T0 + 2 * DAY + 4);
    assert.equal(h.event(tx(T0 + 2 * DAY + 5))[n], 0);
  });

  test("a label's transaction leaves the window with its bucket", () => {
    const h = new Harness(defs);
    const a = tx(T0);
    h.event(a);
    h.event(tx(T0 + 3 * DAY));
    h.label(a, true, T0 + 3 * DAY);
    assert.equal(h.event(tx(T0 + 4 * DAY))[n], 1 / 2);
    // 7 d buckets are 6 h wide: the T0 (10:00) bucket starts 06:00 and leaves at T0+7d−4h+6h = T0+7d+2h.
    assert.equal(h.event(tx(T0 + 7 * DAY + 2 * HOUR))[n], 0);
  });

  test("input out of event-time order is refused", () => {
    const h = new Harness(defs);
    const a = tx(T0 + HOUR);
    h.event(a);
    assert.throws(() => h.event(tx(T0)), RangeError);
    h.label(a, true, T0 + 2 * HOUR);
    assert.throws(() => h.event(tx(T0 + 2 * HOUR)), /events before labels at equal times/);
    assert.throws(() => h.label(a, true, T0), RangeError);
  });

  test("expire drops idle entities and changes no feature", () => {
    const h = new Harness(defs);
    h.event(tx(T0, { merchant_id: "m1" }));
    h.event(tx(T0 + 6 * DAY, { merchant_id: "m2" }));
    assert.equal(h.engine.entityCount(), 2);
    assert.equal(h.engine.expire(T0 + 8 * DAY), 1);
    assert.equal(h.engine.entityCount(), 1);
    assert.equal(h.event(tx(T0 + 8 * DAY, { merchant_id: "m1" }))[n], -1);
    assert.equal(h.event(tx(T0 + 8 * DAY, { merchant_id: "m2" }))[n], 0);
  });
});
