import type { Command } from "commander";
import { loadConfig } from "../config/config.ts";
import { compileRuleSet } from "../decide/compile.ts";
import { defaultRuleSet } from "../decide/defaults.ts";
import { servedRules, servingRules } from "../decide/serving.ts";
import { FEATURE_SET_VERSION } from "../features/registry.ts";
import {
  createKafkaSink,
  createKafkaSource,
  ensureTopics,
  isTransientKafkaError,
} from "../io/kafka/index.ts";
import {
  createModelRegistry,
  createPgStore,
  createRuleSetRegistry,
  isTransientDbError,
} from "../io/pg/index.ts";
import { createOutbox } from "../io/pg/outbox.ts";
import { postJson } from "../io/webhook/index.ts";
import { createProvisionalScorer } from "../model/provisional-scorer.ts";
import { servingScorer } from "../model/serving.ts";
import { createLogger } from "../observe/logger.ts";
import { createPipelineMetrics, serveMetrics } from "../observe/metrics.ts";
import { startNotifier } from "../pipeline/notifier.ts";
import { createModelReloader, createReloader } from "../pipeline/reload.ts";
import { retryTransient } from "../pipeline/retry.ts";
import { runWorker } from "../pipeline/worker.ts";
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
          await retryTransient(() => store.migrate(), {
            isTransient: isTransientDbError,
            signal,
            maxDelayMs: config.dbRetryMaxMs,
            onRetry: (err, attempt) => {
              metrics.observeRetry("migrate", err);
              logger.warn({ err, attempt }, "database unavailable at start; retrying");
            },
          });
          const clientId = `${config.clientId}-worker`;
          await ensureTopics({
            brokers,
            clientId,
            topics: [config.topicRaw, config.topicFeatures, config.topicAnomalies, config.topicDlq],
            partitions: config.topicPartitions,
            replication: config.topicReplication,
          });
          // The active model and rule set of the registry, hot-reloaded; while none is active, the
          // provisional scorer and the default rule set shipped with this build.
          const versions = () =>
            metrics.setVersions(scorer.current.version, rules.current.version, FEATURE_SET_VERSION);
          const scorer = createModelReloader({
            source: createModelRegistry(store.db),
            build: (_id, body) => servingScorer(body),
            fallback: createProvisionalScorer(),
            intervalMs: config.reloadMs,
            logger,
            onSwap: () => versions(),
          });
          const rules = createReloader({
            what: "rule set",
            source: createRuleSetRegistry(store.db),
            build: servingRules,
            fallback: servedRules(compileRuleSet(defaultRuleSet())),
            intervalMs: config.reloadMs,
            logger,
            onSwap: () => versions(),
          });
          await Promise.all([scorer.refresh(), rules.refresh()]);
          versions();
          scorer.start();
          rules.start();
          // Alerts to the webhook from the alerts table (an outbox), beside the stream, never in its way.
          const notifier =
            config.webhookUrl === undefined
              ? undefined
              : startNotifier({
                  outbox: createOutbox(store.db),
                  post: (payload) => postJson(config.webhookUrl as string, payload, config.webhookTimeoutMs),
                  risks: config.webhookRisks,
                  pollMs: 500,
                  retryBaseMs: 1000,
                  maxRetryMs: 60_000,
                  logger,
                  onResult: (r) => metrics.observeNotification(r),
                });
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
                scorer,
                rules,
                isTransientError: isTransientDbError,
                isTransientSinkError: isTransientKafkaError,
                logger,
                onBatch: (stats) => metrics.observeBatch(stats),
                onRetry: (what, err) => metrics.observeRetry(what, err),
              },
              signal,
            );
          } finally {
            scorer.stop();
            rules.stop();
            await notifier?.stop();
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
