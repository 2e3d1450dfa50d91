// `fraudstream demo`: the whole product in one process with no services. The simulator produces into
// the in-process log, the real worker loop consumes it, and PGlite (PostgreSQL in WebAssembly) stores
// the decisions. On stop it drains: it stops producing, lets the worker finish what was produced, and
// reports counts read back from the database.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { buildApi } from "../api/server.ts";
import type { Config } from "../config/config.ts";
import { defaultRuleSet } from "../decide/defaults.ts";
import { FEATURE_SET_VERSION } from "../features/registry.ts";
import { createEmbeddedSink, createEmbeddedSource, InProcessLog } from "../io/embedded/log.ts";
import { createModelRegistry, createPgliteStore, createRuleSetRegistry } from "../io/pg/index.ts";
import { servingScorer } from "../model/serving.ts";
import { createLogger, type Logger } from "../observe/logger.ts";
import { createPipelineMetrics } from "../observe/metrics.ts";
import { trainStarterModel } from "../offline/starter.ts";
import type { OutboundMessage } from "../pipeline/ports.ts";
import { runWorker } from "../pipeline/worker.ts";
import { createSimulator } from "../simulate/index.ts";
import { startServing } from "./serving.ts";
import { workerOptions } from "./worker.ts";

export interface DemoOptions {
  /** Stop after this many seconds; undefined = until the signal aborts. */
  durationS: number | undefined;
  /** Events per second produced, paced in real time. */
  rate: number;
  users: number;
  seed: number;
  fraudRate: number;
  /** Serve the API and dashboard on config.port (0 picks a free port); off when false. */
  serveApi?: boolean;
  /** Told where the dashboard is and which key opens it, once it listens. */
  onListening?(info: { url: string; adminKey: string }): void;
}

export interface DemoSummary {
  produced: number;
  scored: number;
  alerts: number;
  dead_letters: number;
}

const TICK_MS = 50;

export async function runDemo(
  opts: DemoOptions,
  config: Config,
  logger: Logger,
  signal: AbortSignal,
): Promise<DemoSummary> {
  const log = new InProcessLog(config.topicPartitions);
  for (const t of [config.topicRaw, config.topicDlq, config.topicAnomalies, config.topicFeatures])
    log.createTopic(t);
  const store = await createPgliteStore({ partitionDaysAhead: config.partitionDaysAhead });
  await store.migrate();
  const sink = createEmbeddedSink(log);
  const metrics = createPipelineMetrics();

  // A real model from the first event: trained on other simulated traffic (another seed), registered
  // and promoted like any model, and hot-reloaded like in a worker, so promoting another one through
  // the API takes effect here too.
  const registry = createModelRegistry(store.db);
  const starter = trainStarterModel({
    events: 30_000,
    users: opts.users,
    seed: opts.seed + 1,
    allowedLatenessMs: config.allowedLatenessMs,
    stateTtlMs: config.stateTtlMs,
    trainedAt: new Date().toISOString(),
  });
  const starterModel = servingScorer(starter);
  await registry.register({
    id: starterModel.version,
    kind: "isolation_forest",
    featureSetVersion: FEATURE_SET_VERSION,
    featureNames: starterModel.featureNames,
    body: starter,
    params: starterModel.model.params,
    metrics: (JSON.parse(starter) as { metrics: Record<string, unknown> | null }).metrics,
    registeredBy: "demo",
  });
  await registry.promote(starterModel.version, "demo", "starter model trained on simulated traffic");
  // The default rule set, activated like any rule set: one activated through the API replaces it.
  const ruleSets = createRuleSetRegistry(store.db);
  const defaults = defaultRuleSet();
  await ruleSets.register(defaults, "demo");
  await ruleSets.activate(defaults.version, "demo");
  const serving = await startServing({ db: store.db, config, logger, metrics });

  // The API and dashboard over the same PGlite database; the worker's metrics on its /metrics.
  let api: Awaited<ReturnType<typeof buildApi>> | undefined;
  if (opts.serveApi ?? true) {
    const adminKey = randomBytes(18).toString("base64url");
    api = await buildApi({
      db: store.db,
      keys: [...(config.apiKeys ?? []), { role: "admin", key: adminKey }],
      corsOrigins: config.corsOrigins,
      rateLimitPerMinute: config.rateLimitPerMinute,
      logger: createLogger(config.logLevel, "api"),
      metrics: metrics.registry,
    });
    const url = await api.listen({ port: config.port, host: "127.0.0.1" });
    opts.onListening?.({ url, adminKey });
  }

  const stopWorker = new AbortController();
  const worker = runWorker(
    workerOptions(config, {
      openSource: (listener) =>
        createEmbeddedSource(log, {
          group: config.consumerGroup,
          topic: config.topicRaw,
          maxRecords: config.batchMaxRecords,
          maxWaitMs: config.batchMaxWaitMs,
          listener,
        }),
      sink,
      store,
      scorer: serving.scorer,
      rules: serving.rules,
      logger: createLogger(config.logLevel, "worker"),
      metrics,
    }),
    stopWorker.signal,
  );
  // A worker that dies must stop the demo rather than let it produce into the void.
  const workerFailed = worker.then(
    () => undefined,
    (err: unknown) => err,
  );

  const simulator = createSimulator({
    users: opts.users,
    seed: opts.seed,
    fraudRate: opts.fraudRate,
    start: Date.now(),
  });
  const started = performance.now();
  const deadline = opts.durationS === undefined ? Number.POSITIVE_INFINITY : started + opts.durationS * 1000;
  let produced = 0;
  logger.info({ rate: opts.rate, durationS: opts.durationS ?? null }, "demo producing");
  while (!signal.aborted && performance.now() < deadline) {
    const due = Math.floor(((performance.now() - started) / 1000) * opts.rate);
    if (due > produced) {
      const messages: OutboundMessage[] = [];
      for (; produced < due; produced++) {
        const event = simulator.next();
        messages.push({ topic: config.topicRaw, key: event.user_id, value: JSON.stringify(event) });
      }
      await sink.send(messages);
    }
    const failure = await Promise.race([workerFailed, sleep(TICK_MS).then(() => "running" as const)]);
    if (failure !== "running") throw failure ?? new Error("worker stopped unexpectedly");
  }

  // Drain: wait until the worker has committed everything produced (or it fails).
  logger.info({ produced }, "demo draining");
  while (log.lag(config.consumerGroup, config.topicRaw) > 0n) {
    const failure = await Promise.race([workerFailed, sleep(TICK_MS).then(() => "running" as const)]);
    if (failure !== "running") throw failure ?? new Error("worker stopped unexpectedly");
  }
  stopWorker.abort();
  await worker;
  await serving.stop();
  await api?.close();

  const counts = await store.db.query<{ scored: string; alerts: string; dead_letters: string }>(
    `SELECT (SELECT count(*) FROM transactions_scored) AS scored,
            (SELECT count(*) FROM transactions_scored WHERE risk IN ('HIGH', 'CRITICAL')) AS alerts,
            (SELECT count(*) FROM dead_letters) AS dead_letters`,
  );
  await store.close();
  const row = counts.rows[0];
  return {
    produced,
    scored: Number(row?.scored ?? 0),
    alerts: Number(row?.alerts ?? 0),
    dead_letters: Number(row?.dead_letters ?? 0),
  };
}
