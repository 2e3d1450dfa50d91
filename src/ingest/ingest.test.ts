// Each mapping feature on hand-written source records with the events they must become, bad records
// with every failing field named, and the mapping schema's own errors by path.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ParseResult } from "../contract/parse.ts";
import {
  type CompiledMapping,
  MappingError,
  type MappingInput,
  mappingFrom,
  mapRecord,
  parseMapping,
} from "./index.ts";

const BASE = {
  transaction_id: "$.id",
  timestamp: "$.ts",
  user_id: "$.user",
  amount: "$.amt",
  currency: { const: "EUR" },
};

function mapping(fields: Record<string, unknown>, extra: Partial<MappingInput> = {}): CompiledMapping {
  return mappingFrom({ version: 1, ...extra, fields: { ...BASE, ...fields } }, "test");
}

const RECORD = { id: "t-1", ts: "2026-01-02T03:04:05Z", user: "u-1", amt: 12.5 };

function accepted(r: ParseResult): Record<string, unknown> {
  assert.ok(r.ok, r.ok ? "" : r.detail);
  return r.event as Record<string, unknown>;
}

function rejectedPaths(r: ParseResult): string[] {
  assert.equal(r.ok, false, "expected a rejection");
  return r.ok ? [] : (r.errors ?? []).map((e) => e.path);
}

describe("mapping schema", () => {
  it("names every bad place by its path", () => {
    const bad = {
      version: 1,
      zone: "Mars/Olympus",
      fields: {
        amount: "payer.amount",
        user_id: { from: "$.u", const: "x" },
        currency: {},
        colour: "$.c",
      },
      keep: 5,
    };
    assert.throws(
      () => parseMapping(bad, "bad.json"),
      (err: unknown) => {
        assert.ok(err instanceof MappingError);
        const paths = err.issues.map((i) => i.path).sort();
        assert.deepEqual(paths, [
          "fields.amount",
          "fields.colour",
          "fields.currency",
          "fields.user_id",
          "keep",
          "zone",
        ]);
        assert.match(err.message, /bad\.json/);
        assert.match(err.message, /fields\.amount: must be a JSON path/);
        assert.match(err.message, /zone: must be an IANA time zone/);
        assert.match(err.message, /fields\.colour: unknown key \(contract fields are transaction_id/);
        return true;
      },
    );
  });

  it("refuses another version", () => {
    assert.throws(() => parseMapping({ version: 2, fields: {} }), /version/);
  });
});

describe("mapping features", () => {
  it("renames fields and reads nested JSON paths, the first of several that holds a value", () => {
    const m = mapping({
      user_id: "$.payer.account.id",
      merchant_name: { from: ['$["shop name"]', "$.shops[1].name"] },
    });
    const e = accepted(
      mapRecord(m, { ...RECORD, payer: { account: { id: "acc-9" } }, shops: [{}, { name: "Kiosk" }] }),
    );
    assert.equal(e.user_id, "acc-9");
    assert.equal(e.merchant_name, "Kiosk");
    const e2 = accepted(
      mapRecord(m, { ...RECORD, payer: { account: { id: "acc-9" } }, "shop name": "Bakery" }),
    );
    assert.equal(e2.merchant_name, "Bakery");
  });

  it("constants and defaults (absent and null take the default)", () => {
    const m = mapping({ channel: { const: "online" }, device: { from: "$.dev", default: "Desktop" } });
    assert.deepEqual(
      [
        accepted(mapRecord(m, RECORD)),
        accepted(mapRecord(m, { ...RECORD, dev: null })),
        accepted(mapRecord(m, { ...RECORD, dev: "Tablet" })),
      ].map((e) => [e.channel, e.device]),
      [
        ["online", "Desktop"],
        ["online", "Desktop"],
        ["online", "Tablet"],
      ],
    );
  });

  it("coerces numeric strings, numbers to text, booleans, MCCs and upper/lower-case codes", () => {
    const m = mapping({
      transaction_id: "$.id",
      user_id: "$.user",
      currency: "$.ccy",
      mcc: "$.mcc",
      channel: "$.ch",
      is_fraud: "$.fraud",
      latitude: "$.lat",
    });
    const e = accepted(
      mapRecord(m, {
        ...RECORD,
        id: 981,
        user: 42,
        amt: " 19.90 ",
        ccy: "usd",
        mcc: 742,
        ch: "POS",
        fraud: "yes",
        lat: "-12.5",
      }),
    );
    assert.deepEqual(
      [e.transaction_id, e.user_id, e.amount, e.currency, e.mcc, e.channel, e.is_fraud, e.latitude],
      ["981", "42", 19.9, "USD", "0742", "pos", true, -12.5],
    );
    // 0/1 labels stay as the contract allows them
    assert.equal(accepted(mapRecord(m, { ...RECORD, ccy: "EUR", fraud: 1 })).is_fraud, 1);
  });

  it("reads epoch seconds and milliseconds, as numbers or text", () => {
    const s = mapping({ timestamp: { from: "$.ts", as: "epoch_s" } });
    const ms = mapping({ timestamp: { from: "$.ts", as: "epoch_ms" } });
    const auto = mapping({});
    assert.equal(accepted(mapRecord(s, { ...RECORD, ts: 1754460753 })).timestamp, "2025-08-06T06:12:33.000Z");
    assert.equal(
      accepted(mapRecord(s, { ...RECORD, ts: "1754460753.5" })).timestamp,
      "2025-08-06T06:12:33.500Z",
    );
    assert.equal(
      accepted(mapRecord(ms, { ...RECORD, ts: 1754460753763 })).timestamp,
      "2025-08-06T06:12:33.763Z",
    );
    assert.equal(
      accepted(mapRecord(auto, { ...RECORD, ts: 1754460753763 })).timestamp,
      "2025-08-06T06:12:33.763Z",
    );
    assert.equal(
      accepted(mapRecord(auto, { ...RECORD, ts: 1754460753 })).timestamp,
      "2025-08-06T06:12:33.000Z",
    );
  });

  it("reads timestamps without an offset in the mapping's zone, and keeps those with one", () => {
    const berlin = mapping({}, { zone: "Europe/Berlin" });
    const utc = mapping({});
    const at = (m: CompiledMapping, ts: string) => accepted(mapRecord(m, { ...RECORD, ts })).timestamp;
    assert.equal(at(berlin, "2025-08-06T06:12:33.763770"), "2025-08-06T04:12:33.763Z"); // summer: +02:00
    assert.equal(at(berlin, "2025-01-06 06:12:33"), "2025-01-06T05:12:33.000Z"); // winter: +01:00
    assert.equal(at(berlin, "2025-10-26T02:30:00"), "2025-10-26T00:30:00.000Z"); // twice that night: the earlier
    assert.equal(at(utc, "2025-08-06T06:12:33.763770"), "2025-08-06T06:12:33.763Z");
    assert.equal(at(berlin, "2025-08-06T06:12:33+05:30"), "2025-08-06T06:12:33+05:30");
    assert.deepEqual(rejectedPaths(mapRecord(utc, { ...RECORD, ts: "2025-02-30T00:00:00" })), ["timestamp"]);
  });

  it("turns country names and alpha-3 codes into alpha-2 codes from the dataset", () => {
    const m = mapping({ country: "$.where", home_country: "$.home" });
    const cases: [string, string][] = [
      ["Malaysia", "MY"],
      ["germany", "DE"],
      ["DEU", "DE"],
      ["United States", "US"],
      ["South Korea", "KR"],
      ["Côte d'Ivoire", "CI"],
      ["fr", "FR"],
    ];
    for (const [where, code] of cases)
      assert.equal(accepted(mapRecord(m, { ...RECORD, where, home: "Malaysia" })).country, code, where);
    const r = mapRecord(m, { ...RECORD, where: "Atlantis", home: "Narnia" });
    assert.deepEqual(rejectedPaths(r), ["country", "home_country"]);
    assert.match(r.ok ? "" : r.detail, /country: from \$\.where: "Atlantis" is not a country name/);
  });

  it("defaults the currency to the country's own", () => {
    const m = mapping({
      country: "$.where",
      currency: { from: "$.ccy", currency_of: "country", default: "USD" },
    });
    const cur = (rec: Record<string, unknown>) => accepted(mapRecord(m, { ...RECORD, ...rec })).currency;
    assert.equal(cur({ where: "Malaysia" }), "MYR");
    assert.equal(cur({ where: "Japan" }), "JPY");
    assert.equal(cur({ where: "Germany", ccy: "CHF" }), "CHF");
    assert.equal(cur({}), "USD");
  });

  it("derives ids from a hash of fields: stable, distinct, with a prefix; absent when a part is", () => {
    const m = mapping({ card_id: { hash: ["$.bank", "$.account"], prefix: "card-" } });
    const id = (rec: Record<string, unknown>) => accepted(mapRecord(m, { ...RECORD, ...rec })).card_id;
    const a = id({ bank: "B1", account: "123" });
    assert.match(String(a), /^card-[0-9a-f]{24}$/);
    assert.equal(id({ bank: "B1", account: "123" }), a);
    assert.notEqual(id({ bank: "B1", account: "124" }), a);
    assert.notEqual(id({ bank: "B11", account: "23" }), a);
    assert.equal(id({ bank: "B1" }), undefined);
  });

  it("looks values up in a table; others pass through to the contract", () => {
    const m = mapping({ channel: { from: "$.dev", values: { Tablet: "mobile", Desktop: "online" } } });
    assert.equal(accepted(mapRecord(m, { ...RECORD, dev: "Tablet" })).channel, "mobile");
    assert.deepEqual(rejectedPaths(mapRecord(m, { ...RECORD, dev: "Fridge" })), ["channel"]);
  });

  it("keeps unread fields in metadata (rest, a list, named keys) and reports the others as ignored", () => {
    const src = {
      ...RECORD,
      shop: { name: "Kiosk", tags: ["a", "b"] },
      note: "hi",
      n: null,
      metadata: { x: 1 },
    };
    const rest = mapping({}, { keep: "rest" });
    assert.deepEqual(accepted(mapRecord(rest, src)).metadata, {
      "shop.name": "Kiosk",
      "shop.tags.0": "a",
      "shop.tags.1": "b",
      note: "hi",
      n: null,
      x: 1,
    });
    assert.deepEqual(rest.ignoredPaths(src), []);

    const list = mapping({}, { keep: ["$.shop.name"] });
    assert.deepEqual(accepted(mapRecord(list, src)).metadata, { "shop.name": "Kiosk" });
    assert.deepEqual(list.ignoredPaths(src), [
      "$.shop.tags[0]",
      "$.shop.tags[1]",
      "$.note",
      "$.n",
      "$.metadata.x",
    ]);

    const named = mapping({}, { keep: { shop: ["$.store", "$.shop.name"], tags: "$.shop.tags" } });
    assert.deepEqual(accepted(mapRecord(named, src)).metadata, {
      shop: "Kiosk",
      "tags.0": "a",
      "tags.1": "b",
    });

    const none = mapping({});
    assert.equal(accepted(mapRecord(none, src)).metadata, undefined);
    assert.deepEqual(none.ignoredPaths(src), [
      "$.shop.name",
      "$.shop.tags[0]",
      "$.shop.tags[1]",
      "$.note",
      "$.n",
      "$.metadata.x",
    ]);
  });

  it("names every failing field of a bad record at once, mapping and contract alike", () => {
    const m = mapping({ country: "$.where", timestamp: "$.ts", channel: "$.ch" });
    const r = mapRecord(m, {
      id: "bad id!",
      ts: "yesterday",
      amt: "-5",
      where: "Atlantis",
      ch: "carrier pigeon",
      user: { x: 1 },
    });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.reason, "mapping");
    assert.deepEqual((r.errors ?? []).map((e) => e.path).sort(), [
      "amount",
      "channel",
      "country",
      "timestamp",
      "transaction_id",
      "user_id",
    ]);
    for (const e of r.errors ?? []) assert.ok(r.detail.includes(`${e.path}: `), e.path);
    assert.equal(r.transactionId, "bad id!");
  });

  it("rejects what is not an object before mapping", () => {
    const r = mapRecord(mapping({}), [1, 2]);
    assert.equal(r.ok ? "" : r.reason, "not_an_object");
  });

  it("keeps the producer's record as the payload", () => {
    const src = { ...RECORD, extra: true };
    const r = mapRecord(mapping({}), src);
    assert.ok(r.ok);
    assert.equal(r.payload, src);
  });
});
