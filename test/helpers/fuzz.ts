// Malformed records for the fuzz test, each made invalid on purpose by one of many mutations of a valid
// event (so the test knows every one must be dead-lettered), from a seeded generator (so a failure can be
// reproduced). Valid events are interleaved so that a rejection never takes a good neighbour with it.
import type { TestRecord } from "./events.ts";

const encoder = new TextEncoder();

/** mulberry32: small, fast, good enough to pick mutations reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function baseEvent(i: number, runId: string): Record<string, unknown> {
  const user = `fz-${i % 503}`;
  return {
    transaction_id: `${runId}-${i}`,
    timestamp: new Date(Date.UTC(2026, 10, 20) + i * 1000).toISOString(),
    user_id: user,
    card_id: `c-${user}`,
    amount: 10 + (i % 997),
    currency: "EUR",
    merchant_id: `m-${i % 71}`,
    merchant_category: "grocery",
    channel: "pos",
    device: "POS Terminal",
    country: "DE",
    home_country: "DE",
    latitude: 48.1,
    longitude: 11.6,
  };
}

const REQUIRED = ["transaction_id", "timestamp", "user_id", "amount", "currency"] as const;

type Mutation = (e: Record<string, unknown>, rnd: () => number) => Uint8Array;
const json = (v: unknown) => encoder.encode(JSON.stringify(v));
const pick = <T>(xs: readonly T[], rnd: () => number): T => xs[Math.floor(rnd() * xs.length)] as T;

/** Every mutation yields a record that violates the contract; none can be valid by chance. */
const MUTATIONS: readonly Mutation[] = [
  // A strict prefix of a JSON object is never valid JSON.
  (e, rnd) => {
    const text = JSON.stringify(e);
    return encoder.encode(text.slice(0, 1 + Math.floor(rnd() * (text.length - 2))));
  },
  (e, rnd) => {
    delete e[pick(REQUIRED, rnd)];
    return json(e);
  },
  (e, rnd) => {
    e.amount = pick(["12.5", true, null, [], {}, -1, 0, 1e10, "NaN"], rnd);
    return json(e);
  },
  (e, rnd) => {
    e.timestamp = pick(
      ["yesterday", "2026-13-01T00:00:00Z", "2026-11-20T10:00:00", "", 1732000000, null],
      rnd,
    );
    return json(e);
  },
  (e, rnd) => {
    e.currency = pick(["eur", "EURO", "E1R", 978, ""], rnd);
    return json(e);
  },
  (e, rnd) => {
    e.transaction_id = pick(["has space", "", "x".repeat(65), "-leading-dash", 42], rnd);
    return json(e);
  },
  (e, rnd) => {
    if (rnd() < 0.5) e.country = pick(["de", "DEU", "D"], rnd);
    else e.latitude = pick([91, -90.5, "48.1"], rnd);
    return json(e);
  },
  (e, rnd) => {
    e.user_id = pick(["", "u".repeat(65), 7, null], rnd);
    return json(e);
  },
  // Not JSON: bare NaN / Infinity tokens, as a careless producer writes them.
  (e, rnd) =>
    encoder.encode(
      JSON.stringify(e).replace(/"amount":[^,]+/, `"amount":${pick(["NaN", "Infinity", "-Infinity"], rnd)}`),
    ),
  // Invalid UTF-8 inside an otherwise fine event.
  (e) => {
    const bytes = json({ ...e, merchant_name: "Caf__" });
    const at = bytes.indexOf(0x5f); // the first "_"
    bytes[at] = 0xc3;
    bytes[at + 1] = 0x28; // 0xC3 must be followed by a continuation byte (0x80–0xBF)
    return bytes;
  },
  // Larger than the worker's limit (64 KiB by default).
  (e) => json({ ...e, merchant_name: "x".repeat(70_000) }),
  // Valid JSON, but not an object.
  (_e, rnd) => encoder.encode(pick(["42", '"text"', "[1,2,3]", "null", "true", "[]"], rnd)),
  // Random bytes.
  (_e, rnd) => {
    const bytes = new Uint8Array(1 + Math.floor(rnd() * 200));
    for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(rnd() * 256);
    bytes[0] = 0xff; // never a JSON start, never valid UTF-8
    return bytes;
  },
  // Empty record.
  () => new Uint8Array(0),
  // Deep junk without the required fields.
  (_e, rnd) => encoder.encode(`{"a":${"[".repeat(1 + Math.floor(rnd() * 500))}${"]".repeat(1)}`),
];

/**
 * `bad` fuzzed malformed records interleaved with `good` valid events (ids `${runId}-${i}`), in a
 * seeded order. Malformed ones carry reason "fuzz" (the exact reason is the parser's to choose).
 */
export function fuzzedRecords(good: number, bad: number, runId: string, seed = 1): TestRecord[] {
  const rnd = prng(seed);
  const out: TestRecord[] = [];
  let g = 0;
  let b = 0;
  while (g < good || b < bad) {
    const takeBad = b < bad && (g >= good || rnd() < bad / (good + bad));
    const i = g + b;
    const e = baseEvent(i, runId);
    if (takeBad) {
      const mutate = pick(MUTATIONS, rnd);
      out.push({ key: `fz-bad-${i}`, value: mutate(e, rnd), transactionId: null, reason: "fuzz" });
      b++;
    } else {
      out.push({
        key: e.user_id as string,
        value: json(e),
        transactionId: e.transaction_id as string,
        reason: null,
      });
      g++;
    }
  }
  return out;
}
