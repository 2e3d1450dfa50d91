// An in-process partitioned log standing in for Kafka in `fraudstream demo`: topics of N partitions,
// records keyed to a partition by hash, offsets, committed positions per consumer group. It implements
// the same Source and Sink ports as the Kafka adapter, so the demo runs the real worker code. One
// consumer per group: all partitions are assigned to it (there is no rebalancing in one process).
import type {
  AssignmentListener,
  OutboundMessage,
  PartitionOffset,
  Sink,
  Source,
  SourceBatch,
  SourceRecord,
} from "../../pipeline/ports.ts";

interface Partition {
  records: SourceRecord[];
}

const encoder = new TextEncoder();

/** FNV-1a over the key's UTF-16 code units: stable, cheap, and spreads user ids evenly. */
function partitionFor(key: string | null, partitions: number, roundRobin: number): number {
  if (key === null) return roundRobin % partitions;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

export class InProcessLog {
  readonly #topics = new Map<string, Partition[]>();
  readonly #committed = new Map<string, bigint>();
  readonly #waiters = new Set<() => void>();
  readonly #defaultPartitions: number;
  #roundRobin = 0;

  constructor(defaultPartitions = 6) {
    this.#defaultPartitions = defaultPartitions;
  }

  createTopic(topic: string, partitions = this.#defaultPartitions): void {
    if (this.#topics.has(topic)) return;
    this.#topics.set(
      topic,
      Array.from({ length: partitions }, () => ({ records: [] })),
    );
  }

  partitions(topic: string): number {
    return this.#topic(topic).length;
  }

  append(messages: readonly OutboundMessage[]): void {
    const now = Date.now();
    for (const m of messages) {
      const parts = this.#topic(m.topic);
      const p = partitionFor(m.key, parts.length, this.#roundRobin++);
      const part = parts[p] as Partition;
      part.records.push({
        partition: p,
        offset: BigInt(part.records.length),
        key: m.key === null ? null : encoder.encode(m.key),
        value: typeof m.value === "string" ? encoder.encode(m.value) : m.value,
        timestamp: now,
      });
    }
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  endOffsets(topic: string): bigint[] {
    return this.#topic(topic).map((p) => BigInt(p.records.length));
  }

  records(topic: string, partition: number): readonly SourceRecord[] {
    return (this.#topic(topic)[partition] as Partition).records;
  }

  committed(group: string, topic: string, partition: number): bigint | undefined {
    return this.#committed.get(`${group}\u0000${topic}\u0000${partition}`);
  }

  commit(group: string, offsets: readonly PartitionOffset[]): void {
    for (const o of offsets) this.#committed.set(`${group}\u0000${o.topic}\u0000${o.partition}`, o.offset);
  }

  /** Total records not yet committed by `group` across the topic's partitions. */
  lag(group: string, topic: string): bigint {
    let lag = 0n;
    this.#topic(topic).forEach((p, i) => {
      lag += BigInt(p.records.length) - (this.committed(group, topic, i) ?? 0n);
    });
    return lag;
  }

  /** Resolves when something is appended, after `ms`, or when `signal` aborts, whichever is first. */
  waitForData(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  #topic(topic: string): Partition[] {
    const t = this.#topics.get(topic);
    if (t === undefined) throw new Error(`unknown topic ${topic}; create it first`);
    return t;
  }
}

export function createEmbeddedSink(log: InProcessLog): Sink {
  return {
    async send(messages) {
      log.append(messages);
    },
    async close() {},
  };
}

export interface EmbeddedSourceOptions {
  group: string;
  topic: string;
  maxRecords: number;
  maxWaitMs: number;
  listener: AssignmentListener;
}

export async function createEmbeddedSource(log: InProcessLog, opts: EmbeddedSourceOptions): Promise<Source> {
  const { group, topic, maxRecords, maxWaitMs, listener } = opts;
  const count = log.partitions(topic);
  const all = Array.from({ length: count }, (_, i) => i);
  // Where this consumer reads next, per partition; starts at the group's committed offsets.
  const position = all.map((p) => log.committed(group, topic, p) ?? 0n);
  let closed = false;
  await listener.onAssigned(topic, all);

  return {
    async *batches(signal: AbortSignal): AsyncIterable<SourceBatch> {
      let next = 0;
      while (!signal.aborted && !closed) {
        let delivered = false;
        for (let i = 0; i < count && !signal.aborted; i++) {
          const p = (next + i) % count;
          const records = log.records(topic, p);
          const from = Number(position[p]);
          if (from >= records.length) continue;
          const slice = records.slice(from, from + maxRecords);
          position[p] = BigInt(from + slice.length);
          delivered = true;
          next = p + 1;
          yield { topic, partition: p, records: slice };
          break;
        }
        if (!delivered) await log.waitForData(Math.max(maxWaitMs, 10), signal);
      }
    },
    async commit(offsets) {
      log.commit(group, offsets);
    },
    async close() {
      if (closed) return;
      closed = true;
      await listener.onRevoked(topic, all);
    },
  };
}
