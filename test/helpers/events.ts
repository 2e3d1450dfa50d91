// A deterministic input stream for the pipeline tests: valid contract events with malformed records
// of every kind mixed in at a chosen share, each record knowing what the worker must do with it.

export interface TestRecord {
  key: string;
  value: Uint8Array;
  /** Set for a valid event: the transaction id that must appear exactly once in transactions_scored. */
  transactionId: string | null;
  /** Set for a malformed record: the reason the worker must give. */
  reason: string | null;
}

const encoder = new TextEncoder();

function validEvent(i: number, runId: string): Record<string, unknown> {
  const user = `u-${String(i % 977).padStart(4, "0")}`;
  // One event every 3 s of event time from 2026-11-20, a day inside the store's partitions.
  const ts = new Date(Date.UTC(2026, 10, 20) + i * 3000).toISOString();
  return {
    transaction_id: `${runId}-${i}`,
    timestamp: ts,
    user_id: user,
    card_id: `c-${user}-1`,
    amount: Math.round((5 + ((i * 7919) % 50000) / 100) * 100) / 100,
    currency: "EUR",
    merchant_id: `m-${i % 131}`,
    merchant_category: ["grocery", "electronics", "travel", "restaurants"][i % 4],
    channel: ["pos", "online", "mobile"][i % 3],
    device: ["POS Terminal", "Desktop", "Mobile"][i % 3],
    country: i % 50 === 0 ? "BR" : "DE",
    home_country: "DE",
    latitude: 52.52,
    longitude: 13.405,
  };
}

/** The malformed kinds, cycled through in order. `reason` is what the parser reports. */
const MALFORMED: ReadonlyArray<{ reason: string; make(i: number, runId: string): Uint8Array }> = [
  { reason: "malformed_json", make: (i) => encoder.encode(`{"transaction_id": "broken-${i}", `) },
  {
    reason: "schema",
    make: (i, runId) => {
      const e = validEvent(i, runId);
      e.amount = -12.5;
      return encoder.encode(JSON.stringify(e));
    },
  },
  {
    reason: "schema",
    make: (i, runId) => {
      const e = validEvent(i, runId);
      delete e.user_id;
      return encoder.encode(JSON.stringify(e));
    },
  },
  {
    reason: "schema",
    make: (i, runId) => {
      const e = validEvent(i, runId);
      e.currency = "euro";
      return encoder.encode(JSON.stringify(e));
    },
  },
  {
    reason: "schema",
    make: (i, runId) => {
      const e = validEvent(i, runId);
      e.timestamp = "2026-02-30T10:00:00Z";
      return encoder.encode(JSON.stringify(e));
    },
  },
  { reason: "empty", make: () => new Uint8Array(0) },
  { reason: "not_an_object", make: (i) => encoder.encode(`[${i}]`) },
  {
    reason: "invalid_utf8",
    make: (i) => {
      const bytes = encoder.encode(`{"transaction_id":"bad-utf8-${i}","x":"..."}`);
      bytes[bytes.length - 4] = 0xff;
      return bytes;
    },
  },
];

/**
 * `count` records; every `malformedEvery`-th one (1-based) is malformed (0 = none). Valid events get
 * transaction ids `${runId}-${i}` so that separate runs in one database do not collide.
 */
export function makeRecords(count: number, malformedEvery: number, runId: string): TestRecord[] {
  const out: TestRecord[] = [];
  let bad = 0;
  for (let i = 0; i < count; i++) {
    if (malformedEvery > 0 && (i + 1) % malformedEvery === 0) {
      const kind = MALFORMED[bad++ % MALFORMED.length] as (typeof MALFORMED)[number];
      out.push({ key: `u-bad-${i}`, value: kind.make(i, runId), transactionId: null, reason: kind.reason });
    } else {
      const e = validEvent(i, runId);
      out.push({
        key: e.user_id as string,
        value: encoder.encode(JSON.stringify(e)),
        transactionId: e.transaction_id as string,
        reason: null,
      });
    }
  }
  return out;
}
