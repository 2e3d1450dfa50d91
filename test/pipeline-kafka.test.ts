// End to end against a real Kafka broker and the real PostgreSQL: `fraudstream worker` processes,
// 50,000 events with 1% malformed, exactly once, a rerun, and a worker SIGKILLed mid-stream.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeRecords } from "./helpers/events.ts";
import { type KafkaCluster, startKafka } from "./helpers/kafka.ts";
import { createTestDatabase } from "./helpers/pg.ts";
import {
  dbCounts,
  freePort,
  killAllWorkers,
  type PipelineEnv,
  produce,
  query,
  readTopic,
  startWorker,
  waitForCheckpoints,
  waitForCounts,
} from "./helpers/pipeline.ts";

let kafka: KafkaCluster;

before(async () => {
  kafka = await startKafka();
});
after(async () => {
  await killAllWorkers();
  await kafka?.stop();
});

describe("worker against Kafka and PostgreSQL", () => {
  it("stores 50,000 events exactly once, dead-letters the 1% malformed, and a rerun adds no rows", async () => {
    const db = await createTestDatabase();
    const env: PipelineEnv = {
      brokers: kafka.bootstrap,
      databaseUrl: db.url,
      prefix: "e2e",
      metricsPort: await freePort(),
    };
    const records = makeRecords(50_000, 100, "e2e");
    const valid = records.filter((r) => r.transactionId !== null);
    const bad = records.filter((r) => r.reason !== null);
    assert.equal(bad.length, 500);
    try {
      await produce(env, records);
      const worker = startWorker(env);
      await waitForCounts(db.url, (c) => c.scored >= valid.length && c.dead >= bad.length, {
        timeoutMs: 120_000,
        worker,
        what: "all events processed",
      });
      // The worker's Prometheus endpoint counted the same.
      const metrics = await (await fetch(`http://127.0.0.1:${env.metricsPort}/metrics`)).text();
      assert.match(metrics, new RegExp(`^fraudstream_events_scored_total ${valid.length}$`, "m"));
      assert.match(metrics, /^fraudstream_events_dead_lettered_total\{reason="schema"\} \d+$/m);
      worker.child.kill("SIGTERM");
      const exit = await worker.exited;
      assert.equal(exit.code, 0, `SIGTERM is a clean stop; log:\n${worker.log().slice(-3000)}`);
      assert.match(worker.log(), /worker stopped/);

      assert.deepEqual(await dbCounts(db.url), {
        scored: valid.length,
        distinct: valid.length,
        dead: bad.length,
      });
      const ids = await query<{ transaction_id: string }>(
        db.url,
        "SELECT transaction_id FROM transactions_scored",
      );
      assert.deepEqual(new Set(ids.map((r) => r.transaction_id)), new Set(valid.map((r) => r.transactionId)));

      // Every malformed record is in dead_letters with its reason and original bytes...
      const dead = await query<{ reason: string; raw: Buffer | null; field: string | null }>(
        db.url,
        "SELECT reason, raw, field FROM dead_letters",
      );
      const byRaw = new Map(bad.map((r) => [Buffer.from(r.value).toString("hex"), r.reason]));
      for (const d of dead) assert.equal(d.reason, byRaw.get((d.raw ?? Buffer.alloc(0)).toString("hex")));
      assert.ok(
        dead.some((d) => d.reason === "schema" && d.field === "amount"),
        "schema rejections name the field",
      );
      // ...and on the DLQ topic with the reason in a header.
      const dlq = await readTopic(kafka.bootstrap, "e2e.dlq", bad.length);
      assert.equal(dlq.length, bad.length);
      for (const m of dlq) assert.equal(m.headers.get("x-dlq-reason"), byRaw.get(m.value.toString("hex")));

      // Rerun 1: a worker of another consumer group reads the whole topic again.
      const replayEnv = { ...env, group: "e2e.replay", metricsPort: 0 };
      const replay = startWorker(replayEnv);
      await waitForCheckpoints(replayEnv, records.length, { timeoutMs: 60_000, worker: replay });
      replay.child.kill("SIGTERM");
      assert.equal((await replay.exited).code, 0);
      assert.deepEqual(await dbCounts(db.url), {
        scored: valid.length,
        distinct: valid.length,
        dead: bad.length,
      });

      // Rerun 2: the same valid events produced again. They are new records but the same
      // transactions, so nothing is added.
      await produce(env, valid);
      const again = startWorker(env);
      await waitForCheckpoints(env, records.length + valid.length, { timeoutMs: 60_000, worker: again });
      again.child.kill("SIGTERM");
      assert.equal((await again.exited).code, 0);
      assert.deepEqual(await dbCounts(db.url), {
        scored: valid.length,
        distinct: valid.length,
        dead: bad.length,
      });
    } finally {
      await db.drop();
    }
  });

  it("loses and duplicates nothing when a worker is SIGKILLed mid-stream", async () => {
    const db = await createTestDatabase();
    const env: PipelineEnv = { brokers: kafka.bootstrap, databaseUrl: db.url, prefix: "kill" };
    const records = makeRecords(40_000, 0, "kill");
    try {
      await produce(env, records);
      const first = startWorker(env);
      await waitForCounts(db.url, (c) => c.scored >= 5000, {
        timeoutMs: 60_000,
        worker: first,
        what: "first rows",
      });
      first.child.kill("SIGKILL");
      const exit = await first.exited;
      assert.equal(exit.signal, "SIGKILL");
      const atKill = await dbCounts(db.url);
      assert.ok(
        atKill.scored < records.length,
        `killed mid-stream (${atKill.scored} of ${records.length} done)`,
      );

      const second = startWorker(env);
      await waitForCounts(db.url, (c) => c.scored >= records.length, {
        timeoutMs: 120_000,
        worker: second,
        what: "the rest",
      });
      // Let it run a moment longer: any duplicate would show up as extra rows.
      await new Promise((r) => setTimeout(r, 1000));
      second.child.kill("SIGTERM");
      await second.exited;
      assert.deepEqual(await dbCounts(db.url), { scored: records.length, distinct: records.length, dead: 0 });
    } finally {
      await db.drop();
    }
  });
});
