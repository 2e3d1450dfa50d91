// The per-event path computes with tables, caches and packed copies where it used to call Date,
// `%` and toString: these tests hold it to the plain computation, value for value, and the output to
// what the simulator produced before any of that (the project promises the same bytes for a seed).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import { createSimulator, formatTimestamp, MAX_LINE_BYTES } from "./index.ts";
import { mod24 } from "./population.ts";
import { cumulative, Rng } from "./prng.ts";
import { writeNumber, writeTimestamp } from "./render.ts";

/** formatTimestamp as it was: toISOString of the shifted time and the offset. */
function plainTimestamp(t: number, offsetMinutes: number): string {
  const two = (n: number) => (n < 10 ? `0${n}` : String(n));
  const local = new Date(t + offsetMinutes * 60_000).toISOString().slice(0, 23);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}

function outcome(f: () => string): string {
  try {
    return f();
  } catch (err) {
    return `throws ${(err as Error).name}`;
  }
}

const stampBuffer = Buffer.alloc(64);
const sameTimestamp = (t: number, offset: number) => {
  const plain = outcome(() => plainTimestamp(t, offset));
  assert.equal(
    outcome(() => formatTimestamp(t, offset)),
    plain,
    `t=${t} offset=${offset}`,
  );
  // The line encoder's bytes too.
  assert.equal(
    outcome(() => stampBuffer.toString("latin1", 0, writeTimestamp(stampBuffer, 0, t, offset))),
    plain,
    `writeTimestamp t=${t} offset=${offset}`,
  );
};

describe("exact fast paths", () => {
  it("formatTimestamp is what toISOString gives, also for fractional, negative, far and invalid times", () => {
    const offsets = [0, -0, 60, -300, 330, 345, -570, 600, 1439, -1439, 1440, -2000, 90.5];
    const times = [
      0,
      -0,
      -1,
      -0.5,
      0.999,
      Date.UTC(2026, 10, 1),
      Date.UTC(2028, 1, 29, 23, 59, 59, 999) + 0.7,
      -62_167_219_200_000, // 0000-01-01
      -62_167_219_200_001,
      253_402_300_799_999, // 9999-12-31T23:59:59.999
      253_402_300_800_000,
      8.64e15,
      8.64e15 + 1,
      -8.64e15,
      Number.NaN,
      Number.POSITIVE_INFINITY,
    ];
    for (const t of times) for (const o of offsets) sameTimestamp(t, o);
    fc.assert(
      fc.property(
        fc.double({ min: -1e16, max: 1e16, noNaN: true }),
        fc.integer({ min: -1500, max: 1500 }),
        (t, o) => sameTimestamp(t, o),
      ),
      { numRuns: 20_000 },
    );
    // Consecutive times across hours and days in many zones, as the simulator asks for them.
    const rng = new Rng(5);
    let t = Date.UTC(2026, 11, 31, 20);
    for (let i = 0; i < 200_000; i++) {
      t += rng.range(0, 5000);
      sameTimestamp(t - rng.range(0, 120_000), (rng.int(-16, 20) * 30) % 1440);
    }
  });

  it("mod24 is x % 24, to the bit", () => {
    const same = (x: number) => assert.ok(Object.is(mod24(x), x % 24), `${x}: ${mod24(x)} vs ${x % 24}`);
    for (const x of [0, -0, 24, -24, 23.999999999999996, 2 ** 47, 2 ** 47 - 1, 2 ** 60, 5e-324, -5e-324])
      same(x);
    for (const x of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) same(x);
    fc.assert(fc.property(fc.double({ noNaN: true }), same), { numRuns: 50_000 });
    // A few doubles either side of multiples of 24, where a rounded quotient could be off by one.
    const bits = new Float64Array(1);
    const word = new BigInt64Array(bits.buffer);
    const step = (x: number, ulps: number) => {
      bits[0] = x;
      word[0] = (word[0] as bigint) + BigInt(ulps);
      return bits[0] as number;
    };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 42 }), fc.integer({ min: -4, max: 4 }), (k, ulps) => {
        const x = step(24 * k, ulps);
        same(x);
        same(-x);
      }),
      { numRuns: 20_000 },
    );
  });

  it("weightedAt draws what weighted draws on the same prefix sums", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (weights, offset, seed) => {
          const cum = cumulative(weights);
          const packed = new Float64Array(offset + cum.length + 3).fill(-1);
          packed.set(cum, offset);
          const a = new Rng(seed);
          const b = new Rng(seed);
          for (let i = 0; i < 20; i++)
            assert.equal(b.weightedAt(packed, offset, cum.length), a.weighted(cum));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("numbers the events in the ids in base 36, past the table's 1296", () => {
    const sim = createSimulator({ users: 200, seed: 3 });
    for (let i = 1; i <= 50_000; i++) {
      const [prefix, random, counter] = sim.next().transaction_id.split("-");
      assert.equal(prefix, "00000003");
      assert.match(random ?? "", /^[0-9a-f]{8}$/);
      if (counter !== i.toString(36)) assert.equal(counter, i.toString(36));
    }
  });

  it("produces the bytes it produced before the per-event path was optimised", () => {
    // sha256 of the first 20,000 JSON lines (each with its newline), recorded with the simulator as
    // it was before (Date-based timestamps, per-event arrays, JSON.stringify of next()).
    const recorded = [
      {
        options: { users: 1000, seed: 1 },
        sha256: "64dfd90e2d262af2105730d032e4db094700e31550f4eef03ce35aa305d720e3",
      },
      {
        options: {
          users: 1000,
          seed: 7,
          fraudRate: 0.2,
          scenarioMix: {
            card_testing: 3,
            impossible_travel: 2,
            amount_spike: 1,
            location_mismatch: 1,
            high_risk_merchant: 1,
          },
        },
        sha256: "551fe2818c1c9a19b25db1624d6d4a02a5baa7b859bd4c78927d3acff4c9c795",
      },
    ];
    for (const { options, sha256 } of recorded) {
      const lines = createHash("sha256");
      const objects = createHash("sha256");
      const bytes = createHash("sha256");
      const a = createSimulator(options);
      const b = createSimulator(options);
      const c = createSimulator(options);
      const buf = new Uint8Array(MAX_LINE_BYTES * 2);
      for (let i = 0; i < 20_000; i++) {
        lines.update(`${a.nextLine().line}\n`);
        objects.update(`${JSON.stringify(b.next())}\n`);
        bytes.update(buf.subarray(0, c.nextInto(buf, 0)));
      }
      assert.equal(lines.digest("hex"), sha256, "nextLine()");
      assert.equal(objects.digest("hex"), sha256, "next()");
      assert.equal(bytes.digest("hex"), sha256, "nextInto()");
    }
  });

  it("writeNumber is JSON.stringify of any number: decimals of up to four places, and all others", () => {
    const buf = Buffer.alloc(64);
    const same = (x: number) => {
      const text = buf.toString("latin1", 0, writeNumber(buf, 0, x));
      if (text !== JSON.stringify(x)) assert.equal(text, JSON.stringify(x), `x=${x}`);
    };
    for (const x of [0, -0, 1, -1, 0.5, 0.0001, -0.0001, 0.00001, 1e21, 1e-7, 4e11, 4.5e11, 2 ** 53, 1.1e-5])
      same(x);
    for (const x of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MAX_VALUE])
      same(x);
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
        fc.integer({ min: 0, max: 6 }),
        (k, places) => {
          same(k / 10 ** places);
        },
      ),
      { numRuns: 20_000 },
    );
    fc.assert(fc.property(fc.double(), same), { numRuns: 20_000 });
    fc.assert(
      fc.property(fc.double({ min: -200, max: 200, noNaN: true }), (x) => {
        same(Math.round(x * 10_000) / 10_000);
        same(Math.round(x * 100) / 100);
      }),
      { numRuns: 20_000 },
    );
  });
});
