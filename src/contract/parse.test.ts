import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { DEFAULT_MAX_EVENT_BYTES, type ParseResult, parseRecord } from "./parse.ts";
import { parseEventTime } from "./transaction.ts";

const examplePath = new URL("../../contract/example.jsonl", import.meta.url);
const opts = { maxBytes: DEFAULT_MAX_EVENT_BYTES };
const enc = new TextEncoder();

const valid = {
  transaction_id: "t-1",
  timestamp: "2026-11-22T09:14:03.512Z",
  user_id: "u-1",
  amount: 42.17,
  currency: "EUR",
};

function parse(value: unknown): ParseResult {
  return parseRecord(enc.encode(typeof value === "string" ? value : JSON.stringify(value)), opts);
}

function rejected(result: ParseResult, reason: string, field?: string): string {
  assert.equal(result.ok, false, "expected a rejection");
  if (result.ok) throw new Error("unreachable");
  assert.equal(result.reason, reason);
  assert.equal(result.field, field);
  return result.detail;
}

describe("parseRecord", () => {
  it("accepts every event of the contract's example file", () => {
    const lines = readFileSync(examplePath, "utf8").split("\n").filter(Boolean);
    assert.ok(lines.length >= 2);
    for (const line of lines) {
      const r = parseRecord(enc.encode(line), opts);
      assert.ok(r.ok, r.ok ? "" : r.detail);
      assert.equal(r.eventTime, Date.parse(JSON.parse(line).timestamp));
    }
  });

  it("keeps extra fields in the payload but not in the typed event", () => {
    const r = parse({ ...valid, loyalty_tier: "gold" });
    assert.ok(r.ok);
    assert.equal(r.payload.loyalty_tier, "gold");
    assert.equal("loyalty_tier" in r.event, false);
  });

  it("rejects a record with no value", () => {
    rejected(parseRecord(null, opts), "empty");
    rejected(parseRecord(new Uint8Array(0), opts), "empty");
  });

  it("rejects text that is not JSON", () => {
    const detail = rejected(parse("{transaction_id: 1"), "malformed_json");
    assert.match(detail, /^not JSON/);
  });

  it("rejects JSON that is not an object", () => {
    rejected(parse("[1,2]"), "not_an_object");
    rejected(parse("42"), "not_an_object");
    rejected(parse("null"), "not_an_object");
  });

  it("names each missing required field", () => {
    for (const field of Object.keys(valid)) {
      const { [field]: _omitted, ...rest } = valid as Record<string, unknown>;
      rejected(parse(rest), "schema", field);
    }
  });

  it("rejects wrong types and names the field", () => {
    rejected(parse({ ...valid, amount: "42.17" }), "schema", "amount");
    rejected(parse({ ...valid, user_id: 17 }), "schema", "user_id");
    rejected(parse({ ...valid, latitude: "52" }), "schema", "latitude");
    rejected(parse({ ...valid, channel: "fax" }), "schema", "channel");
    rejected(parse({ ...valid, is_fraud: 2 }), "schema", "is_fraud");
  });

  it("rejects negative, zero, infinite and too large amounts", () => {
    const detail = rejected(parse({ ...valid, amount: -5 }), "schema", "amount");
    assert.match(detail, /got -5/);
    rejected(parse({ ...valid, amount: 0 }), "schema", "amount");
    rejected(parse({ ...valid, amount: 2e9 }), "schema", "amount");
    // JSON has no NaN or Infinity literals: 1e999 is how Infinity arrives, and NaN only as text.
    rejected(parse(JSON.stringify(valid).replace("42.17", "1e999")), "schema", "amount");
    rejected(parse(JSON.stringify(valid).replace("42.17", "NaN")), "malformed_json");
    rejected(parse({ ...valid, amount: "NaN" }), "schema", "amount");
  });

  it("rejects invalid timestamps", () => {
    for (const ts of [
      "yesterday",
      "2026-11-22",
      "2026-11-22T09:14:03",
      "2026-13-01T00:00:00Z",
      "2026-02-30T00:00:00Z",
      "2026-11-22T24:00:00Z",
      "2026-11-22T09:14:03+25:00",
      "",
    ]) {
      rejected(parse({ ...valid, timestamp: ts }), "schema", "timestamp");
    }
  });

  it("accepts timestamps with an offset and reads the instant correctly", () => {
    const r = parse({ ...valid, timestamp: "2026-11-22T10:14:03.512+01:00" });
    assert.ok(r.ok);
    assert.equal(r.eventTime, Date.parse("2026-11-22T09:14:03.512Z"));
    assert.equal(parseEventTime("2024-02-29T00:00:00Z"), Date.UTC(2024, 1, 29));
  });

  it("rejects bad currency and country codes", () => {
    rejected(parse({ ...valid, currency: "eur" }), "schema", "currency");
    rejected(parse({ ...valid, currency: "EURO" }), "schema", "currency");
    rejected(parse({ ...valid, country: "DEU" }), "schema", "country");
    rejected(parse({ ...valid, home_country: "de" }), "schema", "home_country");
  });

  it("rejects a bad transaction id but still reports it for joining", () => {
    const r = parse({ ...valid, transaction_id: "-bad id with spaces" });
    rejected(r, "schema", "transaction_id");
    assert.equal(!r.ok && r.transactionId, "-bad id with spaces");
  });

  it("rejects payloads over the configured size before decoding them", () => {
    const big = { ...valid, merchant_name: "x".repeat(150) };
    const bytes = enc.encode(JSON.stringify(big));
    assert.ok(parseRecord(bytes, opts).ok);
    const detail = rejected(parseRecord(bytes, { maxBytes: 100 }), "too_large");
    assert.match(detail, /limit is 100/);
  });

  it("rejects invalid UTF-8", () => {
    const bytes = enc.encode(JSON.stringify({ ...valid, city: "Berlin" }));
    const broken = new Uint8Array(bytes);
    broken[broken.indexOf(0x42)] = 0xc3; // a lead byte followed by ASCII is not UTF-8
    rejected(parseRecord(broken, opts), "invalid_utf8");
    rejected(parseRecord(new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]), opts), "invalid_utf8");
  });

  it("accepts all of the contract's optional fields", () => {
    const r = parse({
      ...valid,
      card_id: "c-1",
      merchant_id: "m-1",
      merchant_name: "Shop",
      merchant_category: "grocery",
      mcc: "5411",
      channel: "pos",
      device: "POS Terminal",
      device_id: "d-1",
      ip_address: "203.0.113.7",
      country: "DE",
      city: "Berlin",
      latitude: 52.52,
      longitude: 13.405,
      home_country: "DE",
      is_fraud: true,
      fraud_type: "card_testing",
    });
    assert.ok(r.ok, r.ok ? "" : r.detail);
  });
});
