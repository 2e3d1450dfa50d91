// The worker's view of the outside world. Kafka (src/io/kafka), the in-process log
// (src/io/embedded), PostgreSQL and PGlite (src/io/pg) implement these; the worker loop imports
// nothing else, so the same code runs in the real deployment, the demo and the tests.
import type { ScoredRow } from "../contract/outputs.ts";

/** One record as consumed from a partition. */
export interface SourceRecord {
  partition: number;
  /** Offset within the partition. bigint, as Kafka offsets are 64-bit. */
  offset: bigint;
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** Record timestamp (producer create time) in epoch ms; the start of end-to-end latency. */
  timestamp: number;
}

/** Records from one partition, in offset order. */
export interface SourceBatch {
  topic: string;
  partition: number;
  records: SourceRecord[];
}

/** Where a partition resumes: the offset of the next record to process. */
export interface PartitionOffset {
  topic: string;
  partition: number;
  /** Next offset to consume (Kafka's committed-offset convention: last processed + 1). */
  offset: bigint;
}

export interface AssignmentListener {
  /**
   * Partitions this worker now owns. Called before any record of them is delivered; the worker loads
   * their checkpoints here. A returned promise is awaited before delivery starts.
   */
  onAssigned(topic: string, partitions: number[]): Promise<void> | void;
  /**
   * Partitions this worker no longer owns. In-flight work for them must be dropped or finished before
   * the promise resolves; records of them delivered later are ignored.
   */
  onRevoked(topic: string, partitions: number[]): Promise<void> | void;
}

/** A consumer-group member over one topic. At-least-once: nothing is committed unless asked. */
export interface Source {
  /**
   * Yields batches until `signal` aborts or the source is closed. Each batch holds records of one
   * partition. Stops yielding promptly once aborted (the current pull may finish).
   */
  batches(signal: AbortSignal): AsyncIterable<SourceBatch>;
  /** Commits consumed positions to the broker (after the sinks acknowledged). */
  commit(offsets: PartitionOffset[]): Promise<void>;
  /** Leaves the group and releases resources. Safe to call twice. */
  close(): Promise<void>;
}

export interface OutboundMessage {
  topic: string;
  key: string | null;
  value: string | Uint8Array;
  headers?: Record<string, string>;
}

/** Sends to output topics (dead letters, features, anomalies). Resolves when the broker acknowledged. */
export interface Sink {
  send(messages: OutboundMessage[]): Promise<void>;
  close(): Promise<void>;
}

/** One processed event as stored in `transactions_scored`: an output shape, declared in src/contract. */
export type { ScoredRow };

/** One rejected record as stored in `dead_letters`. */
export interface DeadLetterRow {
  topic: string;
  partition: number;
  offset: bigint;
  key: Uint8Array | null;
  raw: Uint8Array | null;
  reason: string;
  detail: string;
  field: string | null;
  /** Every failing field with its reason (empty when no field is to blame). */
  errors?: readonly { path: string; reason: string }[];
  transactionId: string | null;
  producedAt: number;
}

/**
 * Moves a partition's checkpoint from `from` to `to` in the same transaction as the rows it covers.
 * `from` is what this worker loaded (null when there was none): if another worker has moved it since,
 * the whole write fails with a CheckpointConflictError, which fences out a worker that lost its
 * partitions in a rebalance but has not noticed yet.
 */
export interface CheckpointAdvance {
  group: string;
  topic: string;
  partition: number;
  from: bigint | null;
  to: bigint;
  /** The partition's event-time watermark (epoch ms) as of `to`, stored with it. */
  watermarkMs?: number;
  /** The partition's event clock (FeatureEngine.serializeClock) as of `to`, stored with it. */
  clock?: Uint8Array;
}

export interface PartitionState {
  users: Map<string, Uint8Array>;
  /** Null when never checkpointed (or checkpointed without one). */
  watermarkMs: number | null;
  /** The event clock's bytes (null when checkpointed without one). */
  clock: Uint8Array | null;
}

/** What identifies a stored transaction: its id and event time (epoch ms). */
export interface TransactionKey {
  transactionId: string;
  eventTime: number;
}

/** A user's feature state as of a checkpoint; `state` null deletes it (the user expired). */
export interface UserStateWrite {
  group: string;
  topic: string;
  partition: number;
  userId: string;
  state: Uint8Array | null;
}

export interface BatchWrite {
  scored: ScoredRow[];
  deadLetters: DeadLetterRow[];
  checkpoints: CheckpointAdvance[];
  /** Per-user feature state changed by this batch (same transaction as its checkpoint). */
  userStates?: UserStateWrite[];
  /** The flagged ones among `scored`: each becomes an alert (idempotent on the transaction id). */
  alerts?: ScoredRow[];
}

export class CheckpointConflictError extends Error {
  override name = "CheckpointConflictError";
  readonly topic: string;
  readonly partition: number;
  constructor(topic: string, partition: number) {
    super(
      `checkpoint of ${topic}[${partition}] was moved by another worker; this worker no longer owns the partition`,
    );
    this.topic = topic;
    this.partition = partition;
  }
}

/** The database as the worker uses it: PostgreSQL in production, PGlite in the demo. */
export interface Store {
  /** Applies pending migrations; safe to run from several processes at once. */
  migrate(): Promise<void>;
  /** The stored next offset per partition; partitions never checkpointed are absent. */
  loadCheckpoints(group: string, topic: string, partitions: number[]): Promise<Map<number, bigint>>;
  /**
   * Which of these transactions are already stored (same id and event time). The worker skips them
   * before computing features, so a duplicate (a producer retry, a replay) changes neither the rows
   * nor any user's state.
   */
  findStored(keys: readonly TransactionKey[]): Promise<Set<string>>;
  /** The feature state of one partition as last checkpointed: every user's bytes and the watermark. */
  loadPartitionState(group: string, topic: string, partition: number): Promise<PartitionState>;
  /**
   * Writes one batch atomically: scored rows and dead letters (both idempotent: a row already present
   * is left as it is), user feature states (replaced) and the checkpoint advances. Throws CheckpointConflictError when fenced.
   */
  writeBatch(write: BatchWrite): Promise<void>;
  close(): Promise<void>;
}
