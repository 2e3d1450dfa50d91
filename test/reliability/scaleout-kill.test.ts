// Scale-out under failure, on the real broker and PostgreSQL: two workers share six partitions, one is
// SIGKILLed mid-stream, a replacement joins later. Every event must be stored exactly once, and every
// row's behavioural features must equal those of an uninterrupted single worker over the same input:
// the per-user state moved with the partitions through the checkpoints, nothing was recomputed from
// a cold start or counted twice.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createSimulator } from "../../src/simulate/index.ts";
import type { TestRecord } from "../helpers/events.ts";
import { type KafkaCluster, startKafka } from "../helpers/kafka.ts";
import { createTestDatabase } from "../helpers/pg.ts";
import {
  dbCounts,
  killAllWorkers,
  type PipelineEnv,
  produce,
  query,
  startWorker,
  waitForCheckpoints,
  waitForCounts,
} from "../helpers/pipeline.ts";

const EVENTS = 200_000;
const PARTITIONS = 6;

let kafka: KafkaCluster;
before(async () => {
  kafka = await startKafka();
});
after(async () => {
  await killAllWorkers();
  await kafka?.stop();
});

/** Simulated traffic (real behaviour: repeat users, travel, fraud bursts, a few late arrivals). */
function simulatedRecords(count: number): TestRecord[] {
  const sim = createSimulator({ users: 3000, seed: 7, fraudRate: 0.05, start: Date.UTC(2026, 10, 20) });
  const encoder = new TextEncoder();
  const out: TestRecord[] = [];
  for (let i = 0; i < count; i++) {
    const e = sim.next();
    out.push({
      key: e.user_id,
      value: encoder.encode(JSON.stringify(e)),
      transactionId: e.transaction_id,
      reason: null,
    });
  }
  return out;
}

/** transaction id → digest of its stored feature vector (jsonb text is canonical: sorted keys). */
async function featureDigests(url: string): Promise<Map<string, string>> {
  const rows = await query<{ id: string; d: string }>(
    url,
    "SELECT transaction_id AS id, md5(features::text) AS d FROM transactions_scored",
  );
  return new Map(rows.map((r) => [r.id, r.d]));
}

describe("two workers, one SIGKILLed, a replacement joins", () => {
  it("stores 200,000 events exactly once with the features of an uninterrupted run", async () => {
    const reference = await createTestDatabase();
    const scaled = await createTestDatabase();
    const records = simulatedRecords(EVENTS);
    // Both runs read the same topic (same records, same per-partition order) in their own groups.
    const refEnv: PipelineEnv = {
      brokers: kafka.bootstrap,
      databaseUrl: reference.url,
      prefix: "scale",
      partitions: PARTITIONS,
      group: "scale.reference",
    };
    const env: PipelineEnv = { ...refEnv, databaseUrl: scaled.url, group: "scale.workers" };
    try {
      await produce(env, records);

      const single = startWorker(refEnv);
      await waitForCheckpoints(refEnv, EVENTS, { timeoutMs: 300_000, worker: single });
      single.child.kill("SIGTERM");
      assert.equal((await single.exited).code, 0);
      const ref = await dbCounts(reference.url);
      // A few simulated late arrivals may exceed the allowed lateness; the rest is scored.
      assert.ok(ref.scored > EVENTS * 0.99, `reference run scored ${ref.scored}`);
      assert.equal(ref.distinct, ref.scored);
      assert.equal(ref.scored + ref.dead, EVENTS);

      const a = startWorker(env);
      const b = startWorker(env);
      await waitForCounts(scaled.url, (c) => c.scored >= 40_000, {
        timeoutMs: 120_000,
        worker: a,
        what: "both workers under way",
      });
      a.child.kill("SIGKILL");
      assert.equal((await a.exited).signal, "SIGKILL");
      const atKill = await dbCounts(scaled.url);
      assert.ok(atKill.scored < ref.scored, `killed mid-stream (${atKill.scored} of ${ref.scored})`);
      // The survivor takes the dead worker's partitions once its session expires; a replacement then
      // joins and the group rebalances again, moving partitions (and their state) a second time.
      await waitForCounts(scaled.url, (c) => c.scored >= atKill.scored + 30_000, {
        timeoutMs: 120_000,
        worker: b,
        what: "the survivor to go on",
      });
      const c = startWorker(env);
      await waitForCheckpoints(env, EVENTS, { timeoutMs: 300_000, worker: b });
      for (const w of [b, c]) w.child.kill("SIGTERM");
      assert.equal((await b.exited).code, 0, `survivor log:\n${b.log().slice(-3000)}`);
      assert.equal((await c.exited).code, 0, `replacement log:\n${c.log().slice(-3000)}`);
      assert.match(c.log(), /partitions assigned/, "the replacement took partitions over");

      assert.deepEqual(await dbCounts(scaled.url), ref);
      const want = await featureDigests(reference.url);
      const got = await featureDigests(scaled.url);
      assert.equal(got.size, want.size);
      const differing = [...want].filter(([id, d]) => got.get(id) !== d).map(([id]) => id);
      assert.deepEqual(differing.slice(0, 10), [], `${differing.length} rows with other features`);
    } finally {
      await reference.drop();
      await scaled.drop();
    }
  });
});
