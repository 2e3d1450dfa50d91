// Every behavioural feature against values computed by hand: window edges, lateness, ties, cold
// start, TTL, caps, checkpoints.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseEventTime, type Transaction } from "../contract/transaction.ts";
import {
  ACCEPTED,
  FeatureEngine,
  type FeatureEngineOptions,
  FeatureStateError,
  FUTURE,
  TOO_OLD,
  VALUE_CAPS,
} from "./engine.ts";
import { BEHAVIOURAL_FEATURES, FEATURE_NAMES, FEATURES } from "./registry.ts";

const W = FEATURES.length;

function tx(user: string, timestamp: string, amount: number, extra: Partial<Transaction> = {}): Transaction {
  return {
    transaction_id: `${user}-${timestamp}`,
    timestamp,
    user_id: user,
    amount,
    currency: "EUR",
    ...extra,
  };
}

type Row = Record<string, number> & { late: boolean };

function run(engine: FeatureEngine, events: Transaction[]): Row[] {
  const times = events.map((e) => parseEventTime(e.timestamp));
  const out = new Float64Array(events.length * W);
  const status = new Uint8Array(events.length);
  engine.processBatch(events, times, out, status);
  return events.map((_, i) => {
    const row: Record<string, number> = {};
    FEATURE_NAMES.forEach((name, j) => {
      row[name] = out[i * W + j] as number;
    });
    return Object.assign(row, { late: status[i] === 1 });
  });
}

function engine(options: Partial<FeatureEngineOptions> = {}): FeatureEngine {
  return new FeatureEngine({ allowedLatenessMs: 10 * 60_000, stateTtlMs: 86_400_000, ...options });
}

function pick(row: Row | undefined, names: string[]): Record<string, number> {
  assert.ok(row !== undefined);
  return Object.fromEntries(names.map((n) => [n, row[n] as number]));
}

const WINDOW = [
  "txn_count_1m",
  "txn_sum_1m",
  "txn_count_1h",
  "txn_sum_1h",
  "txn_count_24h",
  "txn_sum_24h",
  "amount_max_1h",
];

describe("cold start", () => {
  test("a user's first event gets the registry's cold values", () => {
    const [row] = run(engine(), [
      tx("u", "2026-11-02T10:00:00Z", 10, {
        device_id: "d1",
        merchant_id: "m1",
        country: "DE",
        card_id: "c1",
        merchant_category: "grocery",
        latitude: 52.5,
        longitude: 13.4,
      }),
    ]);
    assert.ok(row !== undefined);
    assert.equal(row.late, false);
    for (const f of BEHAVIOURAL_FEATURES) assert.equal(row[f.name], f.cold, f.name);
  });

  test("without device, merchant or country the 'new' flags are 0", () => {
    const [row] = run(engine(), [tx("u", "2026-11-02T10:00:00Z", 10)]);
    assert.deepEqual(pick(row, ["is_new_device", "is_new_merchant", "is_new_country"]), {
      is_new_device: 0,
      is_new_merchant: 0,
      is_new_country: 0,
    });
  });

  test("the stateless columns come first and are filled", () => {
    const [row] = run(engine(), [tx("u", "2026-11-01T23:30:00+01:00", 99)]);
    assert.equal(row?.amount, 99);
    assert.equal(row?.hour_of_day, 23);
    assert.equal(row?.day_of_week, 0);
  });
});

describe("windows (t − W, t]: an event exactly W before is out", () => {
  const rows = run(engine(), [
    tx("u", "2026-11-02T10:00:00Z", 10),
    tx("u", "2026-11-02T10:00:30Z", 20),
    tx("u", "2026-11-02T10:01:00Z", 30),
    tx("u", "2026-11-02T11:00:00Z", 40),
    tx("u", "2026-11-03T10:00:00Z", 50),
    tx("u", "2026-11-03T10:00:30Z", 60),
  ]);
  const expect = (i: number, v: number[]) =>
    assert.deepEqual(
      pick(rows[i], WINDOW),
      Object.fromEntries(WINDOW.map((n, k) => [n, v[k]])),
      `event ${i}`,
    );
  test("second event sees the first in every window", () => expect(1, [1, 10, 1, 10, 1, 10, 10]));
  test("1 min: the event exactly 1 min before is excluded", () => expect(2, [1, 20, 2, 30, 2, 30, 20]));
  test("1 h: the event exactly 1 h before is excluded", () => expect(3, [0, 0, 2, 50, 3, 60, 30]));
  test("24 h: the event exactly 24 h before is excluded, empty 1 h gives max 0", () =>
    expect(4, [0, 0, 0, 0, 3, 90, 0]));
  test("24 h edge again, 1 min edge inclusive at 30 s", () => expect(5, [1, 50, 1, 50, 3, 120, 50]));
  test("user_txn_count counts all prior events, beyond 24 h too", () =>
    assert.equal(rows[5]?.user_txn_count, 5));
});

describe("amount statistics", () => {
  test("mean, population std and z-score over prior amounts", () => {
    const rows = run(engine(), [
      tx("u", "2026-11-02T10:00:00Z", 10),
      tx("u", "2026-11-02T10:05:00Z", 20),
      tx("u", "2026-11-02T10:10:00Z", 30),
      tx("u", "2026-11-02T10:15:00Z", 40),
    ]);
    const s = ["user_txn_count", "amount_mean", "amount_std", "amount_zscore"];
    assert.deepEqual(pick(rows[1], s), {
      user_txn_count: 1,
      amount_mean: 10,
      amount_std: 0,
      amount_zscore: 0,
    });
    assert.deepEqual(pick(rows[2], s), {
      user_txn_count: 2,
      amount_mean: 15,
      amount_std: 5,
      amount_zscore: 3,
    });
    const r3 = rows[3];
    assert.equal(r3?.amount_mean, 20);
    assert.ok(Math.abs((r3?.amount_std as number) - 8.16496580927726) < 1e-12);
    assert.ok(Math.abs((r3?.amount_zscore as number) - 2.449489742783178) < 1e-12);
  });

  test("identical past amounts: std is floored at 1 % of the mean", () => {
    const rows = run(engine(), [
      tx("u", "2026-11-02T10:00:00Z", 10),
      tx("u", "2026-11-02T10:05:00Z", 10),
      tx("u", "2026-11-02T10:10:00Z", 20),
    ]);
    assert.equal(rows[2]?.amount_std, 0);
    assert.ok(Math.abs((rows[2]?.amount_zscore as number) - 100) < 1e-9);
  });

  test("large amounts keep the variance exact (shifted sums)", () => {
    const rows = run(engine(), [
      tx("u", "2026-11-02T10:00:00Z", 1e9 - 1),
      tx("u", "2026-11-02T10:05:00Z", 1e9 + 1 - 2),
      tx("u", "2026-11-02T10:10:00Z", 1e9),
    ]);
    assert.equal(rows[2]?.amount_std, 0);
  });
});

describe("previous transaction: time, distance, speed", () => {
  const BERLIN = { latitude: 52.52, longitude: 13.405 };
  const PARIS = { latitude: 48.8566, longitude: 2.3522 };
  const KM = 877.4645379215093; // haversine, R = 6371.0088 km, computed independently
  test("seconds since the previous event, distance and speed", () => {
    const rows = run(engine(), [
      tx("u", "2026-11-02T10:00:00Z", 10, BERLIN),
      tx("u", "2026-11-02T11:00:00Z", 10, PARIS),
      tx("u", "2026-11-02T11:00:30Z", 10, BERLIN),
    ]);
    assert.equal(rows[1]?.seconds_since_prev, 3600);
    assert.ok(Math.abs((rows[1]?.distance_from_prev_km as number) - KM) < 1e-6);
    assert.ok(Math.abs((rows[1]?.speed_from_prev_kmh as number) - KM) < 1e-6);
    // 30 s apart: the time is floored at one minute, so speed = distance × 60.
    assert.equal(rows[2]?.seconds_since_prev, 30);
    assert.ok(Math.abs((rows[2]?.speed_from_prev_kmh as number) - KM * 60) < 1e-4);
  });

  test("no distance when this or the previous event lacks a location", () => {
    const rows = run(engine(), [
      tx("u", "2026-11-02T10:00:00Z", 10, BERLIN),
      tx("u", "2026-11-02T11:00:00Z", 10),
      tx("u", "2026-11-02T12:00:00Z", 10, PARIS),
      tx("u", "2026-11-02T13:00:00Z", 10, { latitude: 1 }),
    ]);
    for (const i of [1, 2, 3]) {
      assert.equal(rows[i]?.distance_from_prev_km, 0, `event ${i}`);
      assert.equal(rows[i]?.speed_from_prev_kmh, 0, `event ${i}`);
      assert.equal(rows[i]?.seconds_since_prev, 3600, `event ${i}`);
    }
  });

  test("same timestamp: the earlier arrival is the previous event", () => {
    const rows = run(engine(), [
      tx("u", "2026-11-02T10:00:00Z", 10, BERLIN),
      tx("u", "2026-11-02T10:00:00Z", 20, PARIS),
    ]);
    assert.deepEqual(pick(rows[1], ["seconds_since_prev", "txn_count_1m", "txn_sum_1m"]), {
      seconds_since_prev: 0,
      txn_count_1m: 1,
      txn_sum_1m: 10,
    });
    assert.ok(Math.abs((rows[1]?.speed_from_prev_kmh as number) - KM * 60) < 1e-4);
  });

  test("the previous event is remembered after it left the 24 h buffer", () => {
    const rows = run(engine({ stateTtlMs: 30 * 86_400_000 }), [
      tx("u", "2026-11-02T10:00:00Z", 10, BERLIN),
      tx("u", "2026-11-05T10:00:00Z", 10, BERLIN),
      // Out of order by 5 min: its previous event is the first one, dropped from the buffer by now.
      tx("u", "2026-11-05T09:55:00Z", 10, PARIS),
    ]);
    assert.equal(rows[2]?.late, false);
    assert.equal(rows[2]?.seconds_since_prev, 3 * 86_400 - 300);
    assert.ok(Math.abs((rows[2]?.distance_from_prev_km as number) - KM) < 1e-6);
    assert.equal(rows[2]?.user_txn_count, 1);
  });
});

describe("novelty and distinct values", () => {
  test("new device / merchant / country and distinct counts in 24 h", () => {
    const rows = run(engine(), [
      tx("u", "2026-11-02T10:00:00Z", 10, {
        device_id: "d1",
        merchant_id: "m1",
        country: "DE",
        card_id: "c1",
      }),
      tx("u", "2026-11-02T11:00:00Z", 10, {
        device_id: "d2",
        merchant_id: "m1",
        country: "DE",
        card_id: "c2",
      }),
      tx("u", "2026-11-02T12:00:00Z", 10, {
        device_id: "d1",
        merchant_id: "m2",
        country: "FR",
        card_id: "c1",
      }),
      tx("u", "2026-11-03T11:30:00Z", 10, {
        device_id: "d1",
        merchant_id: "m1",
        country: "DE",
        card_id: "c3",
      }),
    ]);
    const s = [
      "is_new_device",
      "is_new_merchant",
      "is_new_country",
      "distinct_devices_24h",
      "distinct_merchants_24h",
      "distinct_countries_24h",
      "distinct_cards",
    ];
    assert.deepEqual(Object.values(pick(rows[1], s)), [1, 0, 0, 1, 1, 1, 1]);
    assert.deepEqual(Object.values(pick(rows[2], s)), [0, 1, 1, 2, 1, 1, 2]);
    // 24 h window (11:30, 11:30]: only the events of 12:00 the day before remain in it.
    assert.deepEqual(Object.values(pick(rows[3], s)), [0, 0, 0, 1, 1, 1, 2]);
  });

  test("device falls back to the device type, merchant to its name, category to the MCC", () => {
    const rows = run(engine(), [
      tx("u", "2026-11-02T10:00:00Z", 30, { device: "Mobile", merchant_name: "Shop", mcc: "5411" }),
      tx("u", "2026-11-02T10:10:00Z", 70, { device: "Mobile", merchant_name: "Shop", mcc: "4511" }),
      tx("u", "2026-11-02T10:20:00Z", 10, { device: "Desktop", merchant_name: "Shop", mcc: "5411" }),
    ]);
    assert.deepEqual(pick(rows[1], ["is_new_device", "is_new_merchant", "category_spend_share"]), {
      is_new_device: 0,
      is_new_merchant: 0,
      category_spend_share: 0,
    });
    assert.equal(rows[2]?.is_new_device, 1);
    assert.equal(rows[2]?.category_spend_share, 0.3);
  });

  test("category spend share over all prior spend", () => {
    const rows = run(engine(), [
      tx("u", "2026-11-02T10:00:00Z", 30, { merchant_category: "grocery" }),
      tx("u", "2026-11-02T10:10:00Z", 70, { merchant_category: "travel" }),
      tx("u", "2026-11-02T10:20:00Z", 5, { merchant_category: "grocery" }),
      tx("u", "2026-11-02T10:30:00Z", 5, { merchant_category: "crypto" }),
      tx("u", "2026-11-02T10:40:00Z", 5),
    ]);
    assert.equal(rows[0]?.category_spend_share, 0);
    assert.equal(rows[2]?.category_spend_share, 0.3);
    assert.equal(rows[3]?.category_spend_share, 0);
    assert.equal(rows[4]?.category_spend_share, 0);
  });

  test(`beyond ${VALUE_CAPS[0]} countries a user's further countries are not kept: always new`, () => {
    const e = engine();
    const cap = VALUE_CAPS[0] as number;
    const events: Transaction[] = [];
    for (let i = 0; i <= cap; i++) {
      const country = String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26));
      events.push(tx("u", `2026-11-02T10:${String(i).padStart(2, "0")}:00Z`, 1, { country }));
    }
    events.push(tx("u", "2026-11-02T11:00:00Z", 1, { country: "AA" }));
    events.push(tx("u", "2026-11-02T11:01:00Z", 1, { country: events[cap]?.country as string }));
    const rows = run(e, events);
    assert.equal(rows[cap + 1]?.is_new_country, 0);
    assert.equal(rows[cap + 2]?.is_new_country, 1);
    assert.equal(rows[cap + 2]?.distinct_countries_24h, cap);
  });
});

describe("event time and lateness (allowed lateness 10 min)", () => {
  const rows = run(engine(), [
    tx("u", "2026-11-02T12:00:00Z", 10, { device_id: "d1" }),
    tx("u", "2026-11-02T12:30:00Z", 1000, { device_id: "d2" }),
    tx("u", "2026-11-02T12:19:59.999Z", 5, { device_id: "d3" }),
    tx("u", "2026-11-02T12:20:00Z", 20, { device_id: "d2" }),
    tx("u", "2026-11-02T12:31:00Z", 30, { device_id: "d3" }),
  ]);
  test("older than the newest event time minus the lateness: late, NaN row", () => {
    assert.equal(rows[2]?.late, true);
    assert.ok(Number.isNaN(rows[2]?.amount));
    assert.ok(Number.isNaN(rows[2]?.txn_count_1h));
  });
  test("exactly at the lateness edge: accepted, computed over events with time ≤ its own", () => {
    assert.deepEqual(
      pick(rows[3], [
        "txn_count_1h",
        "txn_sum_1h",
        "user_txn_count",
        "amount_mean",
        "seconds_since_prev",
        "is_new_device",
      ]),
      {
        txn_count_1h: 1,
        txn_sum_1h: 10,
        user_txn_count: 1,
        amount_mean: 10,
        seconds_since_prev: 1200,
        is_new_device: 1, // d2 was seen only at 12:30, after this event
      },
    );
  });
  test("later events see the out-of-order one, not the late one", () => {
    assert.deepEqual(pick(rows[4], ["txn_count_1h", "txn_sum_1h", "seconds_since_prev", "is_new_device"]), {
      txn_count_1h: 3,
      txn_sum_1h: 1030,
      seconds_since_prev: 60,
      is_new_device: 1, // d3 came only with the late event, which left no trace
    });
  });
  test("a late event does not mark its user dirty", () => {
    const e = engine();
    run(e, [tx("u", "2026-11-02T12:30:00Z", 1)]);
    e.clearDirty();
    const [row] = run(e, [tx("u", "2026-11-02T12:00:00Z", 1)]);
    assert.equal(row?.late, true);
    assert.equal(e.dirtyUsers().size, 0);
  });
  test("users are independent: another user's newer events do not make an event late", () => {
    const r = run(engine(), [tx("a", "2026-11-02T12:30:00Z", 1), tx("b", "2026-11-02T12:00:00Z", 1)]);
    assert.equal(r[1]?.late, false);
  });
});

describe("per-user event cap", () => {
  test("windows saturate at the cap; an event older than a dropped one is late", () => {
    const e = engine({ maxEventsPerUser: 4 });
    const events = [0, 1, 2, 3, 4, 5].map((s) => tx("u", `2026-11-02T10:00:0${s}Z`, 1));
    const rows = run(e, events);
    assert.deepEqual(
      rows.map((r) => r.txn_count_1m),
      [0, 1, 2, 3, 4, 4],
    );
    assert.equal(rows[5]?.user_txn_count, 5);
    // 10:00:01 was dropped by the cap (10:00:00 and 10:00:01 are gone): 10:00:00.500 can't be placed.
    const [late] = run(e, [tx("u", "2026-11-02T10:00:00.500Z", 1)]);
    assert.equal(late?.late, true);
    const [ok] = run(e, [tx("u", "2026-11-02T10:00:01Z", 1)]);
    assert.equal(ok?.late, false);
    assert.equal(ok?.seconds_since_prev, 0);
  });
});

/** Events of `users` users, one a minute from `from`, round robin. */
function traffic(users: number, count: number, from: string): Transaction[] {
  const t0 = parseEventTime(from);
  return Array.from({ length: count }, (_, i) =>
    tx(`u${i % users}`, new Date(t0 + i * 60_000).toISOString(), 10 + (i % 7), {
      device_id: `d${i % users}`,
    }),
  );
}

function statuses(engine: FeatureEngine, events: Transaction[], wallMs?: number): number[] {
  const times = events.map((e) => parseEventTime(e.timestamp));
  const out = new Float64Array(events.length * W);
  const status = new Uint8Array(events.length);
  engine.processBatch(events, times, out, status, wallMs);
  return [...status];
}

describe("watermark and event-time bounds", () => {
  const bounded = { stateTtlMs: 30 * 86_400_000, maxFutureSkewMs: 3_600_000, maxEventAgeMs: 86_400_000 };

  test("one event dated 2099 neither moves the watermark nor makes anyone idle or late", () => {
    const before = traffic(40, 200, "2026-11-02T00:00:00Z");
    const after = traffic(40, 200, "2026-11-02T03:20:00Z");
    const clean = engine(bounded);
    run(clean, before);
    const cleanRows = run(clean, after);
    // Without bounds (the engine's defaults) the 2099 event is accepted, and still cannot drag the
    // median: nobody else's state expires and the watermark stays with the crowd.
    for (const options of [{ stateTtlMs: bounded.stateTtlMs }, bounded]) {
      const e = engine(options);
      run(e, before);
      const w = e.watermark;
      const [poison] = statuses(e, [tx("u0", "2099-01-01T00:00:00Z", 5)]);
      // Accepted, it shifts the median by one rank at most: to the next genuine event's time.
      assert.ok(e.watermark - w <= 60_000, "the watermark stays with the crowd");
      assert.deepEqual(e.expire(), []);
      if (options === bounded) {
        assert.equal(poison, FUTURE);
        assert.deepEqual(run(e, after), cleanRows, "every later event as without it");
      } else {
        assert.equal(poison, ACCEPTED);
        // Only u0 itself is hurt (its later events are late for it); the other users are untouched.
        const rows = run(e, after);
        rows.forEach((row, i) => {
          if (after[i]?.user_id !== "u0") assert.deepEqual(row, cleanRows[i]);
        });
      }
    }
  });

  test("events too far past the head or behind the watermark are rejected without touching state", () => {
    const e = engine(bounded);
    assert.equal(e.watermark, Number.NEGATIVE_INFINITY, "no watermark before 16 events");
    run(e, traffic(10, 100, "2026-11-02T00:00:00Z"));
    e.clearDirty();
    const watermark = e.watermark;
    const spike = tx("u3", "2026-11-02T04:00:00Z", 5); // 2.3 h past the newest event, one user
    const old = tx("new-user", "2026-10-31T00:00:00Z", 5);
    assert.deepEqual(statuses(e, [spike, old]), [FUTURE, TOO_OLD]);
    assert.equal(e.dirtyUsers().size, 0);
    assert.equal(e.hasUser("new-user"), false);
    assert.equal(e.watermark, watermark);
    // Just within the bound is accepted: the head is the newest time here (steady arrivals).
    assert.ok(Math.abs(e.futureLimit() - (parseEventTime("2026-11-02T01:39:00Z") + 3_600_000)) <= 60_000);
    assert.deepEqual(statuses(e, [tx("u3", "2026-11-02T02:30:00Z", 5)]), [ACCEPTED]);
    // After a quiet spell of real time the bound widens by it: two hours of silence admit 4:00.
    const e2 = engine(bounded);
    const wall = Date.UTC(2026, 11, 4);
    statuses(e2, traffic(10, 100, "2026-11-02T00:00:00Z"), wall);
    assert.deepEqual(statuses(e2, [spike], wall), [FUTURE]);
    assert.deepEqual(statuses(e2, [spike], wall + 2 * 3_600_000), [ACCEPTED]);
  });

  test("a minority walking one user's events forward cannot drag the watermark", () => {
    const e = engine(bounded);
    const crowd = traffic(50, 300, "2026-11-02T00:00:00Z");
    const out: Transaction[] = [];
    // Every fifth event is the attacker's, each as far ahead as the bound lets through at that moment.
    let attackerAt = parseEventTime("2026-11-02T05:00:00Z");
    for (const [i, c] of crowd.entries()) {
      out.push(c);
      if (i % 5 === 4) {
        out.push(tx("attacker", new Date(attackerAt).toISOString(), 1));
        attackerAt += 3_600_000;
      }
    }
    run(e, out);
    const newestGenuine = parseEventTime(crowd.at(-1)?.timestamp ?? "");
    assert.ok(e.watermark <= newestGenuine, "the watermark stays among the genuine events");
    assert.ok(e.futureLimit() <= newestGenuine + 2 * 3_600_000);
  });

  test("the clock survives a checkpoint: a restored engine bounds and expires like the original", () => {
    const e = engine(bounded);
    run(e, traffic(20, 300, "2026-11-02T00:00:00Z"));
    statuses(e, [tx("u1", "2099-01-01T00:00:00Z", 1)]);
    const e2 = engine(bounded);
    for (const u of e.userIds()) e2.restoreUser(u, e.serializeUser(u) as Uint8Array);
    e2.restoreClock(e.serializeClock());
    assert.equal(e2.watermark, e.watermark);
    assert.equal(e2.futureLimit(), e.futureLimit());
    assert.ok(e2.watermark < parseEventTime("2026-11-03T00:00:00Z"));
    const next = traffic(20, 50, "2026-11-02T05:00:00Z");
    assert.deepEqual(run(e2, next), run(e, next));
    assert.throws(() => e2.restoreClock(new Uint8Array(7)), /not a valid state/);
  });
});

describe("state lifetime", () => {
  test("expire() drops users idle longer than the TTL in event time", () => {
    const e = engine({ stateTtlMs: 3_600_000 });
    run(e, [tx("a", "2026-11-02T10:00:00Z", 1), tx("b", "2026-11-02T10:30:00Z", 1)]);
    e.clearDirty();
    const t = parseEventTime("2026-11-02T11:00:00Z");
    assert.deepEqual(e.expire(t), []);
    assert.deepEqual(e.expire(t + 1), ["a"]);
    assert.equal(e.hasUser("a"), false);
    assert.equal(e.hasUser("b"), true);
    assert.equal(e.userCount, 1);
    assert.deepEqual([...e.dirtyUsers()], ["a"]);
    assert.equal(e.serializeUser("a"), undefined);
    const [row] = run(e, [tx("a", "2026-11-02T11:00:01Z", 1)]);
    assert.equal(row?.user_txn_count, 0);
    assert.equal(row?.seconds_since_prev, -1);
  });

  test("a user idle past the TTL behind the watermark starts cold whether or not expire() ran", () => {
    // 20 other users moving on to 11:30 carry the watermark (their median) 1.5 h past a's last event.
    const crowd = Array.from({ length: 20 }, (_, i) =>
      tx(`b${i}`, `2026-11-02T11:${String(10 + i).padStart(2, "0")}:00Z`, 1),
    );
    const events = [
      tx("a", "2026-11-02T10:00:00Z", 1, { device_id: "d1" }),
      ...crowd,
      tx("a", "2026-11-02T11:25:00Z", 1, { device_id: "d1" }), // a's last event is 1.3 h behind it
    ];
    const withoutExpire = run(engine({ stateTtlMs: 3_600_000 }), events);
    const e = engine({ stateTtlMs: 3_600_000 });
    run(e, events.slice(0, -1));
    assert.equal(e.watermark, parseEventTime("2026-11-02T11:19:00Z"), "the median of the 21 times");
    assert.deepEqual(e.expire(), ["a"], "expire() defaults to the engine's watermark");
    const afterExpire = run(e, events.slice(-1));
    for (const row of [withoutExpire.at(-1), afterExpire[0]]) {
      assert.equal(row?.late, false);
      assert.equal(row?.user_txn_count, 0);
      assert.equal(row?.is_new_device, 1);
    }
    // A restored engine needs the clock too: a's next event (10:50) is within the TTL of a's last
    // one, but the watermark (11:19) is not, so the uninterrupted engine starts a afresh.
    const next = [tx("a", "2026-11-02T10:50:00Z", 1, { device_id: "d1" })];
    const whole = engine({ stateTtlMs: 3_600_000 });
    const uninterrupted = run(whole, [...events.slice(0, -1), ...next]);
    const first = engine({ stateTtlMs: 3_600_000 });
    run(first, events.slice(0, -1));
    const restore = (withClock: boolean) => {
      const e2 = engine({ stateTtlMs: 3_600_000 });
      for (const u of first.userIds()) e2.restoreUser(u, first.serializeUser(u) as Uint8Array);
      if (withClock) e2.restoreClock(first.serializeClock());
      return run(e2, next)[0];
    };
    assert.equal(uninterrupted.at(-1)?.user_txn_count, 0);
    assert.equal(restore(true)?.user_txn_count, 0);
    assert.equal(restore(false)?.user_txn_count, 1, "without the clock the restored engine differs");
    // Within the TTL the history is kept.
    const kept = run(engine({ stateTtlMs: 2 * 3_600_000 }), events);
    assert.equal(kept.at(-1)?.user_txn_count, 1);
    assert.equal(kept.at(-1)?.is_new_device, 0);
  });

  test("dirtyUsers() lists each changed user once until clearDirty()", () => {
    const e = engine();
    run(e, [
      tx("a", "2026-11-02T10:00:00Z", 1),
      tx("b", "2026-11-02T10:00:00Z", 1),
      tx("a", "2026-11-02T10:01:00Z", 1),
    ]);
    assert.deepEqual([...e.dirtyUsers()].sort(), ["a", "b"]);
    e.clearDirty();
    assert.equal(e.dirtyUsers().size, 0);
    run(e, [tx("b", "2026-11-02T10:02:00Z", 1)]);
    assert.deepEqual([...e.dirtyUsers()], ["b"]);
  });

  test("clear() drops every user and every pending change (revoked partition)", () => {
    const e = engine();
    run(e, [tx("a", "2026-11-02T10:00:00Z", 1), tx("b", "2026-11-02T10:00:00Z", 1)]);
    e.clear();
    assert.equal(e.userCount, 0);
    assert.equal(e.dirtyUsers().size, 0);
    assert.equal(e.stateBytes(), 0);
    const [row] = run(e, [tx("a", "2026-11-02T10:00:01Z", 1)]);
    assert.equal(row?.user_txn_count, 0);
    assert.deepEqual([...e.dirtyUsers()], ["a"]);
  });

  test("rolling back a failed batch: restore or drop the dirty users, then continue", () => {
    const e = engine();
    const a0 = tx("a", "2026-11-02T10:00:00Z", 10);
    run(e, [a0]);
    const checkpoint = new Map([["a", e.serializeUser("a") as Uint8Array]]);
    e.clearDirty();
    // This batch is processed but its write fails.
    run(e, [tx("a", "2026-11-02T10:01:00Z", 20), tx("b", "2026-11-02T10:01:00Z", 5)]);
    for (const u of e.dirtyUsers()) {
      const bytes = checkpoint.get(u);
      if (bytes === undefined) assert.equal(e.dropUser(u), true);
      else e.restoreUser(u, bytes);
    }
    e.clearDirty();
    assert.equal(e.hasUser("b"), false);
    assert.equal(e.dropUser("b"), false);
    // The retry sees the state of the checkpoint, not the failed attempt.
    const rows = run(e, [tx("a", "2026-11-02T10:01:00Z", 20), tx("b", "2026-11-02T10:01:00Z", 5)]);
    assert.equal(rows[0]?.user_txn_count, 1);
    assert.equal(rows[0]?.txn_sum_1h, 10);
    assert.equal(rows[1]?.user_txn_count, 0);
  });
});

describe("checkpoints", () => {
  function stream(): Transaction[] {
    const out: Transaction[] = [];
    for (let i = 0; i < 300; i++) {
      const m = String(i % 60).padStart(2, "0");
      const h = String(Math.floor(i / 60) * 5).padStart(2, "0");
      out.push(
        tx(`u${i % 7}`, `2026-11-02T${h}:${m}:00Z`, 1 + ((i * 37) % 101), {
          device_id: `d${i % 3}`,
          merchant_id: `m${i % 11}`,
          merchant_category: `c${i % 4}`,
          country: i % 5 === 0 ? "FR" : "DE",
          card_id: `k${i % 2}`,
          latitude: (i % 90) - 45,
          longitude: (i % 180) - 90,
        }),
      );
    }
    return out;
  }

  test("serialize every user, restore into a fresh engine, continue: identical features", () => {
    const events = stream();
    const whole = run(engine(), events);
    const first = engine();
    run(first, events.slice(0, 150));
    const second = engine();
    for (const u of first.userIds()) second.restoreUser(u, first.serializeUser(u) as Uint8Array);
    assert.deepEqual(run(second, events.slice(150)), whole.slice(150));
  });

  test("restore accepts bytes at any offset of a larger buffer (as database drivers hand them out)", () => {
    const e = engine();
    run(e, stream().slice(0, 20));
    const bytes = e.serializeUser("u1") as Uint8Array;
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    const f = engine();
    f.restoreUser("u1", padded.subarray(3));
    assert.deepEqual(f.serializeUser("u1"), bytes);
  });

  test("restore rejects bytes of another format or a truncated state", () => {
    const e = engine();
    run(e, stream().slice(0, 20));
    const bytes = e.serializeUser("u1") as Uint8Array;
    const other = bytes.slice();
    new Float64Array(other.buffer)[0] = 99;
    assert.throws(() => engine().restoreUser("u1", other), FeatureStateError);
    assert.throws(() => engine().restoreUser("u1", bytes.subarray(0, bytes.length - 8)), FeatureStateError);
    assert.throws(() => engine({ maxEventsPerUser: 1 }).restoreUser("u1", bytes), FeatureStateError);
  });

  test("compact() keeps every user's features", () => {
    const events = stream();
    const whole = run(engine(), events);
    const e = engine();
    run(e, events.slice(0, 150));
    e.compact();
    assert.equal(e.arenaBytes(), e.stateBytes());
    assert.deepEqual(run(e, events.slice(150)), whole.slice(150));
  });
});

test("processBatch checks its buffers", () => {
  const e = engine();
  const ev = [tx("u", "2026-11-02T10:00:00Z", 1)];
  assert.throws(() => e.processBatch(ev, [0], new Float64Array(W - 1), new Uint8Array(1)), RangeError);
  assert.throws(() => new FeatureEngine({ allowedLatenessMs: -1, stateTtlMs: 1 }), RangeError);
  const two = [...ev, tx("v", "2026-11-02T10:00:00Z", 1)];
  assert.throws(
    () => e.processBatch(two, [0, Number.NaN], new Float64Array(2 * W), new Uint8Array(2)),
    RangeError,
  );
  assert.equal(e.userCount, 0, "nothing of a rejected batch is applied");
});
