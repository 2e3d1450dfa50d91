import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CATEGORIES } from "./catalog.ts";
import { CITIES } from "./cities.ts";
import { createSimulator, type Draft, SCENARIO_NAMES } from "./index.ts";
import type { Device, Merchant, User } from "./population.ts";
import { LineEncoder, MAX_LINE_BYTES, renderTransaction, transactionLine } from "./render.ts";

// Strings JSON.stringify has to escape or keep as they are: quotes, backslashes, control characters,
// a lone surrogate (escaped as \udXXX), a surrogate pair, U+2028, non-Latin-1 text.
const TRICKY = [
  'Joe\'s "Best" Diner',
  "C:\\shops\\back\\slash\\",
  "tab\there\nnewline\r\u0000\u001f\u007f",
  "lone \ud800 surrogate \udfff",
  "emoji 💳 pair",
  "line\u2028separator\u2029",
  "合同会社岩崎食品",
  "Łódź Spółka ş ğ ı",
  "",
];

function user(i: number, over: Partial<User> = {}): User {
  return {
    id: `u-${i}`,
    index: i,
    home: i % CITIES.length,
    country: "DE",
    currency: "EUR",
    cards: [`c-${i}-1`],
    devices: [{ type: "Mobile", id: `d-${i}` }],
    ip: "10.0.0.1",
    mu: 3,
    sigma: 0.5,
    categoryCum: new Float64Array(CATEGORIES.length).fill(1),
    regulars: CATEGORIES.map(() => []),
    channelBias: [1, 1, 1],
    peakHour: 12,
    spreadHours: 3,
    perDay: 2,
    ...over,
  };
}

function merchant(i: number, name: string): Merchant {
  return { id: `m-${i}`, name, category: i % CATEGORIES.length, city: -1, country: "DE", risk: "low" };
}

describe("transactionLine and LineEncoder", () => {
  it("is JSON.stringify of the event object for hand-made events with strings that need escaping", () => {
    const merchants = TRICKY.map((name, i) => merchant(i, name));
    const encoder = new LineEncoder();
    const buf = new Uint8Array(MAX_LINE_BYTES + 3);
    const amounts = [0.01, 12.5, 999_999_999, 1e21, 123.456789, -0, Number.NaN, Number.POSITIVE_INFINITY];
    let n = 0;
    for (let i = 0; i < TRICKY.length; i++) {
      const text = TRICKY[i] as string;
      const devices: (Draft["device"] | Device)[] = [
        "POS Terminal",
        "ATM",
        { type: text, id: `d-${text}` },
        { type: "Desktop", id: "d-0000abcd" },
      ];
      for (const device of devices) {
        for (const fraudType of [null, ...SCENARIO_NAMES]) {
          const u = user(i, { id: `u-${text}`, country: text, currency: text });
          const d: Draft = {
            t: Date.UTC(2026, 10, 1) + i * 3_601_000,
            user: u,
            merchant: i,
            amount: amounts[n % amounts.length] as number,
            channel: n % 2 === 0 ? "online" : "pos",
            device,
            city: (i * 7) % CITIES.length,
            card: `c-${text}`,
            ip: n % 3 === 0 ? null : `ip ${text}`,
            fraudType,
          };
          const lat = n % 4 === 0 ? -0 : -12.9961 + n;
          const lon = 153.0331 - n / 7;
          const line = transactionLine(d, merchants, `id-${text}`, d.t - n * 997, lat, lon);
          const object = renderTransaction(d, merchants, `id-${text}`, d.t - n * 997, lat, lon);
          assert.equal(line, JSON.stringify(object));
          const end = encoder.encode(buf, 3, d, merchants, `id-${text}`, d.t - n * 997, lat, lon);
          assert.equal(Buffer.from(buf.subarray(3, end)).toString("utf8"), `${line}\n`, "LineEncoder");
          assert.equal(end - 3, Buffer.byteLength(`${line}\n`), "LineEncoder's length");
          assert.equal((JSON.parse(line) as { merchant_name: string }).merchant_name, text);
          n++;
        }
      }
    }
    assert.ok(n > 250);
  });

  it("is what JSON.stringify(next()) gives, event for event, for the same seed and options", () => {
    const configs = [
      { users: 2000, seed: 1 },
      { users: 300, seed: 7, fraudRate: 0.5, scenarioMix: { card_testing: 3, impossible_travel: 1 } },
      { users: 50, seed: 2 ** 32 - 1, lateShare: 0.5, start: Date.UTC(9999, 11, 31, 20) },
    ];
    for (const options of configs) {
      const objects = createSimulator(options);
      const lines = createSimulator(options);
      const encoded = createSimulator(options);
      const buf = Buffer.alloc(MAX_LINE_BYTES);
      for (let i = 0; i < 60_000; i++) {
        const e = objects.next();
        const l = lines.nextLine();
        if (l.line !== JSON.stringify(e)) assert.equal(l.line, JSON.stringify(e), `event ${i}`);
        assert.equal(l.userId, e.user_id);
        assert.equal(l.fraudType, e.fraud_type ?? null);
        const text = buf.toString("utf8", 0, encoded.nextInto(buf, 0));
        if (text !== `${l.line}\n`) assert.equal(text, `${l.line}\n`, `nextInto, event ${i}`);
        assert.equal(encoded.lastFraudType(), l.fraudType);
      }
      assert.deepEqual(lines.stats(), objects.stats());
      assert.deepEqual(encoded.stats(), objects.stats());
    }
  });
});

describe("LineEncoder's limits", () => {
  it("refuses a field too long for a line rather than write past the buffer", () => {
    const d: Draft = {
      t: Date.UTC(2026, 10, 1),
      user: user(0),
      merchant: 0,
      amount: 1,
      channel: "online",
      device: "ATM",
      city: 0,
      card: "c".repeat(5000),
      ip: null,
      fraudType: null,
    };
    const buf = new Uint8Array(MAX_LINE_BYTES);
    assert.throws(
      () => new LineEncoder().encode(buf, 0, d, [merchant(0, "m")], "id", d.t, 0, 0),
      /field of 5000 characters/,
    );
  });
});
