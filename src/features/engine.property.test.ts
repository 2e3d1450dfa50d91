// For any interleaving of users' events — out of order within and beyond the lateness, ties, exact
// window edges — the streaming engine gives the features of the naive full-history reference, and an
// engine restored from checkpoints mid-stream gives exactly those of an uninterrupted one.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { Transaction } from "../contract/transaction.ts";
import { ACCEPTED, FeatureEngine, FUTURE, LATE, TOO_OLD } from "./engine.ts";
import { NaiveReference } from "./naive-reference.ts";
import { BEHAVIOURAL_FEATURES, FEATURES } from "./registry.ts";
import { STATELESS_FEATURES, writeStatelessFeatures } from "./stateless.ts";

const W = FEATURES.length;
const S = STATELESS_FEATURES.length;
const LATENESS = 30 * 60_000;
const BASE = Date.UTC(2026, 10, 1);

const step = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.constantFrom(1, 59_999, 60_000, 60_001, 3_600_000, 86_400_000, 86_399_999) },
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 3 * 3_600_000 }) },
  { weight: 3, arbitrary: fc.integer({ min: -2 * LATENESS, max: -1 }) },
  { weight: 1, arbitrary: fc.constantFrom(-LATENESS, -LATENESS + 1, -LATENESS - 1) },
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });
const rawEvent = fc.record({
  user: fc.constantFrom("u1", "u2", "u3"),
  step,
  cents: fc.integer({ min: 1, max: 500_000 }),
  country: maybe(fc.constantFrom("DE", "FR", "US", "BR")),
  deviceId: maybe(fc.constantFrom("dev-a", "dev-b", "dev-c")),
  device: maybe(fc.constantFrom("Mobile", "Desktop")),
  merchant: maybe(fc.constantFrom("m1", "m2", "m3", "m4", "m5")),
  category: maybe(fc.constantFrom("grocery", "travel", "crypto")),
  mcc: maybe(fc.constantFrom("5411", "4511")),
  card: maybe(fc.constantFrom("c1", "c2", "c3")),
  where: maybe(fc.tuple(fc.integer({ min: -90, max: 90 }), fc.integer({ min: -180, max: 180 }))),
  // Adversarial timestamps: this one event (not the stream's clock) far in the future or the past.
  spike: fc.oneof(
    { weight: 12, arbitrary: fc.constant(0) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(73 * 365 * 86_400_000, 86_400_000, -86_400_000, -56 * 365 * 86_400_000),
    },
  ),
});
type Raw = typeof rawEvent extends fc.Arbitrary<infer T> ? T : never;

function build(raws: Raw[]): { events: Transaction[]; times: Float64Array } {
  const times = new Float64Array(raws.length);
  const events: Transaction[] = [];
  let clock = BASE;
  raws.forEach((r, i) => {
    clock += r.step;
    times[i] = clock + r.spike;
    const e: Transaction = {
      transaction_id: `t${i}`,
      timestamp: new Date(clock + r.spike).toISOString(),
      user_id: r.user,
      amount: r.cents / 100,
      currency: "EUR",
    };
    if (r.country !== undefined) e.country = r.country;
    if (r.deviceId !== undefined) e.device_id = r.deviceId;
    if (r.device !== undefined) e.device = r.device;
    if (r.merchant !== undefined) e.merchant_id = r.merchant;
    if (r.category !== undefined) e.merchant_category = r.category;
    if (r.mcc !== undefined) e.mcc = r.mcc;
    if (r.card !== undefined) e.card_id = r.card;
    if (r.where !== undefined) [e.latitude, e.longitude] = r.where;
    events.push(e);
  });
  return { events, times };
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-7 * Math.max(1, Math.abs(a), Math.abs(b));
}

test("streaming features equal the naive full-history reference for any interleaving", () => {
  fc.assert(
    fc.property(
      fc.array(rawEvent, { maxLength: 120 }),
      fc.integer({ min: 1, max: 40 }),
      fc.constantFrom(0, 60_000, LATENESS),
      fc.constantFrom(3_600_000, 6 * 3_600_000, 30 * 86_400_000),
      fc.constantFrom({}, { maxFutureSkewMs: 3_600_000, maxEventAgeMs: 2 * 3_600_000 }),
      (raws, batchSize, lateness, ttl, bounds) => {
        const { events, times } = build(raws);
        const engine = new FeatureEngine({ allowedLatenessMs: lateness, stateTtlMs: ttl, ...bounds });
        const reference = new NaiveReference(lateness, ttl, bounds);
        const out = new Float64Array(batchSize * W);
        const status = new Uint8Array(batchSize);
        const stateless = new Float64Array(S);
        for (let i = 0; i < events.length; i += batchSize) {
          const end = Math.min(events.length, i + batchSize);
          engine.processBatch(events.slice(i, end), times.subarray(i, end), out, status);
          for (let k = i; k < end; k++) {
            const e = events[k] as Transaction;
            const t = times[k] as number;
            const row = (k - i) * W;
            const want = reference.process(e, t);
            if (want === undefined) {
              const code = { late: LATE, future: FUTURE, too_old: TOO_OLD }[
                reference.lastRejection ?? "late"
              ];
              assert.equal(status[k - i], code, `event ${k} should be ${reference.lastRejection}`);
              continue;
            }
            assert.equal(status[k - i], ACCEPTED, `event ${k} should be accepted`);
            writeStatelessFeatures(e, t, stateless, 0);
            for (let j = 0; j < S; j++) assert.equal(out[row + j], stateless[j]);
            want.forEach((x, j) => {
              const got = out[row + S + j] as number;
              assert.ok(
                close(got, x),
                `event ${k} ${BEHAVIOURAL_FEATURES[j]?.name}: engine ${got}, reference ${x}`,
              );
            });
          }
          // Idle users expire between batches, in both.
          assert.equal(engine.watermark, reference.watermark);
          const dropped = engine.expire();
          assert.deepEqual(dropped.sort(), reference.expire(reference.watermark - ttl).sort());
        }
      },
    ),
    { numRuns: 300 },
  );
});

test("an engine restored from checkpoints mid-stream continues exactly like an uninterrupted one", () => {
  fc.assert(
    fc.property(
      fc.array(rawEvent, { minLength: 1, maxLength: 120 }),
      fc.nat(),
      fc.constantFrom(3_600_000, 30 * 86_400_000),
      fc.boolean(),
      (raws, cut, ttl, expireAtCut) => {
        const { events, times } = build(raws);
        const at = cut % (events.length + 1);
        const opts = {
          allowedLatenessMs: LATENESS,
          stateTtlMs: ttl,
          maxFutureSkewMs: 3_600_000,
          maxEventAgeMs: LATENESS,
        };
        const whole = new FeatureEngine(opts);
        const a = new Float64Array(events.length * W);
        const sa = new Uint8Array(events.length);
        whole.processBatch(events, times, a, sa);

        const first = new FeatureEngine(opts);
        const b = new Float64Array(events.length * W);
        const sb = new Uint8Array(events.length);
        first.processBatch(events.slice(0, at), times.subarray(0, at), b, sb);
        // The periodic expiry may or may not have run before the checkpoint: no difference either way.
        if (expireAtCut) first.expire();
        const second = new FeatureEngine(opts);
        for (const u of first.dirtyUsers()) {
          const bytes = first.serializeUser(u);
          if (bytes !== undefined) second.restoreUser(u, bytes);
        }
        second.restoreClock(first.serializeClock());
        assert.equal(second.dirtyUsers().size, 0);
        second.processBatch(events.slice(at), times.subarray(at), b.subarray(at * W), sb.subarray(at));
        assert.deepEqual(sb, sa);
        // Same bits, NaN rows of late events included.
        assert.deepEqual(new Uint8Array(b.buffer), new Uint8Array(a.buffer));
      },
    ),
    { numRuns: 200 },
  );
});
