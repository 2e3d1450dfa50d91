// The real Prometheus server (Debian's prometheus package) scrapes a running `fraudstream worker` with
// the job of ops/prometheus/prometheus.yml, and the metrics come back through its HTTP API: the scored
// count, and every PromQL expression of the Grafana dashboards, which must parse and return data.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { makeRecords } from "./helpers/events.ts";
import { allTargets, datasourceOf, expandPromVariables, loadDashboards, ROOT } from "./helpers/grafana.ts";
import { type KafkaCluster, startKafka, uniqueName } from "./helpers/kafka.ts";
import { createTestDatabase } from "./helpers/pg.ts";
import {
  freePort,
  killAllWorkers,
  type PipelineEnv,
  produce,
  query,
  startWorker,
  waitForCounts,
} from "./helpers/pipeline.ts";
import { type PrometheusServer, promtoolCheckConfig, startPrometheus } from "./helpers/prometheus.ts";

const SHIPPED = join(ROOT, "ops/prometheus/prometheus.yml");
const WORKER_JOB = "fraudstream-worker";

interface ScrapeConfig {
  job_name: string;
  [key: string]: unknown;
}

let kafka: KafkaCluster;
let db: { url: string; drop(): Promise<void> };
let prometheus: PrometheusServer | undefined;

before(async () => {
  kafka = await startKafka();
  db = await createTestDatabase();
});
after(async () => {
  await prometheus?.stop();
  await killAllWorkers();
  await kafka?.stop();
  await db?.drop();
});

/** Polls an instant query until `done` holds for its result. */
async function waitForQuery(
  expr: string,
  done: (r: Awaited<ReturnType<PrometheusServer["query"]>>) => boolean,
  timeoutMs = 30_000,
): Promise<Awaited<ReturnType<PrometheusServer["query"]>>> {
  const p = prometheus as PrometheusServer;
  const deadline = Date.now() + timeoutMs;
  let last: Awaited<ReturnType<PrometheusServer["query"]>> = [];
  while (Date.now() < deadline) {
    last = await p.query(expr);
    if (done(last)) return last;
    await sleep(250);
  }
  throw new Error(`timed out on ${expr}; last result ${JSON.stringify(last)}\nprometheus log:\n${p.log()}`);
}

describe("Prometheus scraping a worker", () => {
  it("ships a config promtool accepts", () => {
    assert.match(promtoolCheckConfig(SHIPPED), /SUCCESS/);
  });

  it("scrapes the worker and serves its metrics and every dashboard expression through the HTTP API", async () => {
    const env: PipelineEnv = {
      brokers: kafka.bootstrap,
      databaseUrl: db.url,
      prefix: uniqueName("prom"),
      partitions: 3,
      metricsPort: await freePort(),
    };
    const worker = startWorker(env);

    // The shipped config, with the worker job pointed at this worker instead of compose's DNS name and
    // a 1 s interval so that rates have samples within seconds.
    const shipped = parseYaml(readFileSync(SHIPPED, "utf8")) as {
      global?: Record<string, unknown>;
      scrape_configs: ScrapeConfig[];
    };
    const job = shipped.scrape_configs.find((j) => j.job_name === WORKER_JOB);
    assert.ok(job, `ops/prometheus/prometheus.yml has a ${WORKER_JOB} job`);
    const { dns_sd_configs: _dns, ...rest } = job;
    const config = {
      ...shipped,
      global: { ...shipped.global, scrape_interval: "1s", evaluation_interval: "1s" },
      scrape_configs: [{ ...rest, static_configs: [{ targets: [`127.0.0.1:${env.metricsPort}`] }] }],
    };
    prometheus = await startPrometheus(toYaml(config));

    const records = makeRecords(3000, 100, env.prefix);
    const valid = records.filter((r) => r.transactionId !== null).length;
    await produce(env, records);
    await waitForCounts(db.url, (c) => c.scored >= valid, {
      timeoutMs: 60_000,
      worker,
      what: "events scored",
    });

    const scored = await waitForQuery(
      `fraudstream_events_scored_total{job="${WORKER_JOB}"}`,
      (r) => Number(r[0]?.value[1]) === valid,
    );
    assert.equal(scored.length, 1);
    assert.equal(scored[0]?.metric.instance, `127.0.0.1:${env.metricsPort}`);
    const up = await prometheus.query(`up{job="${WORKER_JOB}"}`);
    assert.equal(up[0]?.value[1], "1");

    // Every expression of the dashboards parses on the real server, and returns data once a few
    // scrapes are in, except those that only have series after a failure.
    const onlyOnFailure = /fraudstream_errors_total|fraudstream_retries_total/;
    const flagged = Number(
      (
        await query<{ n: string }>(
          db.url,
          "SELECT count(*)::text AS n FROM transactions_scored WHERE risk IN ('HIGH', 'CRITICAL')",
        )
      )[0]?.n,
    );
    const expressions = allTargets(loadDashboards()).filter((q) => datasourceOf(q)?.type === "prometheus");
    assert.ok(expressions.length >= 10);
    const empty: string[] = [];
    const deadline = Date.now() + 30_000;
    for (const q of expressions) {
      const expr = expandPromVariables(q.target.expr as string, "30s");
      const mayBeEmpty =
        onlyOnFailure.test(expr) || (flagged === 0 && expr.includes("fraudstream_alerts_total"));
      for (;;) {
        const result = await prometheus.query(expr); // throws on a parse or evaluation error
        if (result.length > 0 || mayBeEmpty) break;
        if (Date.now() > deadline) {
          empty.push(`${q.where}: ${expr}`);
          break;
        }
        await sleep(500);
      }
    }
    assert.deepEqual(empty, [], "expressions without data");

    worker.child.kill("SIGTERM");
    assert.equal((await worker.exited).code, 0);
  });
});
