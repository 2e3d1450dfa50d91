import type { Command } from "commander";
import { loadConfig } from "../config/config.ts";
import {
  createKafkaSink,
  createKafkaSource,
  ensureTopics,
  isTransientKafkaError,
} from "../io/kafka/index.ts";
import { createPgStore, isTransientDbError } from "../io/pg/index.ts";
import { createLogger } from "../observe/logger.ts";
import { createPipelineMetrics, serveMetrics } from "../observe/metrics.ts";
import { startServing } from "../pipeline/serving.ts";
import { runWorker } from "../pipeline/worker.ts";
import { migrateWithRetry } from "./migrate-retry.ts";
import { requireServices, shutdownSignal } from "./options.ts";

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description("Consume transactions from Kafka, score and decide, write every event to PostgreSQL")
    .action(async () => {
      const config = loadConfig();
      const { brokers, databaseUrl } = requireServices(config, "worker");
      const logger = createLogger(config.logLevel, "worker");
      const signal = shutdownSignal((s) =>
        logger.info({ signal: s }, "stopping: finishing the batch in hand"),
      );
      // Served from the start, so that a worker waiting for the database is visible (and counted) too.
      const metrics = createPipelineMetrics();
      const metricsServer =
        config.metricsPort === 0 ? undefined : await serveMetrics(metrics.registry, config.metricsPort);
      if (metricsServer !== undefined) logger.info({ port: config.metricsPort }, "metrics on /metrics");
      // Closed in the outer finally, so that the process exits also when startup fails.
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
            await runWorker(
              {
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
                isTransientError: isTransientDbError,
                isTransientSinkError: isTransientKafkaError,
                logger,
                onBatch: (stats) => metrics.observeBatch(stats),
                onRetry: (what, err) => metrics.observeRetry(what, err),
              },
              signal,
            );
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
    });
}
