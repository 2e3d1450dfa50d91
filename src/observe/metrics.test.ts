import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { createPipelineMetrics, serveMetrics } from "./metrics.ts";

const batch = {
  partition: 2,
  records: 10,
  scored: 7,
  deadLetters: 3,
  deadLettersByReason: { schema: 2, late: 1 },
  alerts: 2,
  alertsByRisk: { HIGH: 1, CRITICAL: 1 },
  skipped: 0,
  late: 1,
  duplicates: 2,
  durationMs: 40,
  stageMs: { dedupe: 3, compute: 12, send: 5, write: 18, commit: 2 },
  producedAt: Array.from({ length: 7 }, () => Date.now() - 120),
};

describe("pipeline metrics", () => {
  it("counts a batch under Prometheus names with base units", async () => {
    const m = createPipelineMetrics({ defaultMetrics: false });
    // Produced 120 ms before now, stamped here: module loading must not count as latency.
    const producedAt = Array.from({ length: 7 }, () => Date.now() - 120);
    m.observeBatch({ ...batch, producedAt });
    m.observeBatch({ ...batch, partition: 3, producedAt });
    m.observeRetry("write batch");
    m.setVersions("model-a", "rules-b", "fs-c");
    m.setLag("transactions_raw", 2, 42);
    const text = await m.registry.metrics();
    assert.match(text, /^fraudstream_events_consumed_total\{partition="2"\} 10$/m);
    assert.match(text, /^fraudstream_events_scored_total 14$/m);
    assert.match(text, /^fraudstream_events_dead_lettered_total\{reason="schema"\} 4$/m);
    assert.match(text, /^fraudstream_events_dead_lettered_total\{reason="late"\} 2$/m);
    assert.match(text, /^fraudstream_alerts_total\{risk="CRITICAL"\} 2$/m);
    assert.match(text, /^fraudstream_end_to_end_latency_seconds_count 14$/m);
    // 120 ms ago: not within 100 ms, within 150 ms.
    assert.match(text, /^fraudstream_end_to_end_latency_seconds_bucket\{le="0.1"\} 0$/m);
    assert.match(text, /^fraudstream_end_to_end_latency_seconds_bucket\{le="0.15"\} 14$/m);
    assert.match(text, /^fraudstream_events_duplicate_total 4$/m);
    assert.match(text, /^fraudstream_batch_stage_seconds_count\{stage="write"\} 2$/m);
    assert.match(text, /^fraudstream_batch_stage_seconds_sum\{stage="write"\} 0\.036$/m);
    assert.match(text, /^fraudstream_retries_total\{operation="write batch"\} 1$/m);
    assert.match(
      text,
      /^fraudstream_model_info\{model_version="model-a",rule_set_version="rules-b",feature_set_version="fs-c"\} 1$/m,
    );
    assert.match(text, /^fraudstream_consumer_lag_records\{topic="transactions_raw",partition="2"\} 42$/m);
    assert.match(text, /^fraudstream_last_batch_timestamp_seconds \d+(\.\d+)?$/m);
  });

  it("counts errors by operation and a bounded code, never the message", async () => {
    const m = createPipelineMetrics({ defaultMetrics: false });
    m.observeRetry("write batch", Object.assign(new Error("terminating connection"), { code: "57P01" }));
    m.observeRetry("write batch", Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
    m.observeRetry("send to output topics", new TypeError("some message with spaces"));
    m.observeRetry("migrate", "not an error object");
    const text = await m.registry.metrics();
    assert.match(text, /^fraudstream_errors_total\{operation="write batch",code="57P01"\} 1$/m);
    assert.match(text, /^fraudstream_errors_total\{operation="write batch",code="ECONNREFUSED"\} 1$/m);
    assert.match(text, /^fraudstream_errors_total\{operation="send to output topics",code="TypeError"\} 1$/m);
    assert.match(text, /^fraudstream_errors_total\{operation="migrate",code="unknown"\} 1$/m);
    assert.match(text, /^fraudstream_retries_total\{operation="write batch"\} 2$/m);
  });

  it("replaces the lag series of a topic: partitions no longer owned disappear", async () => {
    const m = createPipelineMetrics({ defaultMetrics: false });
    m.setLags(
      "raw",
      new Map([
        [0, 5],
        [1, 7],
      ]),
    );
    m.setLags(
      "raw",
      new Map([
        [1, 3],
        [2, 0],
      ]),
    );
    const text = await m.registry.metrics();
    assert.doesNotMatch(text, /partition="0"/);
    assert.match(text, /^fraudstream_consumer_lag_records\{topic="raw",partition="1"\} 3$/m);
    assert.match(text, /^fraudstream_consumer_lag_records\{topic="raw",partition="2"\} 0$/m);
  });

  it("serves /metrics and /healthz over HTTP", async () => {
    const m = createPipelineMetrics();
    const server = await serveMetrics(m.registry, 0, "127.0.0.1");
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
      assert.match(await res.text(), /fraudstream_process_cpu_seconds_total/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
    } finally {
      server.close();
    }
  });
});
