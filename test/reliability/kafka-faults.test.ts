// Faults on the Kafka side, on real brokers and the real PostgreSQL: a broker restart mid-stream, a
// three-broker cluster losing one broker (replication 3, min.insync.replicas 2, idempotent producer,
// acks=all), and 10,000 fuzzed malformed records. In each: zero valid events lost or duplicated, every
// bad one in the DLQ with its reason, the worker still running.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { makeRecords, type TestRecord } from "../helpers/events.ts";
import { fuzzedRecords } from "../helpers/fuzz.ts";
import { type KafkaCluster, startKafka } from "../helpers/kafka.ts";
import { createTestDatabase } from "../helpers/pg.ts";
import {
  dbCounts,
  killAllWorkers,
  type PipelineEnv,
  produce,
  query,
  readTopic,
  startWorker,
  type WorkerProcess,
  waitForCheckpoints,
  waitForCounts,
} from "../helpers/pipeline.ts";

const clusters: KafkaCluster[] = [];
after(async () => {
  await killAllWorkers();
  for (const k of clusters) await k.stop();
});

async function cluster(brokers: 1 | 3): Promise<KafkaCluster> {
  const k = await startKafka({ brokers });
  clusters.push(k);
  return k;
}

/** Every valid record's transaction exactly once, nothing else in the table. */
async function assertExactlyOnce(url: string, records: TestRecord[]): Promise<void> {
  const valid = records.filter((r) => r.transactionId !== null);
  const counts = await dbCounts(url);
  assert.equal(counts.scored, valid.length, "every valid event stored");
  assert.equal(counts.distinct, valid.length, "none twice");
  const ids = await query<{ id: string }>(url, "SELECT transaction_id AS id FROM transactions_scored");
  assert.deepEqual(new Set(ids.map((r) => r.id)), new Set(valid.map((r) => r.transactionId)));
}

async function stopCleanly(w: WorkerProcess): Promise<void> {
  assert.equal(w.child.exitCode, null, `the worker is still running; log:\n${w.log().slice(-3000)}`);
  w.child.kill("SIGTERM");
  assert.equal((await w.exited).code, 0, `clean stop; log:\n${w.log().slice(-3000)}`);
}

describe("Kafka faults", () => {
  it("a broker restart mid-stream: the worker waits, then finishes exactly once", async (t) => {
    // Where the time went, in the test's output: one CI run took 10 minutes here (locally ~30 s).
    const started = performance.now();
    const step = (what: string) => t.diagnostic(`${what} at ${Math.round(performance.now() - started)} ms`);
    const kafka = await cluster(1);
    const db = await createTestDatabase();
    const env: PipelineEnv = { brokers: kafka.bootstrap, databaseUrl: db.url, prefix: "restart" };
    const records = makeRecords(40_000, 200, "restart");
    try {
      await produce(env, records);
      step("produced");
      const worker = startWorker(env);
      await waitForCounts(db.url, (c) => c.scored >= 5000, { timeoutMs: 60_000, worker, what: "first rows" });
      step("first rows stored");
      await kafka.stopBroker(0);
      step("broker stopped");
      const during = await dbCounts(db.url);
      await sleep(3000);
      assert.equal(worker.child.exitCode, null, "the worker outlives the broker");
      await kafka.startBroker(0);
      step("broker started again");
      await waitForCheckpoints(env, records.length, { timeoutMs: 180_000, worker });
      step("all checkpointed");
      assert.ok(during.scored < records.length - records.length / 200, "the restart was mid-stream");
      const stopping = performance.now();
      await stopCleanly(worker);
      step("worker stopped");
      if (performance.now() - stopping > 30_000)
        t.diagnostic(`slow stop; worker log tail:\n${worker.log().slice(-3000)}`);
      await assertExactlyOnce(db.url, records);
      assert.equal((await dbCounts(db.url)).dead, records.length / 200);
    } finally {
      await db.drop();
    }
  });

  it("three brokers, one killed mid-stream while producing goes on: nothing lost, nothing twice", async () => {
    const kafka = await cluster(3);
    const db = await createTestDatabase();
    const env: PipelineEnv = {
      brokers: kafka.bootstrap,
      databaseUrl: db.url,
      prefix: "quorum",
      replication: 3,
    };
    // One stream in two halves, so that the second half's event times follow the first's (an older
    // event time would be late for its user and rightly dead-lettered).
    const all = makeRecords(50_000, 0, "quorum");
    const first = all.slice(0, 30_000);
    const second = all.slice(30_000);
    try {
      await produce(env, first);
      const worker = startWorker(env);
      await waitForCounts(db.url, (c) => c.scored >= 5000, { timeoutMs: 90_000, worker, what: "first rows" });
      // Broker 1 holds the controller quorum's first voter and leads some partitions; a crash moves
      // leadership, and with two in-sync replicas left acks=all keeps accepting writes.
      await kafka.killBroker(0);
      await produce({ ...env, brokers: kafka.brokers.slice(1).join(",") }, second);
      await waitForCheckpoints(env, first.length + second.length, { timeoutMs: 180_000, worker });
      await kafka.startBroker(0);
      await stopCleanly(worker);
      await assertExactlyOnce(db.url, all);
      assert.equal((await dbCounts(db.url)).dead, 0);
    } finally {
      await db.drop();
    }
  });

  it("10,000 fuzzed malformed records: each dead-lettered with a reason, every valid event once", async () => {
    const kafka = clusters[0] ?? (await cluster(1));
    const db = await createTestDatabase();
    const env: PipelineEnv = { brokers: kafka.bootstrap, databaseUrl: db.url, prefix: "fuzz" };
    const records = fuzzedRecords(10_000, 10_000, "fuzz", 20261126);
    const bad = records.filter((r) => r.transactionId === null);
    assert.equal(bad.length, 10_000);
    try {
      await produce(env, records);
      const worker = startWorker(env);
      await waitForCheckpoints(env, records.length, { timeoutMs: 180_000, worker });
      await assertExactlyOnce(db.url, records);
      const dead = await query<{ reason: string; detail: string; raw: Buffer | null }>(
        db.url,
        "SELECT reason, detail, raw FROM dead_letters",
      );
      assert.equal(dead.length, bad.length, "every malformed record is a dead letter");
      const rawOf = new Set(bad.map((r) => Buffer.from(r.value).toString("hex")));
      for (const d of dead) {
        assert.ok(d.reason.length > 0 && d.detail.length > 0, "a reason and a detail");
        assert.ok(rawOf.has((d.raw ?? Buffer.alloc(0)).toString("hex")), "the original bytes are kept");
      }
      const reasons = new Set(dead.map((d) => d.reason));
      for (const r of ["malformed_json", "schema", "invalid_utf8", "too_large", "empty", "not_an_object"])
        assert.ok(reasons.has(r), `reason ${r} among ${[...reasons].join(", ")}`);
      const dlq = await readTopic(kafka.bootstrap, "fuzz.dlq", bad.length, 60_000);
      assert.equal(dlq.length, bad.length, "every malformed record is on the DLQ topic");
      for (const m of dlq) assert.ok((m.headers.get("x-dlq-reason") ?? "") !== "", "with its reason");
      await stopCleanly(worker);
    } finally {
      await db.drop();
    }
  });
});
