// The stream worker: source → parse → features → score → decide → sinks → checkpoint → commit.
// The same loop runs against Kafka + PostgreSQL and against the demo's in-process log + PGlite.
//
// Exactly once into the database: each batch's rows, the partition's next offset and the per-user
// feature state it leaves behind are written in one transaction (Store.writeBatch). On assignment the
// worker restores that state and resumes from the stored offset, skipping records below it that the
// broker redelivers (its committed offset may lag by one batch). The offset advance is conditional on
// the value this worker loaded, which fences out a worker that lost the partition in a rebalance.
// Output topics are at least once (sent before the database commit); each message carries the
// transaction id or source offset to deduplicate by.
import type { Logger } from "pino";
import type { ServedRules } from "../decide/serving.ts";
import type { ScorerSlot } from "../model/scorer.ts";
import type { BatchStage, BatchStats } from "../observe/batch.ts";
import { BatchBuffers, columnsOf, evaluateBatch, parseRecords, storedKeys } from "./evaluate.ts";
import { Ownership, userStateWrites } from "./ownership.ts";
import {
  type AssignmentListener,
  CheckpointConflictError,
  type Sink,
  type Source,
  type SourceBatch,
  type Store,
} from "./ports.ts";
import { retryTransient } from "./retry.ts";
import { PartitionScheduler } from "./scheduler.ts";

export interface WorkerOptions {
  group: string;
  topic: string;
  dlqTopic: string;
  anomaliesTopic: string;
  /** Feature vectors of accepted events go here; undefined: not published. */
  featuresTopic?: string;
  maxEventBytes: number;
  allowedLatenessMs: number;
  stateTtlMs: number;
  dbRetryMaxMs: number;
  openSource(listener: AssignmentListener): Promise<Source>;
  sink: Sink;
  store: Store;
  /** Read once per batch: a promoted model takes over at the next batch, without a restart. */
  scorer: ScorerSlot;
  /** Read once per batch, like the scorer: an activated rule set takes over at the next batch. */
  rules: { readonly current: ServedRules };
  /** Whether an error from the store means "wait and try again" (e.g. the database is down). */
  isTransientError(err: unknown): boolean;
  /** Whether an error from the sink means "wait and try again" (e.g. the broker is down). */
  isTransientSinkError(err: unknown): boolean;
  logger: Logger;
  /**
   * Batches of different partitions processed at once (default DEFAULT_MAX_IN_FLIGHT); each
   * partition's batches still go one at a time, in offset order.
   */
  maxInFlight?: number;
  /** Called after each batch is committed. */
  onBatch?(stats: BatchStats): void;
  /** Called before each retry of a transient failure (or of a fenced batch), with the operation and error. */
  onRetry?(what: string, err: unknown): void;
}

export interface WorkerTotals {
  batches: number;
  scored: number;
  deadLetters: number;
  alerts: number;
  skipped: number;
  duplicates: number;
}

/** How often (wall clock) each partition's idle users are expired to free memory. */
const EXPIRE_EVERY_MS = 10_000;

/** Batches of different partitions in progress at once, by default. */
export const DEFAULT_MAX_IN_FLIGHT = 4;

/** Runs until `signal` aborts; then finishes the batches in hand, commits and leaves the group. */
export async function runWorker(opts: WorkerOptions, signal: AbortSignal): Promise<WorkerTotals> {
  const { logger, store } = opts;
  const totals: WorkerTotals = {
    batches: 0,
    scored: 0,
    deadLetters: 0,
    alerts: 0,
    skipped: 0,
    duplicates: 0,
  };
  // Retries stop on shutdown, and also once any batch has failed: the worker is going down then, and
  // a batch of another partition waiting out an outage must not keep it alive.
  const failing = new AbortController();
  const retrySignal = AbortSignal.any([signal, failing.signal]);
  const retry = <T>(what: string, fn: () => Promise<T>, isTransient = opts.isTransientError): Promise<T> =>
    retryTransient(fn, {
      isTransient,
      signal: retrySignal,
      maxDelayMs: opts.dbRetryMaxMs,
      onRetry: (err, attempt, delayMs) => {
        opts.onRetry?.(what, err);
        logger.warn({ err, attempt, delayMs: Math.round(delayMs), what }, "transient failure; retrying");
      },
    });
  const scheduler = new PartitionScheduler(opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
  const owned = new Ownership({
    group: opts.group,
    topic: opts.topic,
    store,
    engine: { allowedLatenessMs: opts.allowedLatenessMs, stateTtlMs: opts.stateTtlMs },
    retry,
    logger,
  });
  const source = await opts.openSource(owned.listener((partitions) => scheduler.idle(partitions)));
  // The source stops on its own signal so that an abort lets the batches in hand finish first.
  const stopSource = new AbortController();
  const onAbort = () => stopSource.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  /** Buffers of batches no longer in progress, for the next ones. */
  const free: BatchBuffers[] = [];
  // The scorer is read once per batch taken: a promoted model takes over at the next batch.
  let scorer = opts.scorer.current;
  let columns = columnsOf(scorer);
  // A failure stops the intake; the batches in progress finish, those not started are dropped
  // (redelivered to whoever owns their partitions next), and the worker then fails with the first error.
  let failed: { err: unknown } | undefined;
  try {
    for await (const batch of source.batches(stopSource.signal)) {
      if (failed !== undefined) break;
      if (opts.scorer.current !== scorer) {
        logger.info({ from: scorer.version, to: opts.scorer.current.version }, "scoring with another model");
        scorer = opts.scorer.current;
        columns = columnsOf(scorer);
      }
      await scheduler.room();
      if (failed !== undefined) break;
      const buffers = BatchBuffers.reuse(free.pop(), scorer, columns, batch.records.length);
      scheduler.submit(batch.partition, async () => {
        try {
          // Not started yet: on shutdown or after a failure these records are left for redelivery.
          if (failed !== undefined || signal.aborted) return;
          const stats = await processBatch(batch, buffers);
          if (stats === null) return;
          totals.batches++;
          totals.scored += stats.scored;
          totals.deadLetters += stats.deadLetters;
          totals.alerts += stats.alerts;
          totals.skipped += stats.skipped;
          totals.duplicates += stats.duplicates;
          opts.onBatch?.(stats);
        } catch (err) {
          failed ??= { err };
          failing.abort();
          stopSource.abort();
        } finally {
          free.push(buffers);
        }
      });
    }
  } finally {
    const busy = scheduler.busy();
    if (busy.length > 0) logger.info({ partitions: busy }, "finishing the batches in progress");
    await scheduler.idle();
    signal.removeEventListener("abort", onAbort);
    logger.info("closing the source (leaving the consumer group)");
    await source.close();
  }
  if (failed !== undefined) throw failed.err;
  logger.info(totals, "worker stopped");
  return totals;

  /** One batch: evaluate → send → write → commit. Null when there was nothing of ours to do. */
  async function processBatch(batch: SourceBatch, buffers: BatchBuffers): Promise<BatchStats | null> {
    const started = performance.now();
    const { topic, partition } = batch;
    for (let attempt = 0; ; attempt++) {
      const part = owned.get(partition);
      if (part === undefined) return null; // revoked: the new owner will process these records
      const { from } = part;
      // Records below the stored checkpoint were written by an earlier run (the broker's committed
      // offset may lag the database's by a batch).
      const records = from === null ? batch.records : batch.records.filter((r) => r.offset >= from);
      const last = batch.records[batch.records.length - 1];
      if (last === undefined) return null;
      const to = last.offset + 1n;
      if (records.length === 0) {
        // Let the broker catch up (a failed commit only means redelivery, as below).
        await source.commit([{ topic, partition, offset: from ?? to }]).catch((err: unknown) => {
          logger.warn({ err, partition }, "offset commit to the broker failed");
        });
        return null;
      }
      const ingestedAt = Date.now();
      const time = stageTimer();
      const parsed = parseRecords(records, opts.maxEventBytes);
      time("compute");
      const stored =
        parsed.valid.length === 0
          ? new Set<string>()
          : await retry("check for duplicates", () => store.findStored(storedKeys(parsed.valid)));
      time("dedupe");
      const out = evaluateBatch({
        batch,
        parsed,
        stored,
        engine: part.engine,
        buffers,
        rules: opts.rules.current,
        settings: opts,
        ingestedAt,
      });
      time("compute");
      // A broker outage is waited out; an error no retry can fix (a message the broker refuses) stops
      // the worker rather than dropping the batch.
      if (out.outbound.length > 0)
        await retry("send to output topics", () => opts.sink.send(out.outbound), opts.isTransientSinkError);
      time("send");
      try {
        await retry("write batch", () =>
          store.writeBatch({
            scored: out.scored,
            deadLetters: out.deadLetters,
            checkpoints: [
              {
                group: opts.group,
                topic,
                partition,
                from,
                to,
                watermarkMs: part.engine.watermark,
                clock: part.engine.serializeClock(),
              },
            ],
            userStates: userStateWrites(part, opts.group, topic, partition),
            alerts: out.alerts,
          }),
        );
      } catch (err) {
        if (!(err instanceof CheckpointConflictError) || attempt >= 5) throw err;
        // The partition is on its way out: its new owner processes these records.
        if (owned.isRevoking(partition)) return null;
        // Another worker moved this partition's checkpoint: we may have lost it, or it was handed back
        // to us after someone else progressed. The engine has moved on past what is stored: reload the
        // checkpoint and the state, and redo the batch from the stored position.
        logger.warn({ partition, attempt }, "checkpoint moved by another worker; reloading");
        opts.onRetry?.("write batch", err);
        if (owned.has(partition)) await owned.load([partition]);
        continue;
      }
      time("write");
      part.engine.clearDirty();
      part.from = to;
      // Idle users leave memory; their deletion is checkpointed with the next batch.
      if (performance.now() - part.lastExpire > EXPIRE_EVERY_MS) {
        part.lastExpire = performance.now();
        const dropped = part.engine.expire();
        if (dropped.length > 0) logger.debug({ partition, users: dropped.length }, "idle users expired");
      }
      try {
        await source.commit([{ topic, partition, offset: to }]);
      } catch (err) {
        // The database holds the truth; a broker commit lost here only means a few records are
        // redelivered and skipped on restart.
        logger.warn({ err, partition }, "offset commit to the broker failed");
      }
      const stageMs = time("commit");
      return {
        partition,
        records: records.length,
        scored: out.scored.length,
        deadLetters: out.deadLetters.length,
        deadLettersByReason: countBy(out.deadLetters, (d) => d.reason),
        alerts: out.alerts.length,
        alertsByRisk: out.alertsByRisk,
        producedAt: out.scored.map((r) => r.producedAt),
        skipped: batch.records.length - records.length,
        late: out.late,
        duplicates: out.duplicates,
        durationMs: performance.now() - started,
        stageMs,
      };
    }
  }
}

/** Adds the time since the previous call to a stage; returns the totals so far. */
function stageTimer(): (stage: BatchStage) => Record<BatchStage, number> {
  const stageMs: Record<BatchStage, number> = { dedupe: 0, compute: 0, send: 0, write: 0, commit: 0 };
  let mark = performance.now();
  return (stage) => {
    const now = performance.now();
    stageMs[stage] += now - mark;
    mark = now;
    return stageMs;
  };
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}
