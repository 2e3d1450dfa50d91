import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ConfigError, loadConfig, renderConfigTable } from "./config.ts";

describe("loadConfig", () => {
  it("uses the defaults when nothing is set", () => {
    const c = loadConfig({});
    assert.equal(c.topicRaw, "transactions_raw");
    assert.equal(c.consumerGroup, "fraudstream-worker");
    assert.equal(c.topicPartitions, 6);
    assert.equal(c.kafkaBrokers, undefined);
    assert.equal(c.databaseUrl, undefined);
  });

  it("reads and types the environment", () => {
    const c = loadConfig({
      KAFKA_BROKERS: "127.0.0.1:9092, 127.0.0.1:9093",
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/x",
      FRAUDSTREAM_TOPIC_PARTITIONS: "12",
      FRAUDSTREAM_LOG_LEVEL: "debug",
    });
    assert.deepEqual(c.kafkaBrokers, ["127.0.0.1:9092", "127.0.0.1:9093"]);
    assert.equal(c.topicPartitions, 12);
    assert.equal(c.logLevel, "debug");
  });

  it("lets flags win over the environment", () => {
    assert.equal(loadConfig({ FRAUDSTREAM_PORT: "9000" }, { port: 7000 }).port, 7000);
    assert.equal(loadConfig({ FRAUDSTREAM_PORT: "9000" }, { port: undefined }).port, 9000);
  });

  it("names every bad setting in one error", () => {
    assert.throws(
      () =>
        loadConfig({
          FRAUDSTREAM_TOPIC_PARTITIONS: "zero",
          KAFKA_BROKERS: "localhost",
          DATABASE_URL: "mysql://x",
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /FRAUDSTREAM_TOPIC_PARTITIONS="zero"/);
        assert.match(err.message, /KAFKA_BROKERS="localhost": each broker must be host:port/);
        assert.match(err.message, /DATABASE_URL="mysql:\/\/x"/);
        return true;
      },
    );
    assert.throws(() => loadConfig({ FRAUDSTREAM_TOPIC_RAW: "bad topic!" }), /FRAUDSTREAM_TOPIC_RAW/);
    assert.throws(() => loadConfig({ FRAUDSTREAM_LOG_LEVEL: "loud" }), /FRAUDSTREAM_LOG_LEVEL/);
  });
});

describe("README configuration table", () => {
  it("is in step with the config schema", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const start = readme.indexOf("<!-- config-table:start -->");
    const end = readme.indexOf("<!-- config-table:end -->");
    assert.ok(start >= 0 && end > start, "README.md lacks the config-table markers");
    const table = readme.slice(start + "<!-- config-table:start -->".length, end);
    // Compared cell by cell: the formatter pads the columns of Markdown tables.
    assert.deepEqual(cells(table), cells(renderConfigTable()), "regenerate with: node tools/render-docs.ts");
  });
});

function cells(markdown: string): string[][] {
  return markdown
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("|") && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
}
