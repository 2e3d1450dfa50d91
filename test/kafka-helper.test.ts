// The Kafka test helper itself: a real broker (or a three-node quorum) that clients can produce to and
// consume from, that survives the loss of one node with acks=all, and that is gone after stop().
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  Admin,
  Consumer,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";
import { type KafkaCluster, startKafka, uniqueName } from "./helpers/kafka.ts";

function producer(kafka: KafkaCluster): Producer<string, string, string, string> {
  return new Producer({
    clientId: "helper-test",
    bootstrapBrokers: kafka.brokers,
    serializers: stringSerializers,
    // Retries after a broker loss resend whole requests; idempotence lets the brokers drop the repeats.
    idempotent: true,
    retries: 10,
    retryDelay: 300,
  });
}

async function produce(kafka: KafkaCluster, topic: string, values: string[]): Promise<void> {
  const p = producer(kafka);
  try {
    await p.send({
      acks: ProduceAcks.ALL,
      messages: values.map((value) => ({ topic, key: value, value })),
    });
  } finally {
    await p.close();
  }
}

/** Reads `count` values of `topic` from the earliest offset with a fresh consumer group. */
async function consume(kafka: KafkaCluster, topic: string, count: number): Promise<string[]> {
  const consumer = new Consumer({
    clientId: "helper-test",
    groupId: uniqueName("helper-test"),
    bootstrapBrokers: kafka.brokers,
    deserializers: stringDeserializers,
    retries: 10,
    retryDelay: 300,
  });
  const got: string[] = [];
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: "earliest",
      autocommit: false,
      maxWaitTime: 200,
      sessionTimeout: 6000,
      heartbeatInterval: 500,
    });
    const timer = setTimeout(() => stream.destroy(new Error(`only ${got.length}/${count} records`)), 20_000);
    try {
      for await (const m of stream) {
        got.push(m.value);
        if (got.length >= count) break;
      }
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.close(true);
  }
  return got.sort();
}

function portOpen(address: string): Promise<boolean> {
  const [host, port] = address.split(":");
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function values(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);
}

describe("test/helpers/kafka.ts", () => {
  it("starts one broker that serves produce and consume, and stop() removes it", async () => {
    const started = performance.now();
    const kafka = await startKafka();
    const startMs = performance.now() - started;
    try {
      assert.match(kafka.bootstrap, /^127\.0\.0\.1:\d+$/);
      assert.deepEqual(kafka.brokers, [kafka.bootstrap]);
      assert.ok(existsSync(kafka.dataDir), "the temporary data dir exists while running");
      const admin = new Admin({ clientId: "helper-test", bootstrapBrokers: kafka.brokers });
      try {
        await admin.createTopics({ topics: ["one"], partitions: 2, replicas: 1 });
      } finally {
        await admin.close();
      }
      const sent = values("one", 20);
      await produce(kafka, "one", sent);
      assert.deepEqual(await consume(kafka, "one", sent.length), sent);
    } finally {
      await kafka.stop();
    }
    assert.equal(await portOpen(kafka.bootstrap), false, "the broker's port is closed after stop()");
    assert.equal(existsSync(kafka.dataDir), false, "stop() removed the temporary data");
    process.stdout.write(`# one broker ready in ${Math.round(startMs)} ms\n`);
  });

  it("three brokers: acks=all keeps working with one broker killed, and it rejoins", async () => {
    const started = performance.now();
    const kafka = await startKafka({ brokers: 3 });
    const startMs = performance.now() - started;
    const admin = new Admin({ clientId: "helper-test", bootstrapBrokers: kafka.brokers });
    try {
      assert.equal(kafka.brokers.length, 3);
      assert.equal(new Set(kafka.brokers).size, 3);
      const meta = await admin.metadata({ topics: [] });
      assert.equal(meta.brokers.size, 3);

      await admin.createTopics({ topics: ["three"], partitions: 3, replicas: 3 });
      const before = values("before", 30);
      await produce(kafka, "three", before);

      await kafka.killBroker(0);
      assert.equal(await portOpen(kafka.brokers[0] ?? ""), false, "broker 0 is down after killBroker");
      const during = values("during", 30);
      // min.insync.replicas=2 with two live replicas: acks=all still succeeds.
      await produce(kafka, "three", during);
      assert.deepEqual(await consume(kafka, "three", 60), [...before, ...during]);

      await kafka.startBroker(0);
      // The restarted node catches up and rejoins every partition's ISR.
      const deadline = Date.now() + 20_000;
      let isr: number[][] = [];
      while (Date.now() < deadline) {
        const m = await admin.metadata({ topics: ["three"], forceUpdate: true });
        isr = m.topics.get("three")?.partitions.map((p) => p.isr) ?? [];
        if (isr.length === 3 && isr.every((r) => r.length === 3)) break;
        await sleep(250);
      }
      assert.deepEqual(
        isr.map((r) => r.length),
        [3, 3, 3],
        `ISR after restart: ${JSON.stringify(isr)}`,
      );
      const after = values("after", 10);
      await produce(kafka, "three", after);
      assert.deepEqual(await consume(kafka, "three", 70), [...after, ...before, ...during].sort());
    } finally {
      await admin.close();
      await kafka.stop();
    }
    for (const b of kafka.brokers) assert.equal(await portOpen(b), false, `${b} closed after stop()`);
    process.stdout.write(`# three brokers ready in ${Math.round(startMs)} ms\n`);
  });
});
