import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseEventTime, type Transaction } from "../contract/transaction.ts";
import { STATELESS_FEATURES, writeStatelessFeatures } from "./stateless.ts";

const W = STATELESS_FEATURES.length;
const names = STATELESS_FEATURES.map((f) => f.name);

function features(patch: Partial<Transaction>): Record<string, number> {
  const event: Transaction = {
    transaction_id: "t",
    timestamp: "2026-11-22T09:14:03.512Z", // a Sunday
    user_id: "u",
    amount: 100,
    currency: "EUR",
    ...patch,
  };
  const out = new Float64Array(W * 2).fill(Number.NaN);
  writeStatelessFeatures(event, parseEventTime(event.timestamp), out, W);
  assert.ok(out.slice(0, W).every(Number.isNaN), "wrote outside its slot");
  return Object.fromEntries(names.map((n, i) => [n, out[W + i] as number]));
}

describe("stateless features", () => {
  it("computes amount, log amount, hour, weekday and weekend", () => {
    const f = features({});
    assert.equal(f.amount, 100);
    assert.equal(f.log_amount, Math.log(101));
    assert.equal(f.hour_of_day, 9);
    assert.equal(f.day_of_week, 0);
    assert.equal(f.is_weekend, 1);
    const monday = features({ timestamp: "2026-11-23T23:59:59Z" });
    assert.equal(monday.day_of_week, 1);
    assert.equal(monday.is_weekend, 0);
    assert.equal(monday.hour_of_day, 23);
  });

  it("reads hour and weekday in the timestamp's own offset", () => {
    // 23:30 on Monday in New York is 04:30 on Tuesday in UTC.
    const f = features({ timestamp: "2026-11-23T23:30:00-05:00" });
    assert.equal(f.hour_of_day, 23);
    assert.equal(f.day_of_week, 1);
    const g = features({ timestamp: "2026-11-24T00:30:00+05:30" });
    assert.equal(g.hour_of_day, 0);
    assert.equal(g.day_of_week, 2);
  });

  it("handles days before 1970", () => {
    const f = features({ timestamp: "1969-12-28T12:00:00Z" }); // a Sunday
    assert.equal(f.day_of_week, 0);
    assert.equal(f.hour_of_day, 12);
  });

  it("codes channel and device, with -1 for missing and 5 for unknown devices", () => {
    assert.equal(features({}).channel_code, -1);
    assert.equal(features({ channel: "online" }).channel_code, 1);
    assert.equal(features({ channel: "transfer" }).channel_code, 4);
    assert.equal(features({}).device_code, -1);
    assert.equal(features({ device: "POS Terminal" }).device_code, 0);
    assert.equal(features({ device: "mobile" }).device_code, 2);
    assert.equal(features({ device: "Smart Fridge" }).device_code, 5);
  });

  it("flags a foreign country only when both countries are known", () => {
    assert.equal(features({ country: "BR", home_country: "DE" }).is_foreign, 1);
    assert.equal(features({ country: "DE", home_country: "DE" }).is_foreign, 0);
    assert.equal(features({ country: "BR" }).is_foreign, 0);
  });
});
