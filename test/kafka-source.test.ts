// The Kafka adapter (src/io/kafka) against a real broker: per-partition batches in offset order,
// resumption from committed offsets, assignment changes announced before records of a new
// generation, output messages with keys and headers.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { murmur2 } from "@platformatic/kafka";
import {
  createKafkaSink,
  createKafkaSource,
  ensureTopics,
  isTransientKafkaError,
} from "../src/io/kafka/index.ts";
import type { AssignmentListener, Source, SourceBatch } from "../src/pipeline/ports.ts";
import { type KafkaCluster, startKafka } from "./helpers/kafka.ts";
import { readTopic } from "./helpers/pipeline.ts";

let kafka: KafkaCluster;
let brokers: string[];
before(async () => {
  kafka = await startKafka();
  brokers = kafka.bootstrap.split(",");
});
after(async () => {
  await kafka?.stop();
});

interface Member {
  source: Source;
  owned: Set<number>;
  events: string[];
  records: Map<number, bigint[]>;
  stop: AbortController;
  loop: Promise<void>;
}

async function join(
  topic: string,
  group: string,
  opts: { commit: boolean; idlePullMs?: number },
): Promise<Member> {
  const owned = new Set<number>();
  const events: string[] = [];
  const records = new Map<number, bigint[]>();
  const listener: AssignmentListener = {
    onAssigned(_t, ps) {
      events.push(`+${ps.join(",")}`);
      for (const p of ps) owned.add(p);
    },
    onRevoked(_t, ps) {
      events.push(`-${ps.join(",")}`);
      for (const p of ps) owned.delete(p);
    },
  };
  const source = await createKafkaSource({
    brokers,
    clientId: "test",
    groupId: group,
    topic,
    maxRecords: 300,
    maxWaitMs: 50,
    listener,
    sessionTimeoutMs: 6000,
    ...(opts.idlePullMs === undefined ? {} : { idlePullMs: opts.idlePullMs }),
  });
  const stop = new AbortController();
  const member: Member = { source, owned, events, records, stop, loop: Promise.resolve() };
  member.loop = (async () => {
    for await (const batch of source.batches(stop.signal)) {
      check(batch, owned);
      const list = records.get(batch.partition) ?? [];
      for (const r of batch.records) list.push(r.offset);
      records.set(batch.partition, list);
      const last = batch.records[batch.records.length - 1];
      if (opts.commit && last !== undefined)
        await source.commit([{ topic, partition: batch.partition, offset: last.offset + 1n }]);
    }
  })();
  return member;
}

function check(batch: SourceBatch, owned: Set<number>): void {
  assert.ok(owned.has(batch.partition), `batch of partition ${batch.partition} arrived while not owned`);
  for (let i = 1; i < batch.records.length; i++)
    assert.ok((batch.records[i]?.offset ?? 0n) > (batch.records[i - 1]?.offset ?? 0n), "offsets ascend");
  for (const r of batch.records) assert.equal(r.partition, batch.partition);
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const total = (m: Member) => [...m.records.values()].reduce((n, l) => n + l.length, 0);

describe("Kafka adapter", () => {
  it("creates missing topics once and leaves existing ones", async () => {
    const created = await ensureTopics({
      brokers,
      clientId: "t",
      topics: ["a1", "a2"],
      partitions: 3,
      replication: 1,
    });
    assert.deepEqual(created, ["a1", "a2"]);
    const again = await ensureTopics({
      brokers,
      clientId: "t",
      topics: ["a1", "a2", "a3"],
      partitions: 3,
      replication: 1,
    });
    assert.deepEqual(again, ["a3"]);
    await assert.rejects(
      ensureTopics({ brokers, clientId: "t", topics: ["a4"], partitions: 1, replication: 3 }),
      /could not create Kafka topics a4 \(1 partitions, replication 3\)/,
    );
  });

  it("sends keyed messages with headers, partitioned like the Java client", async () => {
    await ensureTopics({ brokers, clientId: "t", topics: ["out"], partitions: 4, replication: 1 });
    const sink = await createKafkaSink({ brokers, clientId: "t" });
    await sink.send([
      { topic: "out", key: "user-1", value: "one", headers: { "x-a": "1" } },
      { topic: "out", key: "user-1", value: new Uint8Array([0xff, 0x00]), headers: {} },
      { topic: "out", key: null, value: "no key" },
    ]);
    await sink.close();
    const got = await readTopic(kafka.bootstrap, "out", 3);
    assert.equal(got.length, 3);
    const keyed = got.filter(
      (m) => m.value.toString() === "one" || m.value.equals(Buffer.from([0xff, 0x00])),
    );
    assert.equal(keyed.length, 2);
    assert.equal(keyed[0]?.partition, keyed[1]?.partition, "same key, same partition");
    // Java's default partitioner: (murmur2(key) & 0x7fffffff) % partitions; murmur2 checked against
    // the vectors of Kafka's own UtilsTest.
    assert.equal(murmur2(Buffer.from("21")), -973932308);
    assert.equal(murmur2(Buffer.from("foobar")), -790332482);
    assert.equal(keyed[0]?.partition, (murmur2(Buffer.from("user-1")) & 0x7fffffff) % 4);
    assert.equal(keyed.find((m) => m.value.toString() === "one")?.headers.get("x-a"), "1");
  });

  it("splits large sends under the broker's request limit, and calls a refused message permanent", async () => {
    await ensureTopics({ brokers, clientId: "t", topics: ["big"], partitions: 1, replication: 1 });
    const sink = await createKafkaSink({ brokers, clientId: "t" });
    // 3,000 × 1 KB = 3 MB in one call: more than one produce request may carry (1 MiB by default).
    const value = "x".repeat(1000);
    await sink.send(Array.from({ length: 3000 }, (_, i) => ({ topic: "big", key: `k${i}`, value })));
    assert.equal((await readTopic(kafka.bootstrap, "big", 3000)).length, 3000);
    // One message over the broker's limit: refused, and no retry can change that.
    const err = await sink.send([{ topic: "big", key: "k", value: "y".repeat(1_200_000) }]).then(
      () => null,
      (e: unknown) => e,
    );
    await sink.close();
    assert.ok(err !== null, "the broker refused it");
    assert.equal(isTransientKafkaError(err), false);
    assert.equal(isTransientKafkaError(new Error("connect ECONNREFUSED")), true);
  });

  it("hands out ordered per-partition batches and resumes after the committed offset", async () => {
    await ensureTopics({ brokers, clientId: "t", topics: ["in1"], partitions: 3, replication: 1 });
    const sink = await createKafkaSink({ brokers, clientId: "t" });
    await sink.send(
      Array.from({ length: 3000 }, (_, i) => ({ topic: "in1", key: `k${i % 50}`, value: `v${i}` })),
    );
    const a = await join("in1", "g1", { commit: true });
    await until(() => total(a) === 3000, 30_000, "3000 records");
    assert.deepEqual([...a.owned].sort(), [0, 1, 2]);
    a.stop.abort();
    await a.loop;
    await a.source.close();
    // A new member of the group starts after what was committed: only the new records arrive.
    await sink.send(
      Array.from({ length: 100 }, (_, i) => ({ topic: "in1", key: `k${i % 50}`, value: `w${i}` })),
    );
    await sink.close();
    const b = await join("in1", "g1", { commit: true });
    await until(() => total(b) === 100, 30_000, "the 100 new records");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(total(b), 100);
    b.stop.abort();
    await b.loop;
    await b.source.close();
  });

  it("hands out a record that comes while a pull waits on an empty buffer without waiting out the idle period", async () => {
    // The fill window (maxWaitMs, 50 here) starts at the first record. A pull that began with nothing
    // to hand out used to sleep its whole idle period, up to 200 ms of latency per event at low rates;
    // with an idle period of 10 minutes, that would time this test out.
    await ensureTopics({ brokers, clientId: "t", topics: ["idle"], partitions: 1, replication: 1 });
    const m = await join("idle", "g-idle", { commit: false, idlePullMs: 600_000 });
    await new Promise((r) => setTimeout(r, 1000)); // the member's first pull is waiting by now
    const sink = await createKafkaSink({ brokers, clientId: "t" });
    await sink.send([{ topic: "idle", key: "k", value: "v" }]);
    await sink.close();
    try {
      await until(() => total(m) === 1, 30_000, "the record, well before the idle period ends");
    } finally {
      m.stop.abort();
      await m.loop;
      await m.source.close();
    }
  });

  it("announces revocations and assignments when a second member joins and leaves", async () => {
    await ensureTopics({ brokers, clientId: "t", topics: ["in2"], partitions: 4, replication: 1 });
    const a = await join("in2", "g2", { commit: true });
    await until(() => a.owned.size === 4, 30_000, "first member owns all partitions");
    const b = await join("in2", "g2", { commit: true });
    await until(() => b.owned.size > 0 && a.owned.size + b.owned.size === 4, 30_000, "partitions split");
    assert.ok(
      a.events.some((e) => e.startsWith("-")),
      `first member was told of its revocation: ${a.events}`,
    );
    for (const p of b.owned) assert.ok(!a.owned.has(p), "no partition owned twice");
    const sink = await createKafkaSink({ brokers, clientId: "t" });
    await sink.send(Array.from({ length: 2000 }, (_, i) => ({ topic: "in2", key: `k${i}`, value: `v${i}` })));
    await sink.close();
    await until(() => total(a) + total(b) === 2000, 30_000, "2000 records across both");
    b.stop.abort();
    await b.loop;
    await b.source.close(); // leaves the group: its partitions go back to the first member
    await until(() => a.owned.size === 4, 30_000, "first member owns all again");
    a.stop.abort();
    await a.loop;
    await a.source.close();
  });
});
