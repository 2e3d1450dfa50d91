// The composition root of a worker: configuration and adapters in, a running worker out. The CLI's
// `fraudstream worker` (Kafka + PostgreSQL), the demo (in-process log + PGlite) and the tests all
// assemble theirs here, so the wiring exists once.
import type { Config } from "../config/config.ts";
import {
  createKafkaSink,
  createKafkaSource,
  ensureTopics,
  isTransientKafkaError,
} from "../io/kafka/index.ts";
import { createPgStore, isTransientDbError } from "../io/pg/index.ts";
import type { Logger } from "../observe/logger.ts";
import { createPipelineMetrics, type PipelineMetrics, serveMetrics } from "../observe/metrics.ts";
import type { AssignmentListener, Sink, Source, Store } from "../pipeline/ports.ts";
import { runWorker, type WorkerOptions, type WorkerTotals } from "../pipeline/worker.ts";
import { migrateWithRetry } from "./migrate.ts";
import { startServing } from "./serving.ts";

/** What a worker reads and writes through, and what it decides with. */
export interface WorkerParts {
  openSource(listener: AssignmentListener): Promise<Source>;
  sink: Sink;
  store: Store;
  scorer: WorkerOptions["scorer"];
  rules: WorkerOptions["rules"];
  logger: Logger;
  /** Counts batches and retries when given. */
  metrics?: PipelineMetrics;
  /** Default: nothing is transient (the in-process log and PGlite do not fail over). */
  isTransientError?(err: unknown): boolean;
  isTransientSinkError?(err: unknown): boolean;
}

/** The worker's options: topics and limits from the configuration, everything else from `parts`. */
export function workerOptions(config: Config, parts: WorkerParts): WorkerOptions {
  const { metrics } = parts;
  return {
    group: config.consumerGroup,
    topic: config.topicRaw,
    dlqTopic: config.topicDlq,
    anomaliesTopic: config.topicAnomalies,
    featuresTopic: config.topicFeatures,
    allowedLatenessMs: config.allowedLatenessMs,
    stateTtlMs: config.stateTtlMs,
    maxEventBytes: config.maxEventBytes,
    maxInFlight: config.workerConcurrency,
    dbRetryMaxMs: config.dbRetryMaxMs,
    openSource: parts.openSource,
    sink: parts.sink,
    store: parts.store,
    scorer: parts.scorer,
    rules: parts.rules,
    isTransientError: parts.isTransientError ?? (() => false),
    isTransientSinkError: parts.isTransientSinkError ?? (() => false),
    logger: parts.logger,
    ...(metrics === undefined
      ? {}
      : {
          onBatch: (stats) => metrics.observeBatch(stats),
          onRetry: (what, err) => metrics.observeRetry(what, err),
        }),
  };
}

/**
 * `fraudstream worker`: Kafka in and out, PostgreSQL for rows, state and checkpoints, the registry's
 * model and rules hot-reloaded, metrics served from the start (a worker waiting for its database is
 * visible too). Runs until `signal` aborts.
 */
export async function runKafkaWorker(
  config: Config,
  services: { brokers: string[]; databaseUrl: string },
  logger: Logger,
  signal: AbortSignal,
): Promise<WorkerTotals> {
  const { brokers, databaseUrl } = services;
  const metrics = createPipelineMetrics();
  const metricsServer =
    config.metricsPort === 0 ? undefined : await serveMetrics(metrics.registry, config.metricsPort);
  if (metricsServer !== undefined) logger.info({ port: config.metricsPort }, "metrics on /metrics");
  try {
    const store = await createPgStore({
      url: databaseUrl,
      partitionDaysAhead: config.partitionDaysAhead,
      logger,
    });
    try {
      // Applied at every start (safe to run concurrently); waits for the database like everything else.
      await migrateWithRetry(store, {
        signal,
        maxDelayMs: config.dbRetryMaxMs,
        logger,
        onRetry: (err) => metrics.observeRetry("migrate", err),
      });
      const clientId = `${config.clientId}-worker`;
      await ensureTopics({
        brokers,
        clientId,
        topics: [config.topicRaw, config.topicFeatures, config.topicAnomalies, config.topicDlq],
        partitions: config.topicPartitions,
        replication: config.topicReplication,
      });
      const serving = await startServing({ db: store.db, config, logger, metrics });
      const sink = await createKafkaSink({ brokers, clientId });
      try {
        const parts: WorkerParts = {
          openSource: (listener) =>
            createKafkaSource({
              brokers,
              clientId,
              groupId: config.consumerGroup,
              topic: config.topicRaw,
              maxRecords: config.batchMaxRecords,
              maxWaitMs: config.batchMaxWaitMs,
              listener,
              logger,
              onLag: (topic, lag) => metrics.setLags(topic, lag),
            }),
          sink,
          store,
          scorer: serving.scorer,
          rules: serving.rules,
          logger,
          metrics,
          isTransientError: isTransientDbError,
          isTransientSinkError: isTransientKafkaError,
        };
        return await runWorker(workerOptions(config, parts), signal);
      } finally {
        await serving.stop();
        await sink.close();
      }
    } finally {
      await store.close();
    }
  } finally {
    metricsServer?.close();
  }
}
