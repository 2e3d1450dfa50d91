import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseEventTime, type Transaction, TransactionSchema } from "../contract/transaction.ts";
import { CITIES, distanceKm } from "./cities.ts";
import { createSimulator, formatTimestamp, SCENARIO_NAMES } from "./index.ts";
import { CURRENCY_SCALE } from "./population.ts";

function take(n: number, opts: Parameters<typeof createSimulator>[0] = {}): Transaction[] {
  const sim = createSimulator(opts);
  return Array.from({ length: n }, () => sim.next());
}

const sample = take(100_000, { users: 800, seed: 3 });
const times = sample.map((e) => parseEventTime(e.timestamp));

describe("simulator output", () => {
  it("is valid under the event contract, every one of 100,000 events", () => {
    for (const e of sample) {
      const r = TransactionSchema.safeParse(e);
      assert.ok(r.success, `${JSON.stringify(e)}: ${JSON.stringify(r.error?.issues)}`);
    }
    assert.equal(
      new Set(sample.map((e) => e.transaction_id)).size,
      sample.length,
      "transaction ids are unique",
    );
  });

  it("is byte-identical for the same seed and options, different for another seed", () => {
    const a = take(5000, { users: 300, seed: 11 }).map((e) => JSON.stringify(e));
    const b = take(5000, { users: 300, seed: 11 }).map((e) => JSON.stringify(e));
    const c = take(5000, { users: 300, seed: 12 }).map((e) => JSON.stringify(e));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it("hits the requested fraud rate and labels every fraudulent event with its type", () => {
    for (const rate of [0, 0.02, 0.05, 0.2]) {
      const events = rate === 0.05 ? sample : take(100_000, { users: 800, seed: 5, fraudRate: rate });
      const fraud = events.filter((e) => e.is_fraud === 1);
      const share = fraud.length / events.length;
      assert.ok(Math.abs(share - rate) <= 0.005, `rate ${rate}: got ${share}`);
      for (const e of events) {
        if (e.is_fraud === 1) assert.ok(SCENARIO_NAMES.includes(e.fraud_type as never), e.fraud_type);
        else assert.equal(e.fraud_type, undefined);
      }
    }
    const types = new Set(sample.filter((e) => e.is_fraud === 1).map((e) => e.fraud_type));
    assert.deepEqual([...types].sort(), [...SCENARIO_NAMES].sort(), "every scenario occurs");
  });

  it("keeps event time moving forward, but for a few late arrivals within two minutes", () => {
    let late = 0;
    let max = Number.NEGATIVE_INFINITY;
    for (const t of times) {
      if (t < max) {
        late++;
        assert.ok(max - t <= 125_000, `late by ${max - t} ms`);
      }
      max = Math.max(max, t);
    }
    assert.ok(late > 0 && late < sample.length * 0.03, `late arrivals: ${late}`);
    assert.ok((times[0] as number) >= Date.UTC(2026, 10, 1) - 150_000);
    // 800 users at ~2.5 payments a day: 100,000 events span weeks of event time, not seconds.
    const days = (max - (times[0] as number)) / 86_400_000;
    assert.ok(days > 10 && days < 60, `span ${days} days`);
  });

  it("looks like card traffic: mostly at home, a daily rhythm, some legitimate travel and large purchases", () => {
    const normal = sample.filter((e) => e.is_fraud === 0);
    const abroad = normal.filter((e) => e.country !== e.home_country);
    assert.ok(abroad.length > 0 && abroad.length < normal.length * 0.15, `abroad ${abroad.length}`);
    // Local hour from the timestamp's own offset: far more payments by day than at 3 am.
    const hour = (e: Transaction) => Number(e.timestamp.slice(11, 13));
    const night = normal.filter((e) => hour(e) >= 2 && hour(e) < 5).length;
    const day = normal.filter((e) => hour(e) >= 11 && hour(e) < 14).length;
    assert.ok(day > night * 4, `day ${day}, night ${night}`);
    // Per-user medians differ, and some legitimate payments are many times the user's median.
    const byUser = new Map<string, number[]>();
    for (const e of normal) byUser.set(e.user_id, [...(byUser.get(e.user_id) ?? []), e.amount]);
    let large = 0;
    for (const [, amounts] of byUser) {
      const sorted = [...amounts].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)] as number;
      large += amounts.filter((a) => a > median * 15).length;
    }
    assert.ok(large > 0, "legitimate large purchases exist");
    // Heavy-tailed per user: the mean sits above the median (log-normal), and the top percent of a
    // user's payments is several times their median.
    let skewed = 0;
    let users = 0;
    let tailRatios = 0;
    for (const [, amounts] of byUser) {
      if (amounts.length < 50) continue;
      users++;
      const sorted = [...amounts].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)] as number;
      const mean = sorted.reduce((x, y) => x + y, 0) / sorted.length;
      if (mean > median) skewed++;
      tailRatios += (sorted[Math.floor(sorted.length * 0.99)] as number) / median;
    }
    assert.ok(users > 100 && skewed > users * 0.9, `mean above median for ${skewed} of ${users} users`);
    assert.ok(tailRatios / users > 4, `p99 / median averages ${tailRatios / users}`);
    assert.ok(new Set(normal.map((e) => e.currency)).size > 5, "several home currencies");
  });

  it("builds each fraud scenario as a fraud team would recognise it", () => {
    const byType = (t: string) => sample.filter((e) => e.fraud_type === t);
    // Card testing: tiny amounts within minutes from one new device.
    for (const e of byType("card_testing")) {
      assert.equal(e.channel, "online");
      // Below 5 units of a euro-like currency (scaled for currencies such as JPY or INR).
      assert.ok(
        e.amount < 5 * (CURRENCY_SCALE[e.currency] ?? 1),
        `card-testing amount ${e.amount} ${e.currency}`,
      );
    }
    const normalMedian = (user: string) => {
      const a = sample.filter((e) => e.user_id === user && e.is_fraud === 0).map((e) => e.amount);
      a.sort((x, y) => x - y);
      return a[Math.floor(a.length / 2)] ?? 0;
    };
    const ct = byType("card_testing")[0] as Transaction;
    assert.ok(ct.amount < normalMedian(ct.user_id), "card-testing amounts are below the user's usual");
    // Impossible travel: thousands of km from the user's previous payment within a couple of hours.
    let checked = 0;
    for (const e of byType("impossible_travel").slice(0, 20)) {
      const i = sample.indexOf(e);
      const prev = sample.slice(0, i).findLast((p) => p.user_id === e.user_id && p.is_fraud === 0);
      if (prev === undefined) continue;
      const km = distanceKm(
        { lat: prev.latitude ?? 0, lon: prev.longitude ?? 0 },
        { lat: e.latitude ?? 0, lon: e.longitude ?? 0 },
      );
      const hours = (parseEventTime(e.timestamp) - parseEventTime(prev.timestamp)) / 3_600_000;
      if (hours < 3) {
        checked++;
        assert.ok(km / Math.max(hours, 1 / 60) > 900, `${km} km in ${hours} h`);
      }
    }
    assert.ok(checked >= 5, `impossible-travel events checked: ${checked}`);
    // Account takeover and location mismatch: abroad, from a device the user never used before.
    const usualDevices = new Set(
      sample.filter((p) => p.is_fraud === 0).map((p) => `${p.user_id}\u0000${p.device_id}`),
    );
    for (const t of ["account_takeover", "location_mismatch"]) {
      for (const e of byType(t)) {
        assert.notEqual(e.country, e.home_country, t);
        assert.ok(!usualDevices.has(`${e.user_id}\u0000${e.device_id}`), `${t} uses a new device`);
      }
    }
    // High-risk merchants at night.
    for (const e of byType("high_risk_merchant")) {
      assert.ok(["gambling", "crypto", "money_transfer"].includes(e.merchant_category ?? ""));
      const h = Number(e.timestamp.slice(11, 13));
      assert.ok(h >= 1 && h <= 6, `hour ${h}`);
    }
    // Velocity burst: at least 8 payments of one user within 6 minutes.
    const vb = byType("velocity_burst");
    const first = vb[0] as Transaction;
    const burst = vb.filter(
      (e) =>
        e.user_id === first.user_id &&
        parseEventTime(e.timestamp) - parseEventTime(first.timestamp) <= 6 * 60_000 + 1,
    );
    assert.ok(burst.length >= 8, `burst of ${burst.length}`);
    // Amount spike: far above the user's normal median.
    for (const e of byType("amount_spike").slice(0, 20)) {
      const m = normalMedian(e.user_id);
      if (m > 0) assert.ok(e.amount > m * 8, `${e.amount} vs median ${m}`);
    }
  });

  it("follows the scenario mix and stamps wall-clock time when asked", () => {
    const only = take(20_000, { users: 300, seed: 9, scenarioMix: { amount_spike: 1 } });
    const types = new Set(only.filter((e) => e.is_fraud === 1).map((e) => e.fraud_type));
    assert.deepEqual([...types], ["amount_spike"]);
    const before = Date.now();
    const wall = take(100, { users: 50, timestamps: "wall", lateShare: 0 });
    for (const e of wall) assert.ok(Math.abs(parseEventTime(e.timestamp) - before) < 10_000);
  });

  it("rejects bad options with the option's name", () => {
    assert.throws(() => createSimulator({ fraudRate: 0.9 }), /fraudRate/);
    assert.throws(() => createSimulator({ users: 0 }), /users/);
    assert.throws(() => createSimulator({ scenarioMix: { amount_spike: 0 } }), /scenarioMix/);
  });

  it("formats local time with the place's offset", () => {
    const t = Date.UTC(2026, 10, 1, 12, 0, 0, 5);
    assert.equal(formatTimestamp(t, 60), "2026-11-01T13:00:00.005+01:00");
    assert.equal(formatTimestamp(t, -300), "2026-11-01T07:00:00.005-05:00");
    assert.equal(formatTimestamp(t, 330), "2026-11-01T17:30:00.005+05:30");
    assert.equal(parseEventTime(formatTimestamp(t, 330)), t);
    assert.ok(CITIES.length >= 100);
  });
});
