// Each shipped preset on hand-written records in its format, with the events they must become, and
// bad ones with every failing field named; and for any contract event, identity yields that event.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { CHANNELS, TransactionSchema } from "../contract/transaction.ts";
import { mapRecord, preset } from "./index.ts";

function errorPaths(r: ReturnType<typeof mapRecord>): string[] {
  assert.equal(r.ok, false);
  return r.ok ? [] : (r.errors ?? []).map((e) => e.path).sort();
}

describe("presets", () => {
  it("faker: naive timestamps, country names, the country's currency, the rest in metadata", () => {
    const r = mapRecord(preset("faker"), {
      transaction_id: "b1f0c3d2-7a6e-4c1b-9f3e-2d5a8c7e6f10",
      user_id: 1042,
      timestamp: "2025-08-06T06:12:33.763770",
      amount: 149.99,
      location: "Germany",
      transaction_location: "Malaysia",
      device: "Tablet",
      is_fraud: 0,
      merchant: "Smith-Jones",
    });
    assert.ok(r.ok, r.ok ? "" : r.detail);
    assert.deepEqual(r.event, {
      transaction_id: "b1f0c3d2-7a6e-4c1b-9f3e-2d5a8c7e6f10",
      timestamp: "2025-08-06T06:12:33.763Z",
      user_id: "1042",
      amount: 149.99,
      currency: "MYR",
      country: "MY",
      home_country: "DE",
      device: "Tablet",
      is_fraud: 0,
      metadata: { merchant: "Smith-Jones" },
    });
    const bad = mapRecord(preset("faker"), {
      transaction_id: "t1",
      timestamp: "06/08/2025",
      amount: "lots",
      location: "Atlantis",
      transaction_location: "Malaysia",
      is_fraud: "maybe",
    });
    assert.deepEqual(errorPaths(bad), ["amount", "home_country", "is_fraud", "timestamp", "user_id"]);
  });

  it("faker-merchant: merchant name, a hashed merchant id, category and country", () => {
    const r = mapRecord(preset("faker-merchant"), {
      transaction_id: "tx-77",
      user_id: "user_12",
      timestamp: "2025-08-06 06:12:33",
      amount: "20.5",
      merchant: "Acme Corp",
      merchant_category: "electronics",
      country: "FRA",
      is_fraud: true,
    });
    assert.ok(r.ok, r.ok ? "" : r.detail);
    const { merchant_id, ...rest } = r.event;
    assert.match(String(merchant_id), /^m-[0-9a-f]{24}$/);
    assert.deepEqual(rest, {
      transaction_id: "tx-77",
      user_id: "user_12",
      timestamp: "2025-08-06T06:12:33.000Z",
      amount: 20.5,
      currency: "EUR",
      merchant_name: "Acme Corp",
      merchant_category: "electronics",
      country: "FR",
      is_fraud: true,
    });
    assert.deepEqual(
      errorPaths(mapRecord(preset("faker-merchant"), { user_id: "u", amount: 0, country: "Nowhere" })),
      ["amount", "country", "timestamp", "transaction_id"],
    );
  });

  const pacs = (tx: Record<string, unknown>) => ({
    FIToFICstmrCdtTrf: {
      GrpHdr: { MsgId: "MSG-1", CreDtTm: "2026-03-01T10:00:00+01:00", NbOfTxs: "1" },
      CdtTrfTxInf: [tx],
    },
  });
  const TX = {
    PmtId: { EndToEndId: "E2E-1", TxId: "TX-1" },
    IntrBkSttlmAmt: { Ccy: "EUR", Amt: "1500.00" },
    Dbtr: { Nm: "Jane Doe", Id: { PrvtId: { Othr: { Id: "CUST-9" } } }, PstlAdr: { Ctry: "DE" } },
    DbtrAcct: { Id: { IBAN: "DE89370400440532013000" } },
    Cdtr: {
      Nm: "Acme GmbH",
      Id: { OrgId: { Othr: { Id: "ORG-5" } } },
      PstlAdr: { Ctry: "NL", TwnNm: "Amsterdam" },
    },
    RmtInf: { Ustrd: "invoice 42" },
    SplmtryData: { x: 1 },
  };

  it("pacs008: debtor = user, debtor account = card, creditor = merchant, with or without Document", () => {
    const expected = {
      transaction_id: "TX-1",
      timestamp: "2026-03-01T10:00:00+01:00",
      user_id: "CUST-9",
      card_id: "DE89370400440532013000",
      amount: 1500,
      currency: "EUR",
      merchant_id: "ORG-5",
      merchant_name: "Acme GmbH",
      channel: "transfer",
      country: "NL",
      home_country: "DE",
      city: "Amsterdam",
      metadata: { message_id: "MSG-1", remittance: "invoice 42" },
    };
    const m = preset("pacs008");
    for (const record of [
      pacs(TX),
      { Document: pacs(TX) },
      { FIToFICstmrCdtTrf: { ...pacs(TX).FIToFICstmrCdtTrf, CdtTrfTxInf: TX } },
    ]) {
      const r = mapRecord(m, record);
      assert.ok(r.ok, r.ok ? "" : r.detail);
      assert.deepEqual(r.event, expected);
    }
    // Alternatives a rule reads (EndToEndId, Dbtr.Nm) count as read, not ignored.
    assert.deepEqual(m.ignoredPaths(pacs(TX)), [
      "$.FIToFICstmrCdtTrf.GrpHdr.NbOfTxs",
      "$.FIToFICstmrCdtTrf.CdtTrfTxInf[0].SplmtryData.x",
    ]);
    const bad = mapRecord(
      m,
      pacs({ ...TX, IntrBkSttlmAmt: { Ccy: "euro", Amt: "-3" }, PmtId: {}, Dbtr: {} }),
    );
    assert.deepEqual(errorPaths(bad), ["amount", "currency", "transaction_id", "user_id"]);
  });
});

const text = (max: number) => fc.string({ minLength: 1, maxLength: max });
const contractEvent = fc.record(
  {
    transaction_id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,20}$/),
    timestamp: fc
      .date({ min: new Date("1990-01-01Z"), max: new Date("2100-01-01Z"), noInvalidDate: true })
      .map((d) => d.toISOString()),
    user_id: text(64),
    card_id: text(64),
    amount: fc.double({ min: 0.01, max: 1e9, noNaN: true }),
    currency: fc.stringMatching(/^[A-Z]{3}$/),
    merchant_id: fc.string({ maxLength: 64 }),
    merchant_category: fc.string({ maxLength: 64 }),
    mcc: fc.stringMatching(/^[0-9]{4}$/),
    channel: fc.constantFrom(...CHANNELS),
    device: fc.string({ maxLength: 64 }),
    country: fc.stringMatching(/^[A-Z]{2}$/),
    home_country: fc.stringMatching(/^[A-Z]{2}$/),
    latitude: fc.double({ min: -90, max: 90, noNaN: true }),
    longitude: fc.double({ min: -180, max: 180, noNaN: true }),
    is_fraud: fc.constantFrom(true, false, 0, 1),
    fraud_type: fc.string({ maxLength: 64 }),
    metadata: fc.dictionary(
      fc.string({ minLength: 1, maxLength: 20 }).filter((k) => k !== "__proto__"),
      fc.oneof(
        fc.string({ maxLength: 30 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
      ),
      { maxKeys: 6 },
    ),
  },
  { requiredKeys: ["transaction_id", "timestamp", "user_id", "amount", "currency"] },
);

describe("identity", () => {
  it("yields the same event for any contract event", () => {
    const m = preset("identity");
    fc.assert(
      fc.property(contractEvent, (e) => {
        const event: Record<string, unknown> = { ...e };
        if (event.metadata !== undefined) event.metadata = { ...(event.metadata as object) };
        if (event.metadata !== undefined && Object.keys(event.metadata as object).length === 0)
          delete event.metadata;
        fc.pre(TransactionSchema.safeParse(event).success);
        const r = mapRecord(m, event);
        assert.ok(r.ok, r.ok ? "" : r.detail);
        assert.deepEqual(r.event, event);
      }),
      { numRuns: 500 },
    );
  });
});
