// Hot reload on the real broker and PostgreSQL: while a worker runs under a steady stream, promoting a
// model and then activating a rule set change its decisions within 5 s, without a restart and without
// losing or repeating an event.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { defaultRuleSet } from "../src/decide/defaults.ts";
import { createKafkaSink, ensureTopics } from "../src/io/kafka/index.ts";
import {
  createModelRegistry,
  createPgStore,
  createRuleSetRegistry,
  type PgStore,
} from "../src/io/pg/index.ts";
import { trainStarterModel } from "../src/offline/starter.ts";
import { makeRecords } from "./helpers/events.ts";
import { type KafkaCluster, startKafka } from "./helpers/kafka.ts";
import { createTestDatabase } from "./helpers/pg.ts";
import {
  dbCounts,
  killAllWorkers,
  type PipelineEnv,
  query,
  startWorker,
  waitForCheckpoints,
  workerEnv,
} from "./helpers/pipeline.ts";

const TOTAL = 30_000;
const PER_TICK = 500;
const TICK_MS = 200;

let kafka: KafkaCluster;
before(async () => {
  kafka = await startKafka();
});
after(async () => {
  await killAllWorkers();
  await kafka?.stop();
});

/** Polls until `sql` returns a row with a non-null `t` (a timestamp), or fails after `ms`. */
async function firstTime(url: string, sql: string, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const t = (await query<{ t: Date | null }>(url, sql))[0]?.t;
      if (t != null) return new Date(t).getTime();
    } catch (err) {
      // Before the worker's first migration the tables do not exist yet.
      if ((err as { code?: string }).code !== "42P01") throw err;
    }
    await sleep(100);
  }
  throw new Error(`nothing for: ${sql}`);
}

describe("hot reload", () => {
  it("a promoted model and an activated rule set decide within 5 s, no restart, nothing lost", async () => {
    const db = await createTestDatabase();
    const env: PipelineEnv = { brokers: kafka.bootstrap, databaseUrl: db.url, prefix: "reload" };
    const topic = workerEnv(env).FRAUDSTREAM_TOPIC_RAW as string;
    await ensureTopics({
      brokers: [kafka.bootstrap],
      clientId: "t",
      topics: [topic],
      partitions: 4,
      replication: 1,
    });
    const records = makeRecords(TOTAL, 0, "reload");
    const sink = await createKafkaSink({ brokers: [kafka.bootstrap], clientId: "reload-producer" });
    let store: PgStore | undefined;
    let producing: Promise<void> | undefined;
    try {
      const worker = startWorker({ ...env });
      worker.child.stdout?.resume();
      // A steady stream for the whole test: 2,500 events/s.
      producing = (async () => {
        for (let i = 0; i < TOTAL; i += PER_TICK) {
          await sink.send(records.slice(i, i + PER_TICK).map((r) => ({ topic, key: r.key, value: r.value })));
          await sleep(TICK_MS);
        }
      })();
      await firstTime(db.url, "SELECT min(processed_at) AS t FROM transactions_scored", 60_000);
      store = await createPgStore({ url: db.url });
      const before = await query<{ model_version: string; rule_set_version: string }>(
        db.url,
        "SELECT DISTINCT model_version, rule_set_version FROM transactions_scored",
      );
      assert.deepEqual(
        before.map((r) => r.rule_set_version),
        [defaultRuleSet().version],
        "the shipped default rule set decides while none is active",
      );

      const modelFile = trainStarterModel({
        events: 5000,
        users: 300,
        seed: 11,
        allowedLatenessMs: 300_000,
        stateTtlMs: 2_592_000_000,
        trainedAt: new Date().toISOString(),
      });
      const models = createModelRegistry(store.db);
      const model = JSON.parse(modelFile) as { modelVersion: string; featureNames: string[] };
      await models.register({
        id: model.modelVersion,
        kind: "isolation_forest",
        featureSetVersion: "any",
        featureNames: model.featureNames,
        body: modelFile,
        registeredBy: "test",
      });
      const promotedAt = Date.now();
      await models.promote(model.modelVersion, "test");
      const modelSeen = await firstTime(
        db.url,
        `SELECT min(processed_at) AS t FROM transactions_scored WHERE model_version = '${model.modelVersion}'`,
        15_000,
      );
      assert.ok(
        modelSeen - promotedAt < 5000,
        `the model decided ${modelSeen - promotedAt} ms after its promotion`,
      );

      // A rule set that sends every payment to review: a change no one can miss.
      const rules = createRuleSetRegistry(store.db);
      const strict = {
        ...defaultRuleSet(),
        version: "test-review-all-1",
        rules: [
          ...defaultRuleSet().rules,
          {
            id: "review_everything",
            description: "Every payment goes to review",
            when: { field: "event.amount", op: ">", value: 0 },
            weight: 0,
            decision: "REVIEW",
            enabled: true,
          },
        ],
      };
      await rules.register(strict as ReturnType<typeof defaultRuleSet>, "test");
      const activatedAt = Date.now();
      await rules.activate(strict.version, "test");
      const rulesSeen = await firstTime(
        db.url,
        `SELECT min(processed_at) AS t FROM transactions_scored WHERE rule_set_version = '${strict.version}'`,
        15_000,
      );
      assert.ok(
        rulesSeen - activatedAt < 5000,
        `the rule set decided ${rulesSeen - activatedAt} ms after activation`,
      );
      const afterRules = await query<{ decision: string; n: string }>(
        db.url,
        `SELECT decision, count(*)::text AS n FROM transactions_scored
          WHERE rule_set_version = '${strict.version}' GROUP BY 1`,
      );
      assert.ok(
        afterRules.every((r) => r.decision !== "APPROVE"),
        JSON.stringify(afterRules),
      );

      await producing;
      await waitForCheckpoints(env, TOTAL, { timeoutMs: 120_000, worker });
      assert.equal(worker.child.exitCode, null, "the worker never restarted");
      assert.deepEqual(await dbCounts(db.url), { scored: TOTAL, distinct: TOTAL, dead: 0 });
      worker.child.kill("SIGTERM");
      assert.equal((await worker.exited).code, 0);
    } finally {
      await producing?.catch(() => undefined);
      await sink.close();
      await store?.close();
      await db.drop();
    }
  });
});
