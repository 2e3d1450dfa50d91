// The one place that imports the Kafka client (@platformatic/kafka; see README "Dependencies" and
// docs/kafka-client-comparison.md for why). Everything else sees the ports of src/pipeline/ports.ts.
//
// The consumer side turns the client's message stream into per-partition batches. Assignment changes
// are read off the client's current assignment just before each batch is handed out, so the worker
// always learns of a revoked or new partition before it sees records of the new generation. The
// worker's database checkpoints, not the broker's committed offsets, decide what is processed, so a
// redelivery after a rebalance or crash is harmless.
import {
  Admin,
  Consumer,
  compatibilityPartitioner,
  type Message,
  type MessagesStream,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  type MessageToProduce,
  ProduceAcks,
  Producer,
} from "@platformatic/kafka";
import type { Logger } from "pino";
import type {
  AssignmentListener,
  OutboundMessage,
  PartitionOffset,
  Sink,
  Source,
  SourceBatch,
  SourceRecord,
} from "../../pipeline/ports.ts";

type BufferMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export interface KafkaSourceOptions {
  brokers: string[];
  clientId: string;
  groupId: string;
  topic: string;
  /** Most records handed out in one pull (across partitions). */
  maxRecords: number;
  /** Longest wait for a pull to fill before handing out what has arrived. */
  maxWaitMs: number;
  listener: AssignmentListener;
  logger?: Logger;
  /** Group session timeout: how long a crashed member keeps its partitions. Kafka's minimum is 6000. */
  sessionTimeoutMs?: number;
  /**
   * Called every `lagIntervalMs` (default 5000) with the lag of each partition this member owns: the
   * partition's end offset minus the group's committed offset (or minus its start offset when the group
   * never committed). Omitted: lag is not polled.
   */
  onLag?(topic: string, lag: ReadonlyMap<number, number>): void;
  lagIntervalMs?: number;
  /** Longest a pull waits when no record comes before it looks at its assignment again (default 200). */
  idlePullMs?: number;
}

/** Joins the consumer group on `topic`. Offsets are committed only through `commit`. */
export async function createKafkaSource(opts: KafkaSourceOptions): Promise<Source> {
  const sessionTimeout = opts.sessionTimeoutMs ?? 10_000;
  const idlePullMs = opts.idlePullMs ?? 200;
  const consumer = new Consumer({
    clientId: opts.clientId,
    groupId: opts.groupId,
    bootstrapBrokers: opts.brokers,
    sessionTimeout,
    rebalanceTimeout: Math.max(sessionTimeout, 30_000),
    heartbeatInterval: Math.min(1000, Math.floor(sessionTimeout / 3)),
    maxWaitTime: Math.max(10, Math.min(opts.maxWaitMs, 500)),
    autocommit: false,
    // A bounded buffer: at most a few pulls ahead of the worker.
    highWaterMark: Math.max(64, opts.maxRecords * 2),
  });
  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>;
  try {
    stream = await consumer.consume({
      topics: [opts.topic],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      autocommit: false,
    });
  } catch (err) {
    await consumer.close(true).catch(() => undefined);
    throw err;
  }

  const buffer: BufferMessage[] = [];
  let wake: (() => void) | null = null;
  /** Set while a pull waits on an empty buffer: starts the fill window when the first record comes. */
  let firstRecord: (() => void) | null = null;
  let failure: unknown = null;
  let ended = false;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  stream.on("data", (m: BufferMessage) => {
    buffer.push(m);
    if (buffer.length >= opts.maxRecords) {
      stream.pause();
      notify();
    } else if (firstRecord !== null) firstRecord();
  });
  stream.on("error", (err: unknown) => {
    failure = err;
    notify();
  });
  stream.on("close", () => {
    ended = true;
    notify();
  });

  /** Partitions of our topic this worker was last told it owns. */
  const announced = new Set<number>();
  const leaderEpochs = new Map<number, number>();
  let closed = false;

  const liveAssignment = (): Set<number> => {
    const live = new Set<number>();
    for (const a of consumer.assignments ?? [])
      if (a.topic === opts.topic) for (const p of a.partitions) live.add(p);
    return live;
  };

  const syncAssignment = async (): Promise<Set<number>> => {
    const live = liveAssignment();
    const revoked = [...announced].filter((p) => !live.has(p));
    const assigned = [...live].filter((p) => !announced.has(p));
    if (revoked.length > 0) {
      for (const p of revoked) announced.delete(p);
      await opts.listener.onRevoked(
        opts.topic,
        revoked.sort((a, b) => a - b),
      );
    }
    if (assigned.length > 0) {
      await opts.listener.onAssigned(
        opts.topic,
        assigned.sort((a, b) => a - b),
      );
      for (const p of assigned) announced.add(p);
    }
    return live;
  };

  // Lag is polled from the broker rather than taken from fetch responses (which the client does not
  // surface); the committed offset trails the database checkpoint by at most one batch.
  const pollLag = async (): Promise<void> => {
    const owned = [...announced].sort((a, b) => a - b);
    const lag = new Map<number, number>();
    if (owned.length > 0) {
      const partitions = { [opts.topic]: owned };
      const [ends, committed] = await Promise.all([
        consumer.listOffsets({ topics: [opts.topic], partitions }),
        consumer.listCommittedOffsets({ topics: [{ topic: opts.topic, partitions: owned }] }),
      ]);
      const end = ends.get(opts.topic) ?? [];
      const done = committed.get(opts.topic) ?? [];
      let starts: bigint[] | undefined;
      for (const p of owned) {
        const e = end[p];
        let from = done[p];
        if (e === undefined) continue;
        if (from === undefined || from < 0n) {
          starts ??=
            (await consumer.listOffsets({ topics: [opts.topic], partitions, timestamp: -2n })).get(
              opts.topic,
            ) ?? [];
          from = starts[p];
        }
        if (from !== undefined) lag.set(p, Number(e > from ? e - from : 0n));
      }
    }
    opts.onLag?.(opts.topic, lag);
  };
  let lagTimer: NodeJS.Timeout | undefined;
  if (opts.onLag !== undefined) {
    const every = opts.lagIntervalMs ?? 5000;
    const tick = (): void => {
      const run = closed || !consumer.isActive() ? Promise.resolve() : pollLag();
      run
        .catch((err: unknown) => opts.logger?.debug({ err }, "polling consumer lag failed"))
        .finally(() => {
          if (!closed) lagTimer = setTimeout(tick, every).unref();
        });
    };
    lagTimer = setTimeout(tick, Math.min(every, 1000)).unref();
  }

  /**
   * Resolves when a batch is ready: `maxRecords` buffered, or `maxWaitMs` after the first record of
   * the batch arrived (at once if some were already waiting), or after `idlePullMs` with nothing (the
   * loop then checks its assignment). The fill window starts at the first record, not at the pull: a
   * pull that found the buffer empty used to sleep its full idle period, which at low rates added up
   * to 200 ms to every event's latency.
   */
  const waitForRecords = (signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      if (buffer.length >= opts.maxRecords || failure !== null || ended || signal.aborted) return resolve();
      let timer = setTimeout(done, buffer.length > 0 ? opts.maxWaitMs : Math.max(opts.maxWaitMs, idlePullMs));
      if (buffer.length === 0)
        firstRecord = () => {
          firstRecord = null;
          clearTimeout(timer);
          timer = setTimeout(done, opts.maxWaitMs);
        };
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        wake = null;
        firstRecord = null;
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
      wake = done;
    });

  return {
    async *batches(signal: AbortSignal): AsyncIterable<SourceBatch> {
      while (!signal.aborted && !closed) {
        await waitForRecords(signal);
        if (failure !== null) throw failure;
        if (signal.aborted) return;
        const taken = buffer.splice(0, buffer.length);
        if (stream.isPaused()) stream.resume();
        const live = await syncAssignment();
        if (taken.length === 0) {
          if (ended) return;
          continue;
        }
        const byPartition = new Map<number, SourceRecord[]>();
        for (const m of taken) {
          if (m.topic !== opts.topic || !live.has(m.partition)) continue; // from before a revocation
          leaderEpochs.set(m.partition, m.leaderEpoch);
          let list = byPartition.get(m.partition);
          if (list === undefined) {
            list = [];
            byPartition.set(m.partition, list);
          }
          list.push({
            partition: m.partition,
            offset: m.offset,
            key: m.key ?? null,
            value: m.value ?? null,
            timestamp: Number(m.timestamp),
          });
        }
        for (const [partition, records] of byPartition) {
          yield { topic: opts.topic, partition, records };
          if (signal.aborted) return;
        }
      }
    },

    async commit(offsets: PartitionOffset[]): Promise<void> {
      if (offsets.length === 0 || closed) return;
      await consumer.commit({
        offsets: offsets.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: o.offset,
          leaderEpoch: leaderEpochs.get(o.partition) ?? -1,
        })),
      });
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearTimeout(lagTimer);
      notify();
      try {
        await stream.close();
      } catch (err) {
        opts.logger?.warn({ err }, "closing the Kafka message stream failed");
      }
      // Leaves the group so that the partitions move to the other members at once.
      await consumer.close(true);
    },
  };
}

export interface KafkaSinkOptions {
  brokers: string[];
  clientId: string;
  /** Acknowledgement level; default all in-sync replicas, with an idempotent producer (no duplicates on retry). */
  acks?: "all" | "leader";
  /**
   * Most bytes (keys + values + headers) per produce request; larger sends are split. The broker
   * refuses record batches above its message.max.bytes (1 MiB by default) and the client does not
   * split them itself. Default 512 KiB.
   */
  maxRequestBytes?: number;
}

/** Errors the broker gives for the message itself: retrying the same send can never succeed. */
const PERMANENT_KAFKA_ERRORS = new Set([
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "CORRUPT_MESSAGE",
  "INVALID_TOPIC_EXCEPTION",
  "TOPIC_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "INVALID_REQUIRED_ACKS",
  "UNSUPPORTED_VERSION",
  "UNSUPPORTED_COMPRESSION_TYPE",
]);

/**
 * Whether a Kafka client error is worth waiting out (broker down, leader moving, timeouts) rather
 * than a property of the request (too large, not authorized) that no retry will fix.
 */
export function isTransientKafkaError(err: unknown): boolean {
  const seen = new Set<unknown>();
  const permanent = (e: unknown): boolean => {
    if (typeof e !== "object" || e === null || seen.has(e)) return false;
    seen.add(e);
    const o = e as { apiId?: unknown; code?: unknown; errors?: unknown; cause?: unknown };
    if (typeof o.apiId === "string" && PERMANENT_KAFKA_ERRORS.has(o.apiId)) return true;
    if (
      o.code === "PLT_KFK_USER" ||
      o.code === "PLT_KFK_AUTHENTICATION" ||
      o.code === "PLT_KFK_UNSUPPORTED_API"
    )
      return true;
    if (Array.isArray(o.errors) && o.errors.some(permanent)) return true;
    return permanent(o.cause);
  };
  return !permanent(err);
}

const encoder = new TextEncoder();

function toBuffer(value: string | Uint8Array): Buffer {
  const bytes = typeof value === "string" ? encoder.encode(value) : value;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A producer for the output topics. Keys are hashed as the Java client does (murmur2, positive). */
export async function createKafkaSink(opts: KafkaSinkOptions): Promise<Sink> {
  const producer = new Producer({
    clientId: opts.clientId,
    bootstrapBrokers: opts.brokers,
    acks: opts.acks === "leader" ? ProduceAcks.LEADER : ProduceAcks.ALL,
    // A produce request that times out on a loaded broker is retried by the client; without producer
    // ids and sequence numbers the broker would append the retried batch twice.
    idempotent: opts.acks !== "leader",
    retries: 5,
    partitioner: compatibilityPartitioner,
    autocreateTopics: false,
  });
  const maxBytes = opts.maxRequestBytes ?? 512 * 1024;
  return {
    async send(messages: OutboundMessage[]): Promise<void> {
      let chunk: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[] = [];
      let bytes = 0;
      for (const m of messages) {
        const headers = new Map<Buffer, Buffer>();
        let size = 70; // record overhead
        for (const [k, v] of Object.entries(m.headers ?? {})) {
          const hk = Buffer.from(k);
          const hv = Buffer.from(v);
          headers.set(hk, hv);
          size += hk.length + hv.length + 4;
        }
        const key = m.key === null ? undefined : Buffer.from(m.key);
        const value = toBuffer(m.value);
        size += (key?.length ?? 0) + value.length;
        if (chunk.length > 0 && bytes + size > maxBytes) {
          await producer.send({ messages: chunk });
          chunk = [];
          bytes = 0;
        }
        chunk.push({ topic: m.topic, ...(key === undefined ? {} : { key }), value, headers });
        bytes += size;
      }
      if (chunk.length > 0) await producer.send({ messages: chunk });
    },
    async close(): Promise<void> {
      await producer.close();
    },
  };
}

export interface EnsureTopicsOptions {
  brokers: string[];
  clientId: string;
  topics: string[];
  partitions: number;
  replication: number;
}

/**
 * Creates the topics that are missing, with the given partitions and replication. Existing topics
 * are left as they are (a warning names any whose partition count differs).
 */
export async function ensureTopics(opts: EnsureTopicsOptions, logger?: Logger): Promise<string[]> {
  const admin = new Admin({ clientId: `${opts.clientId}-admin`, bootstrapBrokers: opts.brokers });
  try {
    const existing = new Set(await admin.listTopics());
    const missing = opts.topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      try {
        await admin.createTopics({
          topics: missing,
          partitions: opts.partitions,
          replicas: opts.replication,
        });
      } catch (err) {
        // Another worker may have created them in the meantime; only fail if they are still missing.
        const now = new Set(await admin.listTopics());
        const still = missing.filter((t) => !now.has(t));
        if (still.length > 0) {
          throw new Error(
            `could not create Kafka topics ${still.join(", ")} (${opts.partitions} partitions, replication ${opts.replication}): ${
              err instanceof Error ? err.message : String(err)
            }`,
            { cause: err },
          );
        }
      }
      logger?.info(
        { topics: missing, partitions: opts.partitions, replication: opts.replication },
        "created topics",
      );
    }
    const present = opts.topics.filter((t) => existing.has(t));
    if (present.length > 0 && logger !== undefined) {
      const meta = await admin.metadata({ topics: present });
      for (const t of present) {
        const n = meta.topics.get(t)?.partitionsCount;
        if (n !== undefined && n !== opts.partitions)
          logger.warn(
            { topic: t, partitions: n, configured: opts.partitions },
            "topic exists with another partition count",
          );
      }
    }
    return missing;
  } finally {
    await admin.close();
  }
}
