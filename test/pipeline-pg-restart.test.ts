// PostgreSQL stopped mid-stream and started again: the worker waits (it neither crashes nor skips),
// then finishes with every event exactly once. This stops the machine's real PostgreSQL cluster for a
// few seconds, so the file runs on its own (integration tests run one file at a time).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { makeRecords } from "./helpers/events.ts";
import { type KafkaCluster, startKafka } from "./helpers/kafka.ts";
import { createTestDatabase } from "./helpers/pg.ts";
import {
  dbCounts,
  killAllWorkers,
  type PipelineEnv,
  produce,
  startWorker,
  waitForCounts,
} from "./helpers/pipeline.ts";

const version = readdirSync("/etc/postgresql")[0];
const cluster = (action: "start" | "stop") =>
  execFileSync(
    "pg_ctlcluster",
    [
      "--skip-systemctl-redirect",
      String(version),
      "main",
      action,
      ...(action === "stop" ? ["-m", "fast"] : []),
    ],
    { stdio: "inherit" },
  );
const isUp = () => {
  try {
    execFileSync("pg_isready", ["-h", "127.0.0.1", "-p", "5432", "-q"]);
    return true;
  } catch {
    return false;
  }
};

let kafka: KafkaCluster;
before(async () => {
  kafka = await startKafka();
});
after(async () => {
  await killAllWorkers();
  if (!isUp()) cluster("start"); // never leave the machine without its database
  await kafka?.stop();
});

describe("PostgreSQL outage", () => {
  it("waits while the database is down and then finishes exactly once", async () => {
    const db = await createTestDatabase();
    const env: PipelineEnv = { brokers: kafka.bootstrap, databaseUrl: db.url, prefix: "outage" };
    const records = makeRecords(40_000, 0, "outage");
    try {
      await produce(env, records);
      const worker = startWorker(env);
      await waitForCounts(db.url, (c) => c.scored >= 4000, { timeoutMs: 60_000, worker, what: "first rows" });
      cluster("stop");
      assert.equal(isUp(), false);
      const during = Date.now();
      await sleep(5000);
      assert.equal(
        worker.child.exitCode,
        null,
        `the worker is still running; log:\n${worker.log().slice(-3000)}`,
      );
      cluster("start");
      for (let i = 0; i < 50 && !isUp(); i++) await sleep(200);
      await waitForCounts(db.url, (c) => c.scored >= records.length, {
        timeoutMs: 120_000,
        worker,
        what: "the rest",
      });
      await sleep(1000);
      worker.child.kill("SIGTERM");
      assert.equal((await worker.exited).code, 0);
      assert.deepEqual(await dbCounts(db.url), { scored: records.length, distinct: records.length, dead: 0 });
      // It waited and retried rather than skipping: the log shows retries during the outage.
      const retries = worker
        .log()
        .split("\n")
        .filter((l) => l.includes("transient failure; retrying"))
        .map((l) => Date.parse((JSON.parse(l) as { time: string }).time));
      assert.ok(retries.length > 0, "the worker logged its retries");
      assert.ok(
        retries.some((t) => t >= during),
        "retries happened during the outage",
      );
    } finally {
      if (!isUp()) cluster("start");
      await db.drop();
    }
  });
});
