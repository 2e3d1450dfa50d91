// Prometheus metrics (prom-client) of the worker and the demo. One registry per process; names follow
// Prometheus conventions: a `fraudstream_` prefix, base units in the name, `_total` for counters.
// ops/grafana's dashboards query these names, and test/grafana-dashboards.test.ts checks them against
// this registry. The API has its own registry (src/cli/api.ts, `fraudstream_api_` prefix): its HTTP
// metrics go there, not here.
import { createServer, type Server } from "node:http";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { BATCH_STAGES, type BatchStats } from "./batch.ts";

export interface PipelineMetrics {
  readonly registry: Registry;
  /** Records one committed batch. */
  observeBatch(stats: BatchStats): void;
  /**
   * Records a failure of a database or broker operation that the worker retries (a transient error,
   * or a checkpoint another worker moved), with the error when known.
   */
  observeRetry(what: string, err?: unknown): void;
  /** Marks which model and rule set decide (info metrics: value 1 for the active one). */
  setVersions(model: string, ruleSet: string, featureSet: string): void;
  /** Lag (records not yet processed) of one partition. */
  setLag(topic: string, partition: number, lag: number): void;
  /**
   * Lag of every partition of `topic` this worker owns, replacing the previous set: partitions it no
   * longer owns disappear, so that summing over workers counts each partition once.
   */
  setLags(topic: string, lags: ReadonlyMap<number, number>): void;
  /** Counts one webhook notification attempt: sent, or failed (it will be retried). */
  observeNotification(result: "sent" | "failed"): void;
}

/** Latency buckets in seconds: 1 ms … 30 s, dense where the p99 target (150 ms) lies. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30];

export function createPipelineMetrics(options: { defaultMetrics?: boolean } = {}): PipelineMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: "fraudstream_" });
    // prom-client exports these gauges with a `_total` suffix, which Prometheus reserves for counters
    // (`promtool check metrics` rejects them). They are only the sums over `type` of the unsuffixed
    // gauges, so sum(fraudstream_nodejs_active_handles) gives the same number.
    for (const name of ["active_handles_total", "active_requests_total", "active_resources_total"])
      registry.removeSingleMetric(`fraudstream_nodejs_${name}`);
  }
  const consumed = new Counter({
    name: "fraudstream_events_consumed_total",
    help: "Records consumed from the input topic and processed (scored, dead-lettered or late).",
    labelNames: ["partition"] as const,
    registers: [registry],
  });
  const scored = new Counter({
    name: "fraudstream_events_scored_total",
    help: "Events scored and stored in transactions_scored.",
    registers: [registry],
  });
  const deadLettered = new Counter({
    name: "fraudstream_events_dead_lettered_total",
    help: "Records set aside in the dead-letter topic and table, by reason.",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const alerts = new Counter({
    name: "fraudstream_alerts_total",
    help: "Flagged events (risk HIGH or CRITICAL), by risk level.",
    labelNames: ["risk"] as const,
    registers: [registry],
  });
  const skipped = new Counter({
    name: "fraudstream_events_redelivered_skipped_total",
    help: "Redelivered records skipped because the database already held them.",
    registers: [registry],
  });
  const duplicates = new Counter({
    name: "fraudstream_events_duplicate_total",
    help: "Transactions skipped because the same transaction (id and event time) was already stored.",
    registers: [registry],
  });
  const latency = new Histogram({
    name: "fraudstream_end_to_end_latency_seconds",
    help: "From the record's produce timestamp to the commit of its decision in the database.",
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: "fraudstream_batch_records",
    help: "Records per processed batch.",
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
    registers: [registry],
  });
  const batchDuration = new Histogram({
    name: "fraudstream_batch_duration_seconds",
    help: "Time to process and commit one batch.",
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const batchStage = new Histogram({
    name: "fraudstream_batch_stage_seconds",
    help: "Time of one batch in each stage: dedupe (lookup of stored ids), compute (parse, features, score, decide), send (output topics), write (database transaction), commit (broker offsets).",
    labelNames: ["stage"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const retries = new Counter({
    name: "fraudstream_retries_total",
    help: "Retries of transient failures (database or broker unavailable), by operation.",
    labelNames: ["operation"] as const,
    registers: [registry],
  });
  const notifications = new Counter({
    name: "fraudstream_notifications_total",
    help: "Webhook notifications of alerts: sent, or failed (each failure is retried with backoff).",
    labelNames: ["result"],
    registers: [registry],
  });
  const errors = new Counter({
    name: "fraudstream_errors_total",
    help: "Failed database or broker operations the worker retried, by operation and error code (SQLSTATE, errno or error name).",
    labelNames: ["operation", "code"] as const,
    registers: [registry],
  });
  const lastBatch = new Gauge({
    name: "fraudstream_last_batch_timestamp_seconds",
    help: "When this worker last committed a batch (Unix time); stalls show as a growing time() minus this.",
    registers: [registry],
  });
  const lag = new Gauge({
    name: "fraudstream_consumer_lag_records",
    help: "Records not yet processed in a partition this worker owns: end offset minus the group's committed offset.",
    labelNames: ["topic", "partition"] as const,
    registers: [registry],
  });
  const lagPartitions = new Map<string, Set<number>>();
  const modelInfo = new Gauge({
    name: "fraudstream_model_info",
    help: "The model, rule set and feature set deciding (value 1).",
    labelNames: ["model_version", "rule_set_version", "feature_set_version"] as const,
    registers: [registry],
  });

  return {
    registry,
    observeBatch(s) {
      consumed.inc({ partition: String(s.partition) }, s.records);
      scored.inc(s.scored);
      for (const [reason, n] of Object.entries(s.deadLettersByReason)) deadLettered.inc({ reason }, n);
      for (const [risk, n] of Object.entries(s.alertsByRisk)) alerts.inc({ risk }, n);
      if (s.skipped > 0) skipped.inc(s.skipped);
      if (s.duplicates > 0) duplicates.inc(s.duplicates);
      batchSize.observe(s.records);
      batchDuration.observe(s.durationMs / 1000);
      for (const stage of BATCH_STAGES) batchStage.observe({ stage }, s.stageMs[stage] / 1000);
      const now = Date.now();
      for (const t of s.producedAt) latency.observe(Math.max(0, now - t) / 1000);
      lastBatch.set(now / 1000);
    },
    observeNotification(result) {
      notifications.inc({ result });
    },
    observeRetry(what, err) {
      retries.inc({ operation: what });
      errors.inc({ operation: what, code: errorCode(err) });
    },
    setVersions(model, ruleSet, featureSet) {
      modelInfo.reset();
      modelInfo.set({ model_version: model, rule_set_version: ruleSet, feature_set_version: featureSet }, 1);
    },
    setLag(topic, partition, value) {
      lag.set({ topic, partition: String(partition) }, value);
    },
    setLags(topic, lags) {
      const previous = lagPartitions.get(topic) ?? new Set<number>();
      for (const p of previous) if (!lags.has(p)) lag.remove({ topic, partition: String(p) });
      for (const [p, value] of lags) lag.set({ topic, partition: String(p) }, value);
      lagPartitions.set(topic, new Set(lags.keys()));
    },
  };
}

/**
 * A bounded label value for an error: PostgreSQL's SQLSTATE or Node's errno code (`57P01`,
 * `ECONNREFUSED`), else the error's class name. Never the message, which would make one series per
 * distinct message.
 */
export function errorCode(err: unknown): string {
  if (typeof err !== "object" || err === null) return "unknown";
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && /^[A-Za-z0-9_]{1,40}$/.test(code)) return code;
  const name = (err as { name?: unknown }).name;
  if (typeof name === "string" && /^[A-Za-z0-9_]{1,60}$/.test(name)) return name;
  return "unknown";
}

/** Serves GET /metrics (and /healthz) on `port`; resolves once listening. Port 0 picks a free one. */
export async function serveMetrics(registry: Registry, port: number, host = "0.0.0.0"): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/metrics") {
      registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(text);
        })
        .catch((err: unknown) => {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(String(err));
        });
    } else if (req.method === "GET" && req.url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok\n");
    } else {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found: try /metrics\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
