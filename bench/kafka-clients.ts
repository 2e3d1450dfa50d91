// Kafka client benchmark: @platformatic/kafka against kafkajs on a real Apache Kafka broker that this
// script starts itself (test/helpers/kafka.ts, full JIT), one client at a time on the same machine.
//
//   node_modules/.bin/node bench/kafka-clients.ts [--messages 200000] [--batch 1000]
//                                               [--reps 3] [--partitions 6]
//
// Produce: `--messages` JSON transactions of about 400 bytes, keyed by user, sent in awaited batches of
// `--batch` (the worker's shape: one request in flight), no compression, acks=1 and acks=all, each into a
// new topic. Consume: a new consumer group reads one of those topics from the earliest offset until it
// has every message, without committing; the clock starts before the group is joined (join time is
// reported apart). Each figure is the median of `--reps` runs; the clients alternate run by run.
// Prints a markdown table (docs/kafka-client-comparison.md holds a recorded one).
import { randomBytes } from "node:crypto";
import { cpus } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import {
  Admin,
  Consumer,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { startKafka } from "../test/helpers/kafka.ts";

const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "200000" },
    batch: { type: "string", default: "1000" },
    reps: { type: "string", default: "3" },
    partitions: { type: "string", default: "6" },
  },
});
const MESSAGES = Number(args.messages);
const BATCH = Number(args.batch);
const REPS = Number(args.reps);
const PARTITIONS = Number(args.partitions);
for (const [name, v] of Object.entries({ MESSAGES, BATCH, REPS, PARTITIONS }))
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name.toLowerCase()} must be a positive integer`);

type ClientName = "@platformatic/kafka" | "kafkajs";
const CLIENTS: ClientName[] = ["@platformatic/kafka", "kafkajs"];
type Acks = 1 | -1;

interface Msg {
  key: string;
  value: string;
}

/** Transaction-shaped JSON of about 400 bytes (most of the contract's fields), keyed by user id. */
function makeMessages(n: number): Msg[] {
  const out: Msg[] = [];
  let seed = 42;
  const rand = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const hex = (len: number): string =>
    randomBytes(Math.ceil(len / 2))
      .toString("hex")
      .slice(0, len);
  for (let i = 0; i < n; i++) {
    const user = `u${String(Math.floor(rand() * 5000)).padStart(6, "0")}`;
    const value = JSON.stringify({
      transaction_id: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
      timestamp: new Date(1_790_000_000_000 + i * 37).toISOString(),
      user_id: user,
      amount: Math.round(rand() * 50_000) / 100,
      currency: "EUR",
      merchant_id: `m${String(Math.floor(rand() * 20_000)).padStart(6, "0")}`,
      merchant_category: "grocery",
      mcc: "5411",
      channel: "card_present",
      device: "pos",
      device_id: `d${hex(12)}`,
      ip_address: `10.${i % 250}.${(i >> 8) % 250}.${i % 199}`,
      country: "FR",
      city: "Lyon",
      latitude: 45.764 + rand() / 100,
      longitude: 4.8357 + rand() / 100,
      is_fraud: false,
    });
    out.push({ key: user, value });
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

async function produce(
  client: ClientName,
  brokers: string[],
  topic: string,
  msgs: Msg[],
  acks: Acks,
): Promise<number> {
  if (client === "@platformatic/kafka") {
    const producer = new Producer({
      clientId: "bench",
      bootstrapBrokers: brokers,
      serializers: stringSerializers,
      acks: acks === 1 ? ProduceAcks.LEADER : ProduceAcks.ALL,
    });
    try {
      await producer.metadata({ topics: [topic] });
      const t0 = performance.now();
      for (let i = 0; i < msgs.length; i += BATCH)
        await producer.send({ messages: msgs.slice(i, i + BATCH).map((m) => ({ topic, ...m })) });
      return performance.now() - t0;
    } finally {
      await producer.close();
    }
  }
  const kafka = new Kafka({ clientId: "bench", brokers, logLevel: logLevel.ERROR });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const t0 = performance.now();
    for (let i = 0; i < msgs.length; i += BATCH)
      await producer.send({ topic, acks, messages: msgs.slice(i, i + BATCH) });
    return performance.now() - t0;
  } finally {
    await producer.disconnect();
  }
}

interface ConsumeResult {
  /** From starting the consumer to holding every message. */
  totalMs: number;
  /** From starting the consumer to the first message: connecting, joining the group, first fetch. */
  firstMs: number;
  bytes: number;
}

async function consume(
  client: ClientName,
  brokers: string[],
  topic: string,
  n: number,
): Promise<ConsumeResult> {
  const groupId = `bench-${randomBytes(4).toString("hex")}`;
  let count = 0;
  let bytes = 0;
  let firstAt = 0;
  const deadline = 120_000;
  if (client === "@platformatic/kafka") {
    const consumer = new Consumer({
      clientId: "bench",
      groupId,
      bootstrapBrokers: brokers,
      deserializers: stringDeserializers,
    });
    const t0 = performance.now();
    try {
      const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: false });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${client}: ${count}/${n} after ${deadline} ms`)),
          deadline,
        );
        stream.on("error", reject);
        stream.on("data", (m: { value: string }) => {
          // The stream goes on delivering until closed: count the first n only.
          if (count >= n) return;
          if (count === 0) firstAt = performance.now();
          count++;
          bytes += m.value.length;
          if (count === n) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      return { totalMs: performance.now() - t0, firstMs: firstAt - t0, bytes };
    } finally {
      await consumer.close(true);
    }
  }
  const kafka = new Kafka({ clientId: "bench", brokers, logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId });
  const t0 = performance.now();
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${client}: ${count}/${n} after ${deadline} ms`)),
        deadline,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (count === 0 && batch.messages.length > 0) firstAt = performance.now();
            for (const m of batch.messages) {
              if (count >= n) break;
              count++;
              bytes += m.value?.toString().length ?? 0;
            }
            if (count >= n) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    return { totalMs: performance.now() - t0, firstMs: firstAt - t0, bytes };
  } finally {
    await consumer.disconnect();
  }
}

async function main(): Promise<void> {
  const msgs = makeMessages(MESSAGES);
  const avg = msgs.reduce((s, m) => s + m.value.length, 0) / msgs.length;
  const kStart = performance.now();
  const kafka = await startKafka({ jit: "full" });
  process.stderr.write(
    `broker ready in ${Math.round(performance.now() - kStart)} ms at ${kafka.bootstrap}\n`,
  );
  const admin = new Admin({ clientId: "bench", bootstrapBrokers: kafka.brokers });
  const checker = new Kafka({
    clientId: "bench-check",
    brokers: kafka.brokers,
    logLevel: logLevel.ERROR,
  }).admin();
  await checker.connect();
  const produceMs = new Map<string, number[]>();
  const consumeRuns = new Map<ClientName, ConsumeResult[]>();
  const slug = (client: ClientName): string => client.replace(/\W/g, "");
  const topicOf = (client: ClientName, acks: Acks, rep: number): string =>
    `bench-${slug(client)}-${acks === 1 ? "acks1" : "acksall"}-${rep}`;
  /** Records in `topic` per its end offsets: a retrying non-idempotent producer can write more than it sent. */
  const stored = async (topic: string): Promise<number> =>
    (await checker.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high) - Number(p.low), 0);
  try {
    // Every topic up front, and a pause for the broker to finish making the partitions: a produce request
    // racing a partition's creation fails for some partitions, and a retry then rewrites the others.
    const topics = CLIENTS.flatMap((c) => [
      `warm-${slug(c)}`,
      ...Array.from({ length: REPS }, (_, rep) => [topicOf(c, 1, rep), topicOf(c, -1, rep)]).flat(),
    ]);
    await admin.createTopics({ topics, partitions: PARTITIONS, replicas: 1 });
    await sleep(1000);
    // One untimed warm-up per client: the broker's and each client's JIT.
    const warm = msgs.slice(0, Math.min(20_000, msgs.length));
    for (const client of CLIENTS) {
      await produce(client, kafka.brokers, `warm-${slug(client)}`, warm, 1);
      await consume(client, kafka.brokers, `warm-${slug(client)}`, warm.length);
    }
    for (let rep = 0; rep < REPS; rep++) {
      const order = rep % 2 === 0 ? CLIENTS : [...CLIENTS].reverse();
      for (const client of order) {
        for (const acks of [1, -1] as const) {
          const topic = topicOf(client, acks, rep);
          const ms = await produce(client, kafka.brokers, topic, msgs, acks);
          const n = await stored(topic);
          if (n !== MESSAGES)
            throw new Error(`${client} sent ${MESSAGES} messages but ${topic} holds ${n} records`);
          const key = `${client}|${acks}`;
          produceMs.set(key, [...(produceMs.get(key) ?? []), ms]);
          process.stderr.write(
            `rep ${rep + 1} ${client} produce acks=${acks === 1 ? "1" : "all"}: ${Math.round(MESSAGES / (ms / 1000))} msg/s\n`,
          );
        }
        // Consume the acks=all topic this client wrote in this repetition (same bytes for both clients).
        const topic = topicOf(client, -1, rep);
        const r = await consume(client, kafka.brokers, topic, MESSAGES);
        if (r.bytes !== msgs.reduce((s, m) => s + m.value.length, 0))
          throw new Error(`${client}: consumed ${r.bytes} value bytes, produced a different amount`);
        consumeRuns.set(client, [...(consumeRuns.get(client) ?? []), r]);
        process.stderr.write(
          `rep ${rep + 1} ${client} consume: ${Math.round(MESSAGES / (r.totalMs / 1000))} msg/s (first message after ${Math.round(r.firstMs)} ms)\n`,
        );
      }
    }
  } finally {
    await checker.disconnect();
    await admin.close();
    await kafka.stop();
  }

  const rate = (ms: number): string => Math.round(MESSAGES / (ms / 1000)).toLocaleString("en-US");
  const mbs = (ms: number): string => ((MESSAGES * avg) / (ms / 1000) / 1_048_576).toFixed(1);
  const lines = [
    `${MESSAGES} messages of ${Math.round(avg)} bytes (JSON), ${PARTITIONS} partitions, batches of ${BATCH}, no compression; median of ${REPS}; ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), Node ${process.version}`,
    "",
    "| client | produce acks=1 msg/s (MB/s) | produce acks=all msg/s (MB/s) | consume msg/s, incl. join (MB/s) | consume msg/s after first message | first message after |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const client of CLIENTS) {
    const p1 = median(produceMs.get(`${client}|1`) ?? []);
    const pAll = median(produceMs.get(`${client}|-1`) ?? []);
    const runs = consumeRuns.get(client) ?? [];
    const total = median(runs.map((r) => r.totalMs));
    const steady = median(runs.map((r) => r.totalMs - r.firstMs));
    const first = median(runs.map((r) => r.firstMs));
    lines.push(
      `| ${client} | ${rate(p1)} (${mbs(p1)}) | ${rate(pAll)} (${mbs(pAll)}) | ${rate(total)} (${mbs(total)}) | ${rate(steady)} | ${Math.round(first)} ms |`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

await main();
