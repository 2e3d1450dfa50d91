// The worker loop over the demo's in-process log and PGlite: exactly once, dead letters with their
// reasons, a rerun that adds nothing, and a database outage waited out without loss.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { workerOptions } from "../src/app/worker.ts";
import { loadConfig } from "../src/config/config.ts";
import { compileRuleSet } from "../src/decide/compile.ts";
import { defaultRuleSet } from "../src/decide/defaults.ts";
import { servedRules } from "../src/decide/serving.ts";
import { createEmbeddedSink, createEmbeddedSource, InProcessLog } from "../src/io/embedded/log.ts";
import { createPgliteStore, type PgStore } from "../src/io/pg/index.ts";
import { createProvisionalScorer } from "../src/model/provisional-scorer.ts";
import { fixedScorer } from "../src/model/scorer.ts";
import { createLogger } from "../src/observe/logger.ts";
import type { Store } from "../src/pipeline/ports.ts";
import { runWorker, type WorkerTotals } from "../src/pipeline/worker.ts";
import { makeRecords, type TestRecord } from "./helpers/events.ts";

const config = loadConfig({});
const logger = createLogger("silent", "test");

class TransientError extends Error {
  readonly transient = true;
}

async function runUntilDrained(
  log: InProcessLog,
  store: Store,
  group = "g",
  maxRecords = 500,
  maxInFlight?: number,
): Promise<WorkerTotals> {
  const stop = new AbortController();
  // Assembled like the demo's and the CLI's worker, with this test's group, limits and retry cap.
  const settings = {
    ...config,
    consumerGroup: group,
    maxEventBytes: 2048,
    dbRetryMaxMs: 50,
    ...(maxInFlight === undefined ? {} : { workerConcurrency: maxInFlight }),
  };
  const worker = runWorker(
    workerOptions(settings, {
      openSource: (listener) =>
        createEmbeddedSource(log, { group, topic: config.topicRaw, maxRecords, maxWaitMs: 5, listener }),
      sink: createEmbeddedSink(log),
      store,
      scorer: fixedScorer(createProvisionalScorer()),
      rules: { current: servedRules(compileRuleSet(defaultRuleSet())) },
      isTransientError: (err) => err instanceof TransientError,
      logger,
    }),
    stop.signal,
  );
  const failed = worker.then(() => new Error("worker stopped early"));
  while (log.lag(group, config.topicRaw) > 0n) {
    const r = await Promise.race([failed, new Promise((res) => setTimeout(res, 10, "waiting"))]);
    if (r instanceof Error) throw r;
  }
  stop.abort();
  return worker;
}

function newLog(records: TestRecord[]): InProcessLog {
  const log = new InProcessLog(4);
  for (const t of [config.topicRaw, config.topicDlq, config.topicAnomalies, config.topicFeatures])
    log.createTopic(t);
  log.append(records.map((r) => ({ topic: config.topicRaw, key: r.key, value: r.value })));
  return log;
}

async function counts(store: PgStore): Promise<{ scored: number; distinct: number; dead: number }> {
  const { rows } = await store.db.query<{ scored: string; distinct: string; dead: string }>(
    `SELECT (SELECT count(*) FROM transactions_scored) AS scored,
            (SELECT count(DISTINCT transaction_id) FROM transactions_scored) AS distinct,
            (SELECT count(*) FROM dead_letters) AS dead`,
  );
  const r = rows[0];
  assert.ok(r);
  return { scored: Number(r.scored), distinct: Number(r.distinct), dead: Number(r.dead) };
}

describe("worker over the in-process log and PGlite", () => {
  it("stores every valid event once, dead-letters the rest with reasons, and a rerun adds nothing", async () => {
    const records = makeRecords(5000, 50, "emb");
    const valid = records.filter((r) => r.transactionId !== null);
    const bad = records.filter((r) => r.reason !== null);
    const log = newLog(records);
    const store = await createPgliteStore({});
    try {
      await store.migrate();
      const totals = await runUntilDrained(log, store);
      assert.equal(totals.scored, valid.length);
      assert.equal(totals.deadLetters, bad.length);
      assert.deepEqual(await counts(store), {
        scored: valid.length,
        distinct: valid.length,
        dead: bad.length,
      });

      const ids = await store.db.query<{ transaction_id: string }>(
        "SELECT transaction_id FROM transactions_scored",
      );
      assert.deepEqual(
        new Set(ids.rows.map((r) => r.transaction_id)),
        new Set(valid.map((r) => r.transactionId)),
      );
      const reasons = await store.db.query<{ reason: string; n: string }>(
        "SELECT reason, count(*) AS n FROM dead_letters GROUP BY reason ORDER BY reason",
      );
      const expected = new Map<string, number>();
      for (const r of bad) expected.set(r.reason as string, (expected.get(r.reason as string) ?? 0) + 1);
      assert.deepEqual(
        new Map(reasons.rows.map((r) => [r.reason, Number(r.n)])),
        new Map([...expected].sort(([a], [b]) => (a < b ? -1 : 1))),
      );

      // The DLQ topic has each malformed record's original bytes with the reason in a header.
      const dlq = Array.from({ length: log.partitions(config.topicDlq) }, (_, p) =>
        log.records(config.topicDlq, p),
      ).flat();
      assert.equal(dlq.length, bad.length);
      const rawBad = new Set(bad.map((r) => Buffer.from(r.value).toString("hex")));
      for (const m of dlq) assert.ok(rawBad.has(Buffer.from(m.value ?? new Uint8Array()).toString("hex")));

      // The same input again, as a fresh consumer group position would replay it: no new rows.
      const replay = newLog(records);
      const again = await runUntilDrained(replay, store, "g");
      assert.equal(again.scored, 0, "records below the stored checkpoint are skipped");
      assert.deepEqual(await counts(store), {
        scored: valid.length,
        distinct: valid.length,
        dead: bad.length,
      });
      // The same events produced again (new offsets, same transactions) are recognised as duplicates:
      // no rows, no dead letters.
      const log2 = newLog(records);
      log2.append(valid.map((r) => ({ topic: config.topicRaw, key: r.key, value: r.value })));
      const dup = await runUntilDrained(log2, store, "g");
      assert.equal(dup.scored, 0);
      assert.equal(dup.deadLetters, 0);
      assert.equal(dup.duplicates, valid.length);
      assert.deepEqual(await counts(store), {
        scored: valid.length,
        distinct: valid.length,
        dead: bad.length,
      });
      // Even a different consumer group (no checkpoint) cannot duplicate rows: writes are idempotent.
      await runUntilDrained(newLog(records), store, "other-group");
      assert.deepEqual(await counts(store), {
        scored: valid.length,
        distinct: valid.length,
        dead: bad.length,
      });
    } finally {
      await store.close();
    }
  });

  it("waits out a database outage and loses nothing", async () => {
    const records = makeRecords(3000, 0, "outage");
    const log = newLog(records);
    const inner = await createPgliteStore({});
    await inner.migrate();
    // The database is down for the first 8 write attempts (each fails as a refused connection would).
    let failures = 8;
    const store: Store = {
      ...inner,
      writeBatch: async (w) => {
        if (failures > 0) {
          failures--;
          throw new TransientError("connect ECONNREFUSED 127.0.0.1:5432");
        }
        return inner.writeBatch(w);
      },
    };
    try {
      const totals = await runUntilDrained(log, store);
      assert.equal(failures, 0, "the outage happened");
      assert.equal(totals.scored, records.length);
      assert.deepEqual(await counts(inner), { scored: records.length, distinct: records.length, dead: 0 });
    } finally {
      await inner.close();
    }
  });

  it("stops on a non-transient database error instead of skipping the batch", async () => {
    const log = newLog(makeRecords(100, 0, "fatal"));
    const inner = await createPgliteStore({});
    await inner.migrate();
    const store: Store = {
      ...inner,
      writeBatch: async () => {
        throw new Error("permission denied for table transactions_scored");
      },
    };
    try {
      await assert.rejects(runUntilDrained(log, store), /permission denied/);
      assert.equal(log.committed("g", config.topicRaw, 0) ?? 0n, 0n, "nothing was committed");
    } finally {
      await inner.close();
    }
  });

  it("restores per-user feature state: a restarted worker computes what an uninterrupted one does", async () => {
    const records = makeRecords(6000, 0, "restore");
    const features = async (store: PgStore) =>
      new Map(
        (
          await store.db.query<{ transaction_id: string; features: string }>(
            "SELECT transaction_id, features::text AS features FROM transactions_scored",
          )
        ).rows.map((r) => [r.transaction_id, r.features]),
      );
    const whole = await createPgliteStore({});
    const split = await createPgliteStore({});
    try {
      await whole.migrate();
      await split.migrate();
      await runUntilDrained(newLog(records), whole, "g", 700);
      // Three workers in turn, each starting from what the previous one checkpointed, with other
      // batch sizes: the log grows between them as a live topic would.
      const log = newLog(records.slice(0, 2000));
      await runUntilDrained(log, split, "g", 300);
      log.append(
        records.slice(2000, 4500).map((r) => ({ topic: config.topicRaw, key: r.key, value: r.value })),
      );
      await runUntilDrained(log, split, "g", 1000);
      log.append(records.slice(4500).map((r) => ({ topic: config.topicRaw, key: r.key, value: r.value })));
      await runUntilDrained(log, split, "g", 77);
      const a = await features(whole);
      const b = await features(split);
      assert.equal(a.size, records.length);
      assert.equal(b.size, records.length);
      for (const [id, f] of a) assert.equal(b.get(id), f, `features of ${id}`);
      // The behavioural features really are there: users come back, so some have history.
      const withHistory = [...a.values()].filter(
        (f) => (JSON.parse(f) as { user_txn_count: number }).user_txn_count > 0,
      );
      assert.ok(withHistory.length > records.length / 2);
      const states = await split.db.query<{ n: string }>("SELECT count(*)::text AS n FROM feature_state");
      assert.equal(Number(states.rows[0]?.n), 977, "one checkpointed state per user");
    } finally {
      await whole.close();
      await split.close();
    }
  });

  it("works on partitions concurrently, each in offset order, with the features of one at a time", async () => {
    const records = makeRecords(6000, 20, "conc");
    const features = async (store: PgStore) =>
      new Map(
        (
          await store.db.query<{ transaction_id: string; features: string; score: number }>(
            "SELECT transaction_id, features::text AS features, score FROM transactions_scored",
          )
        ).rows.map((r) => [r.transaction_id, `${r.features} ${r.score}`]),
      );
    const serial = await createPgliteStore({});
    const concurrent = await createPgliteStore({});
    try {
      await serial.migrate();
      await concurrent.migrate();
      await runUntilDrained(newLog(records), serial, "g", 200, 1);
      // A slow database: every write waits a little, so the next partition's batch starts meanwhile.
      let writing = 0;
      let mostAtOnce = 0;
      const next = new Map<number, bigint>();
      const slow: Store = {
        ...concurrent,
        async writeBatch(batch) {
          writing++;
          mostAtOnce = Math.max(mostAtOnce, writing);
          try {
            for (const c of batch.checkpoints) {
              const expected = next.get(c.partition);
              if (expected !== undefined) assert.equal(c.from, expected, `partition ${c.partition} in order`);
              next.set(c.partition, c.to);
            }
            await new Promise((resolve) => setTimeout(resolve, 15));
            return await concurrent.writeBatch(batch);
          } finally {
            writing--;
          }
        },
      };
      const totals = await runUntilDrained(newLog(records), slow, "g", 200, 3);
      assert.ok(mostAtOnce > 1, "batches of different partitions were in progress at once");
      assert.ok(mostAtOnce <= 3, `at most maxInFlight at once, saw ${mostAtOnce}`);
      assert.equal(next.size, 4, "every partition was written");
      const a = await features(serial);
      const b = await features(concurrent);
      assert.equal(b.size, totals.scored);
      assert.equal(a.size, b.size);
      for (const [id, f] of a) assert.equal(b.get(id), f, `features and score of ${id}`);
    } finally {
      await serial.close();
      await concurrent.close();
    }
  });

  it("keeps taking other partitions' batches while one partition's batch is stuck", async () => {
    const records = makeRecords(2000, 25, "stuck");
    const valid = records.filter((r) => r.transactionId !== null);
    const bad = records.filter((r) => r.reason !== null);
    const log = newLog(records);
    const inner = await createPgliteStore({});
    await inner.migrate();
    // Partition 0's writes wait until the test lets them through; the other partitions' go straight on.
    let letThrough!: () => void;
    const gate = new Promise<void>((resolve) => {
      letThrough = resolve;
    });
    let released = false;
    const written = new Map<number, number>();
    const ranges = new Map<number, [bigint | null, bigint][]>();
    const held: Store = {
      ...inner,
      async writeBatch(batch) {
        const partitions = batch.checkpoints.map((c) => c.partition);
        if (partitions.includes(0)) await gate;
        await inner.writeBatch(batch);
        for (const c of batch.checkpoints) {
          written.set(c.partition, (written.get(c.partition) ?? 0) + 1);
          ranges.set(c.partition, [...(ranges.get(c.partition) ?? []), [c.from, c.to]]);
        }
      },
    };
    const batchesOf = (p: number) => written.get(p) ?? 0;
    const drained = runUntilDrained(log, held, "g", 20, 4);
    drained.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled
    try {
      // 2000 records in batches of 20: about 25 batches per partition. While partition 0's first
      // batch waits on its write, the intake goes on pulling: the other partitions get several
      // batches through (the intake only stops once 2 × maxInFlight batches are taken and not done).
      const deadline = Date.now() + 20_000;
      while (![1, 2, 3].every((p) => batchesOf(p) >= 2)) {
        if (Date.now() > deadline)
          assert.fail(
            `the other partitions stopped behind partition 0: batches written ${JSON.stringify(Object.fromEntries(written))}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(batchesOf(0), 0, "partition 0 is still held");
      for (const p of [1, 2, 3]) assert.ok(batchesOf(p) >= 2, `partition ${p} wrote more than one batch`);

      released = true;
      letThrough();
      const totals = await drained;
      assert.equal(totals.scored, valid.length);
      assert.equal(totals.deadLetters, bad.length);
      assert.deepEqual(await counts(inner), {
        scored: valid.length,
        distinct: valid.length,
        dead: bad.length,
      });
      // Every partition's batches were written one after another, in offset order, up to its end.
      const ends = log.endOffsets(config.topicRaw);
      assert.ok(batchesOf(0) > 1, "partition 0 had several batches");
      for (const [p, end] of ends.entries()) {
        const got = ranges.get(p) ?? [];
        assert.equal(got[0]?.[0], null, `partition ${p} starts without a checkpoint`);
        for (let i = 1; i < got.length; i++)
          assert.equal(got[i]?.[0], got[i - 1]?.[1], `partition ${p} batch ${i} follows the one before`);
        assert.equal(got.at(-1)?.[1], end, `partition ${p} written up to its end`);
      }
    } finally {
      if (!released) {
        letThrough();
        await drained.catch(() => {});
      }
      await inner.close();
    }
  });

  it("skips a repeated transaction before features: it counts once in the user's history", async () => {
    const at = (m: number) => new Date(Date.UTC(2026, 10, 20, 12, m)).toISOString();
    const event = (id: string, minute: number) =>
      new TextEncoder().encode(
        JSON.stringify({
          transaction_id: id,
          timestamp: at(minute),
          user_id: "u-dup",
          amount: 10,
          currency: "EUR",
        }),
      );
    const log = newLog([]);
    log.append(
      [
        ["a", 1],
        ["a", 1], // a producer retry
        ["b", 2],
      ].map(([id, m]) => ({ topic: config.topicRaw, key: "u-dup", value: event(String(id), Number(m)) })),
    );
    const store = await createPgliteStore({});
    try {
      await store.migrate();
      const totals = await runUntilDrained(log, store);
      assert.equal(totals.scored, 2);
      assert.equal(totals.duplicates, 1);
      const rows = await store.db.query<{ transaction_id: string; n: string }>(
        "SELECT transaction_id, (features->>'user_txn_count') AS n FROM transactions_scored ORDER BY event_time",
      );
      assert.deepEqual(
        rows.rows.map((r) => [r.transaction_id, Number(r.n)]),
        [
          ["a", 0],
          ["b", 1],
        ],
      );
    } finally {
      await store.close();
    }
  });

  it("dead-letters events later than the allowed lateness with reason late", async () => {
    const at = (m: number) => new Date(Date.UTC(2026, 10, 20, 12, m)).toISOString();
    const event = (id: string, minute: number) =>
      new TextEncoder().encode(
        JSON.stringify({
          transaction_id: id,
          timestamp: at(minute),
          user_id: "u-late",
          amount: 10,
          currency: "EUR",
        }),
      );
    const log = newLog([]);
    log.append(
      [
        ["t1", 30],
        ["t2", 40],
        ["t3", 36], // 4 min behind: within the 5 min lateness
        ["t4", 20], // 20 min behind: late
      ].map(([id, m]) => ({ topic: config.topicRaw, key: "u-late", value: event(String(id), Number(m)) })),
    );
    const store = await createPgliteStore({});
    try {
      await store.migrate();
      const totals = await runUntilDrained(log, store);
      assert.equal(totals.scored, 3);
      assert.equal(totals.deadLetters, 1);
      const dead = await store.db.query<{ reason: string; field: string; transaction_id: string }>(
        "SELECT reason, field, transaction_id FROM dead_letters",
      );
      assert.deepEqual(dead.rows, [{ reason: "late", field: "timestamp", transaction_id: "t4" }]);
    } finally {
      await store.close();
    }
  });

  it("stores every failing field of a dead letter in dead_letters.errors", async () => {
    const log = newLog([]);
    const bad = {
      transaction_id: "t-bad",
      timestamp: "yesterday",
      user_id: "u-1",
      amount: -5,
      currency: "EUR",
    };
    log.append([
      { topic: config.topicRaw, key: "u-1", value: new TextEncoder().encode(JSON.stringify(bad)) },
    ]);
    const store = await createPgliteStore({});
    try {
      await store.migrate();
      const totals = await runUntilDrained(log, store);
      assert.equal(totals.deadLetters, 1);
      const dead = await store.db.query<{ reason: string; field: string; errors: { path: string }[] }>(
        "SELECT reason, field, errors FROM dead_letters",
      );
      assert.equal(dead.rows.length, 1);
      assert.equal(dead.rows[0]?.reason, "schema");
      assert.equal(dead.rows[0]?.field, "timestamp");
      assert.deepEqual(
        dead.rows[0]?.errors.map((e) => e.path),
        ["timestamp", "amount"],
      );
    } finally {
      await store.close();
    }
  });
});
