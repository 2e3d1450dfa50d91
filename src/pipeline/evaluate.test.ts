// The per-batch stages alone, without a worker, a log or a database: what each stage keeps, drops and
// computes, and that evaluateBatch's rows carry exactly the features the engine computes on its own.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileRuleSet } from "../decide/compile.ts";
import { defaultRuleSet } from "../decide/defaults.ts";
import { servedRules } from "../decide/serving.ts";
import { FeatureEngine } from "../features/engine.ts";
import { FEATURE_NAMES } from "../features/registry.ts";
import { createProvisionalScorer } from "../model/provisional-scorer.ts";
import type { Scorer } from "../model/scorer.ts";
import {
  BatchBuffers,
  columnsOf,
  dedupe,
  evaluateBatch,
  parseRecords,
  scoreAccepted,
  storedKeys,
  WIDTH,
} from "./evaluate.ts";
import type { SourceRecord } from "./ports.ts";

const encoder = new TextEncoder();
const T0 = Date.UTC(2026, 10, 20, 12);
const SETTINGS = {
  dlqTopic: "dlq",
  anomaliesTopic: "anomalies",
  featuresTopic: "features",
  allowedLatenessMs: 60_000,
};

function event(i: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    transaction_id: `t-${i}`,
    timestamp: new Date(T0 + i * 1000).toISOString(),
    user_id: `u-${i % 3}`,
    amount: 10 + i,
    currency: "EUR",
    country: "DE",
    home_country: "DE",
    ...over,
  };
}

function record(offset: number, value: unknown): SourceRecord {
  const bytes = typeof value === "string" ? encoder.encode(value) : encoder.encode(JSON.stringify(value));
  return { partition: 0, offset: BigInt(offset), key: encoder.encode("k"), value: bytes, timestamp: T0 };
}

const engineOptions = { allowedLatenessMs: 60_000, stateTtlMs: 86_400_000 };
const rules = servedRules(compileRuleSet(defaultRuleSet()));

function evaluate(
  records: SourceRecord[],
  stored: Set<string> = new Set(),
  scorer = createProvisionalScorer(),
) {
  const engine = new FeatureEngine(engineOptions);
  const parsed = parseRecords(records, 4096);
  const buffers = BatchBuffers.reuse(undefined, scorer, columnsOf(scorer), records.length);
  const out = evaluateBatch({
    batch: { topic: "raw", partition: 0 },
    parsed,
    stored,
    engine,
    buffers,
    rules,
    settings: SETTINGS,
    ingestedAt: T0,
  });
  return { out, engine, parsed };
}

describe("parse stage", () => {
  it("keeps valid events in order and names why each bad record was rejected", () => {
    const records = [
      record(0, event(0)),
      record(1, "{nope"),
      record(2, event(2, { amount: -1 })),
      record(3, event(3)),
    ];
    const { valid, rejected } = parseRecords(records, 4096);
    assert.deepEqual(
      valid.map((v) => v.parsed.event.transaction_id),
      ["t-0", "t-3"],
    );
    assert.deepEqual(
      rejected.map((r) => [r.record.offset, r.why.reason, r.why.field]),
      [
        [1n, "malformed_json", undefined],
        [2n, "schema", "amount"],
      ],
    );
    assert.deepEqual(storedKeys(valid), [
      { transactionId: "t-0", eventTime: T0 },
      { transactionId: "t-3", eventTime: T0 + 3000 },
    ]);
  });

  it("rejects a record over the size limit before decoding it", () => {
    const { rejected } = parseRecords([record(0, event(0, { merchant_name: "x".repeat(200) }))], 64);
    assert.equal(rejected[0]?.why.reason, "too_large");
  });
});

describe("dedupe stage", () => {
  it("drops what is stored and what repeats earlier in the batch, keeping the rest in order", () => {
    const records = [record(0, event(0)), record(1, event(1)), record(2, event(0)), record(3, event(2))];
    const { valid } = parseRecords(records, 4096);
    const { fresh, duplicates } = dedupe(valid, new Set(["t-1"]));
    assert.deepEqual(
      fresh.map((f) => f.record.offset),
      [0n, 3n],
    );
    assert.equal(duplicates, 2);
  });
});

describe("score stage", () => {
  it("scores only accepted rows, projected onto the scorer's columns, and names each one's row", () => {
    const seen: number[][] = [];
    const scorer: Scorer = {
      version: "probe",
      featureNames: ["amount", "hour_of_day"],
      scoreBatch(rows, n, out) {
        for (let i = 0; i < n; i++) {
          seen.push([rows[i * 2] as number, rows[i * 2 + 1] as number]);
          out[i] = i;
        }
      },
    };
    const buf = BatchBuffers.reuse(undefined, scorer, columnsOf(scorer), 3);
    const amount = FEATURE_NAMES.indexOf("amount");
    const hour = FEATURE_NAMES.indexOf("hour_of_day");
    for (let i = 0; i < 3; i++) {
      buf.features[i * WIDTH + amount] = 100 + i;
      buf.features[i * WIDTH + hour] = i;
    }
    buf.status.set([0, 1, 0]);
    assert.equal(scoreAccepted(buf, 3), 2);
    assert.deepEqual(seen, [
      [100, 0],
      [102, 2],
    ]);
    assert.deepEqual([...buf.acceptedRows.subarray(0, 2)], [0, 2]);
  });
});

describe("evaluateBatch", () => {
  it("stores each fresh event with the features the engine computes on its own, in offset order", () => {
    const events = Array.from({ length: 12 }, (_, i) => event(i));
    const { out } = evaluate(events.map((e, i) => record(i, e)));
    const reference = new FeatureEngine(engineOptions);
    const parsed = parseRecords(
      events.map((e, i) => record(i, e)),
      4096,
    ).valid.map((v) => v.parsed);
    const features = new Float64Array(parsed.length * WIDTH);
    const status = new Uint8Array(parsed.length);
    reference.processBatch(
      parsed.map((p) => p.event),
      parsed.map((p) => p.eventTime),
      features,
      status,
    );
    assert.equal(out.scored.length, 12);
    out.scored.forEach((row, i) => {
      assert.equal(row.transactionId, `t-${i}`);
      assert.equal(row.source.offset, BigInt(i));
      for (let j = 0; j < WIDTH; j++)
        assert.equal(
          row.features[FEATURE_NAMES[j] as string],
          features[i * WIDTH + j],
          `${row.transactionId}`,
        );
      assert.ok(Number.isFinite(row.score));
      assert.equal(row.ruleSetVersion, rules.version);
    });
    // One feature message per scored event, to the features topic, keyed by the user.
    const featureMessages = out.outbound.filter((m) => m.topic === "features");
    assert.equal(featureMessages.length, 12);
    assert.equal(featureMessages[0]?.key, "u-0");
  });

  it("dead-letters bad and late records with reasons, skips duplicates, and flags blocked users as alerts", () => {
    const blocked = servedRules(compileRuleSet(defaultRuleSet()).withLists({ blocked_users: ["u-bad"] }));
    const records = [
      record(0, event(10)),
      record(1, "not json"),
      record(2, event(11)),
      record(3, event(10)), // the same transaction again
      record(4, event(0, { user_id: "u-1", transaction_id: "t-late" })), // 11 s behind u-1's newest: late
      record(5, event(12, { user_id: "u-bad", transaction_id: "t-bad" })),
      record(6, event(13, { transaction_id: "t-two-bad", amount: -5, currency: "euro" })),
    ];
    const scorer = createProvisionalScorer();
    const engine = new FeatureEngine({ ...engineOptions, allowedLatenessMs: 5_000 });
    const buffers = BatchBuffers.reuse(undefined, scorer, columnsOf(scorer), records.length);
    const out = evaluateBatch({
      batch: { topic: "raw", partition: 0 },
      parsed: parseRecords(records, 4096),
      stored: new Set(),
      engine,
      buffers,
      rules: blocked,
      settings: { ...SETTINGS, allowedLatenessMs: 5_000 },
      ingestedAt: T0,
    });
    assert.deepEqual(
      out.scored.map((r) => r.transactionId),
      ["t-10", "t-11", "t-bad"],
    );
    assert.equal(out.duplicates, 1);
    assert.equal(out.late, 1);
    assert.deepEqual(
      out.deadLetters.map((d) => [d.offset, d.reason]),
      [
        [1n, "malformed_json"],
        [6n, "schema"],
        [4n, "late"],
      ],
    );
    // Every failing field at once, in the row and in a header, not only the first.
    const twoBad = [
      { path: "amount", reason: "Too small: expected number to be >0 (got -5)" },
      { path: "currency", reason: 'must be an ISO 4217 code such as EUR (got "euro")' },
    ];
    assert.deepEqual(out.deadLetters[1]?.errors, twoBad);
    assert.deepEqual(out.deadLetters[0]?.errors, []);
    const dlq = out.outbound.filter((m) => m.topic === "dlq");
    assert.deepEqual(
      dlq.map((m) => m.headers?.["x-dlq-source"]),
      ["raw/0/1", "raw/0/6", "raw/0/4"],
    );
    assert.deepEqual(JSON.parse(dlq[1]?.headers?.["x-dlq-errors"] ?? "null"), twoBad);
    assert.equal(dlq[0]?.headers?.["x-dlq-errors"], undefined);
    assert.deepEqual(
      out.alerts.map((a) => a.transactionId),
      ["t-bad"],
    );
    assert.equal(out.alertsByRisk.CRITICAL, 1);
    const anomaly = out.outbound.find((m) => m.topic === "anomalies");
    assert.ok(anomaly !== undefined && typeof anomaly.value === "string");
    assert.equal((JSON.parse(anomaly.value) as { transaction_id: string }).transaction_id, "t-bad");
    assert.equal(engine.hasUser("u-1"), true);
  });

  it("leaves user state untouched for events it skips as already stored", () => {
    const { engine } = evaluate([record(0, event(0)), record(1, event(3))], new Set(["t-0", "t-3"]));
    assert.equal(engine.userCount, 0);
  });
});
