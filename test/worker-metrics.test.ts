// A running `fraudstream worker` (real Kafka broker, real PostgreSQL) serves a /metrics exposition that
// passes `promtool check metrics` (Debian's prometheus package) before and after traffic, and its
// counters move with the events: consumed, scored, dead-lettered by reason, alerts by risk, latency and
// batch histograms, consumer lag per partition, and database errors and retries when a write fails.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { makeRecords } from "./helpers/events.ts";
import { type KafkaCluster, startKafka, uniqueName } from "./helpers/kafka.ts";
import { createTestDatabase } from "./helpers/pg.ts";
import {
  freePort,
  killAllWorkers,
  type PipelineEnv,
  produce,
  query,
  startWorker,
  type WorkerProcess,
  waitForCheckpoints,
  waitForCounts,
} from "./helpers/pipeline.ts";
import { parseExposition, promtoolCheckMetrics, type Sample, total } from "./helpers/prometheus.ts";

let kafka: KafkaCluster;
let db: { url: string; drop(): Promise<void> };

before(async () => {
  kafka = await startKafka();
  db = await createTestDatabase();
});
after(async () => {
  await killAllWorkers();
  await kafka?.stop();
  await db?.drop();
});

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return res.text();
}

function checked(text: string, when: string): Sample[] {
  const lint = promtoolCheckMetrics(text);
  assert.ok(lint.ok, `promtool check metrics (${when}):\n${lint.output}`);
  return parseExposition(text);
}

/** Scrapes until `done` holds (or fails with the last scrape). */
async function scrapeUntil(
  port: number,
  done: (s: Sample[]) => boolean,
  what: string,
  worker: WorkerProcess,
  timeoutMs = 30_000,
): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  let last: Sample[] = [];
  while (Date.now() < deadline) {
    try {
      last = parseExposition(await scrape(port));
      if (done(last)) return last;
    } catch (err) {
      // Not listening yet (the worker is starting).
      if ((err as { cause?: { code?: string } }).cause?.code !== "ECONNREFUSED") throw err;
    }
    if (worker.child.exitCode !== null) throw new Error(`worker exited:\n${worker.log().slice(-3000)}`);
    await sleep(250);
  }
  throw new Error(
    `timed out waiting for ${what}; last scrape:\n${last
      .filter((s) => s.name.startsWith("fraudstream_") && !/process|nodejs/.test(s.name))
      .map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`)
      .join("\n")}\nworker log:\n${worker.log().slice(-3000)}`,
  );
}

describe("worker /metrics", () => {
  it("passes promtool and counts what flows through, database errors and retries included", async () => {
    const env: PipelineEnv = {
      brokers: kafka.bootstrap,
      databaseUrl: db.url,
      prefix: uniqueName("metrics"),
      partitions: 4,
      metricsPort: await freePort(),
    };
    const port = env.metricsPort as number;
    const worker = startWorker(env);

    // Before any event: served (once the worker is up), valid, counters at zero.
    const idle = await scrapeUntil(
      port,
      (s) => s.some((x) => x.name === "fraudstream_model_info"),
      "the worker to start",
      worker,
    );
    checked(await scrape(port), "idle");
    assert.equal(total(idle, "fraudstream_events_scored_total"), 0);
    assert.ok(total(idle, "fraudstream_process_resident_memory_bytes") > 0, "process metrics");

    const records = makeRecords(5000, 50, env.prefix);
    const valid = records.filter((r) => r.transactionId !== null);
    const bad = records.filter((r) => r.reason !== null);
    await produce(env, records);
    await waitForCounts(db.url, (c) => c.scored >= valid.length && c.dead >= bad.length, {
      timeoutMs: 60_000,
      worker,
      what: "all events processed",
    });
    // onBatch runs right after the commit the database count saw: a short wait covers it.
    const s = await scrapeUntil(
      port,
      (x) => total(x, "fraudstream_events_consumed_total") >= records.length,
      "consumed to reach the records produced",
      worker,
    );
    checked(await scrape(port), "after traffic");

    assert.equal(total(s, "fraudstream_events_consumed_total"), records.length);
    assert.equal(total(s, "fraudstream_events_scored_total"), valid.length);
    assert.equal(total(s, "fraudstream_events_dead_lettered_total"), bad.length);
    const reasons = new Map<string, number>();
    for (const r of bad) reasons.set(r.reason as string, (reasons.get(r.reason as string) ?? 0) + 1);
    for (const [reason, n] of reasons)
      assert.equal(total(s, "fraudstream_events_dead_lettered_total", { reason }), n, `reason ${reason}`);
    const flagged = await query<{ risk: string; n: string }>(
      db.url,
      "SELECT risk, count(*)::text AS n FROM transactions_scored WHERE risk IN ('HIGH', 'CRITICAL') GROUP BY risk",
    );
    for (const { risk, n } of flagged)
      assert.equal(total(s, "fraudstream_alerts_total", { risk }), Number(n), `alerts ${risk}`);
    assert.equal(total(s, "fraudstream_end_to_end_latency_seconds_count"), valid.length);
    assert.ok(total(s, "fraudstream_end_to_end_latency_seconds_sum") > 0);
    assert.equal(total(s, "fraudstream_batch_records_sum"), records.length);
    const batches = total(s, "fraudstream_batch_records_count");
    assert.ok(batches >= 4, `a batch per partition at least (${batches})`);
    assert.equal(total(s, "fraudstream_batch_duration_seconds_count"), batches);
    const last = total(s, "fraudstream_last_batch_timestamp_seconds");
    assert.ok(Math.abs(Date.now() / 1000 - last) < 120, "last batch is recent");
    assert.equal(s.filter((x) => x.name === "fraudstream_model_info" && x.value === 1).length, 1);

    // Lag is polled from the broker: every owned partition appears, and drains to zero.
    const lag = await scrapeUntil(
      port,
      (x) => {
        const series = x.filter((y) => y.name === "fraudstream_consumer_lag_records");
        return series.length === 4 && series.every((y) => y.value === 0);
      },
      "lag of 4 partitions, all 0",
      worker,
    );
    assert.deepEqual(
      lag
        .filter((y) => y.name === "fraudstream_consumer_lag_records")
        .map((y) => y.labels.partition)
        .sort(),
      ["0", "1", "2", "3"],
    );

    // A database failure in the middle of a write: hold a lock the write needs, terminate the worker's
    // blocked connection, release. The worker retries the batch and the failure is counted.
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE checkpoints IN ACCESS EXCLUSIVE MODE");
      // Old event times for users already seen: these become dead letters with reason "late".
      const more = makeRecords(200, 0, `${env.prefix}-late`);
      await produce(env, more);
      let terminated = 0;
      const deadline = Date.now() + 30_000;
      while (terminated === 0 && Date.now() < deadline) {
        const r = await locker.query<{ ok: boolean }>(
          `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        terminated = r.rows.filter((row) => row.ok).length;
        if (terminated === 0) await sleep(100);
      }
      assert.ok(terminated > 0, "a worker write blocked on the lock and was terminated");
      await locker.query("ROLLBACK");
      await waitForCheckpoints(env, records.length + more.length, { timeoutMs: 60_000, worker });
    } finally {
      await locker.end();
    }
    const e = await scrapeUntil(
      port,
      (x) => total(x, "fraudstream_errors_total", { operation: "write batch" }) >= 1,
      "the failed write to be counted",
      worker,
    );
    checked(await scrape(port), "after a database error");
    assert.ok(total(e, "fraudstream_retries_total", { operation: "write batch" }) >= 1);
    const codes = e.filter((x) => x.name === "fraudstream_errors_total").map((x) => x.labels.code);
    assert.ok(codes.includes("57P01"), `SQLSTATE 57P01 (admin_shutdown) of a terminated backend: ${codes}`);
    assert.equal(total(e, "fraudstream_events_dead_lettered_total", { reason: "late" }), 200);

    worker.child.kill("SIGTERM");
    assert.equal((await worker.exited).code, 0, worker.log().slice(-2000));
  });
});
