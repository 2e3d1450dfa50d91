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
import { type Accepted, parseRecord, type Rejection } from "../contract/parse.ts";
import { isFraudLabel } from "../contract/transaction.ts";
import { DECISIONS, RISK_LEVELS, type RuleHit } from "../decide/compile.ts";
import { decideInto, VerdictBuffer } from "../decide/decide.ts";
import { type Decision, isFlagged, type RiskLevel } from "../decide/levels.ts";
import type { ServedRules } from "../decide/serving.ts";
import { FeatureEngine } from "../features/engine.ts";
import { FEATURE_NAMES, FEATURE_SET_VERSION, featureIndex } from "../features/registry.ts";
import type { Scorer, ScorerSlot } from "../model/scorer.ts";
import {
  type AssignmentListener,
  CheckpointConflictError,
  type DeadLetterRow,
  type OutboundMessage,
  type ScoredRow,
  type Sink,
  type Source,
  type SourceBatch,
  type SourceRecord,
  type Store,
  type UserStateWrite,
} from "./ports.ts";
import { retryTransient } from "./retry.ts";

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

export interface BatchStats {
  partition: number;
  records: number;
  scored: number;
  deadLetters: number;
  deadLettersByReason: Record<string, number>;
  alerts: number;
  alertsByRisk: Record<string, number>;
  /** Produce timestamps (epoch ms) of the scored events, for end-to-end latency. */
  producedAt: number[];
  skipped: number;
  late: number;
  /** Transactions skipped because they were already stored (or repeated within the batch). */
  duplicates: number;
  durationMs: number;
  /** Where durationMs went: wall time of each stage (the others' batches share the event loop). */
  stageMs: Record<BatchStage, number>;
}

export const BATCH_STAGES = ["dedupe", "compute", "send", "write", "commit"] as const;
export type BatchStage = (typeof BATCH_STAGES)[number];

export interface WorkerTotals {
  batches: number;
  scored: number;
  deadLetters: number;
  alerts: number;
  skipped: number;
  duplicates: number;
}

const WIDTH = FEATURE_NAMES.length;
/** Model factors kept in an alert's explanation. */
const EXPLAIN_TOP = 6;
/** How often (wall clock) each partition's idle users are expired to free memory. */
const EXPIRE_EVERY_MS = 10_000;

/** Batches of different partitions in progress at once, by default. */
export const DEFAULT_MAX_IN_FLIGHT = 4;

/** A batch's scorer (the one current when it started) and its working buffers. */
interface Slot {
  scorer: Scorer;
  /** The scorer's columns in the full feature vector. */
  columns: Int32Array;
  features: Float64Array;
  scorerRows: Float64Array;
  scores: Float64Array;
  status: Uint8Array;
  times: Float64Array;
  verdicts: VerdictBuffer | undefined;
}

/** What the worker holds for a partition it owns. */
interface Owned {
  /** Next offset in the stored checkpoint (null: never checkpointed). */
  from: bigint | null;
  engine: FeatureEngine;
  lastExpire: number;
}
const decoder = new TextDecoder();

function keyText(key: Uint8Array | null): string | null {
  return key === null ? null : decoder.decode(key);
}

/** Runs until `signal` aborts; then finishes the batch in hand, commits and leaves the group. */
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
  const owned = new Map<number, Owned>();
  // The scorer reads its own columns out of the full feature vector; recomputed when it is replaced.
  let scorer: Scorer = opts.scorer.current;
  let scorerColumns = columnsOf(scorer);
  const maxInFlight = Math.max(1, opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
  /**
   * Each partition's last batch taken: a partition's batches form a chain, each starting when the one
   * before it ended, so each partition stays in offset order. A batch waiting on its partition does
   * not hold up the others' (the loop goes on pulling); at most `maxInFlight` batches are processed
   * at once, and at most `maxQueued` are taken and not yet done.
   */
  const inFlight = new Map<number, Promise<void>>();
  /** Every batch taken and not yet done. */
  const taken = new Set<Promise<void>>();
  const maxQueued = 2 * maxInFlight;
  let processing = 0;
  const turns: (() => void)[] = [];
  const acquire = async (): Promise<void> => {
    if (processing < maxInFlight) {
      processing++;
      return;
    }
    await new Promise<void>((resolve) => turns.push(resolve));
  };
  const release = (): void => {
    const next = turns.shift();
    if (next === undefined) processing--;
    else next(); // the turn passes on: `processing` stays the same
  };
  // Retries stop on shutdown, and also once any batch has failed: the worker is going down then, and
  // a batch of another partition waiting out an outage must not keep it alive.
  const failing = new AbortController();
  const retrySignal = AbortSignal.any([signal, failing.signal]);
  /** Partitions being revoked: a batch of theirs that gets fenced gives up instead of reloading. */
  const revoking = new Set<number>();
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

  /** Loads (or reloads) partitions' checkpoints and feature state, replacing what was held. */
  const loadPartitions = async (partitions: number[]): Promise<void> => {
    const stored = await retry("load checkpoints", () =>
      store.loadCheckpoints(opts.group, opts.topic, partitions),
    );
    for (const p of partitions) {
      const state = await retry("load feature state", () =>
        store.loadPartitionState(opts.group, opts.topic, p),
      );
      const engine = new FeatureEngine({
        allowedLatenessMs: opts.allowedLatenessMs,
        stateTtlMs: opts.stateTtlMs,
      });
      for (const [userId, bytes] of state.users) engine.restoreUser(userId, bytes);
      if (state.watermarkMs !== null) engine.restoreWatermark(state.watermarkMs);
      owned.get(p)?.engine.clear();
      owned.set(p, { from: stored.get(p) ?? null, engine, lastExpire: performance.now() });
      logger.debug(
        { partition: p, users: state.users.size, from: stored.get(p)?.toString() },
        "partition state restored",
      );
    }
  };

  const listener: AssignmentListener = {
    async onAssigned(topic, partitions) {
      logger.info({ topic, partitions }, "partitions assigned");
      await loadPartitions(partitions);
    },
    async onRevoked(topic, partitions) {
      logger.info({ topic, partitions }, "partitions revoked");
      // A batch of theirs in progress finishes (its write is fenced by the checkpoint anyway) before
      // the partitions are let go.
      for (const p of partitions) revoking.add(p);
      await Promise.all(partitions.map((p) => inFlight.get(p)));
      for (const p of partitions) {
        revoking.delete(p);
        owned.get(p)?.engine.clear();
        owned.delete(p);
      }
    },
  };

  const source = await opts.openSource(listener);
  // The source stops on its own signal so that an abort lets the batch in hand finish first.
  const stopSource = new AbortController();
  const onAbort = () => stopSource.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  /** Buffers of batches no longer in progress, for the next ones. */
  const freeSlots: Slot[] = [];

  /**
   * Why a row was decided as it was: the points from the score and the rules, the rules that hit, and
   * for a flagged row the features that pushed the model score (the costlier part, so only for alerts).
   */
  function explain(
    scorer: Scorer,
    v: VerdictBuffer,
    i: number,
    withFactors: boolean,
    rows: Float64Array,
    at: number,
    score: number,
  ): Record<string, unknown> {
    const rules = opts.rules.current.compiled.rules;
    const hits: RuleHit[] = [];
    for (let h = 0; h < (v.hitCount[i] as number); h++) {
      const rule = rules[v.hitRules[i * v.ruleCount + h] as number];
      if (rule !== undefined) hits.push(rule.hit);
    }
    const out: Record<string, unknown> = {
      points: { score: v.scorePoints[i], rules: v.rulePoints[i], total: v.points[i] },
      hits,
    };
    // The model gives no score for a row with a missing or non-finite feature: say so, never guess.
    if (Number.isNaN(score)) out.model = "no score: a feature value was missing or not finite";
    else if (withFactors && scorer.explain !== undefined) {
      const ex = scorer.explain(rows.subarray(at, at + scorer.featureNames.length));
      out.factors = ex.features.slice(0, EXPLAIN_TOP).map((f) => ({
        feature: f.feature,
        value: f.value,
        contribution: Math.round(f.contribution * 1e4) / 1e4,
      }));
    }
    return out;
  }
  // Batches of different partitions are processed concurrently, up to maxInFlight: while one waits
  // for the database or the broker, another computes. A failure stops the intake; the batches in
  // progress finish, those not started are dropped (redelivered to whoever owns their partitions
  // next), and the worker then fails with the first error.
  let failed: { err: unknown } | undefined;
  try {
    for await (const batch of source.batches(stopSource.signal)) {
      if (failed !== undefined) break;
      if (opts.scorer.current !== scorer) {
        const previous = scorer.version;
        scorer = opts.scorer.current;
        scorerColumns = columnsOf(scorer);
        logger.info({ from: previous, to: scorer.version }, "scoring with another model");
      }
      const { partition } = batch;
      while (taken.size >= maxQueued) await Promise.race(taken);
      if (failed !== undefined) break;
      const slot = takeSlot(scorer, scorerColumns, batch.records.length);
      const previous = inFlight.get(partition);
      const run: Promise<void> = (async () => {
        if (previous !== undefined) await previous; // never rejects: failures are caught below
        await acquire();
        try {
          // Not started yet: on shutdown or after a failure these records are left for redelivery.
          if (failed !== undefined || signal.aborted) return null;
          return await processBatch(batch, slot);
        } finally {
          release();
        }
      })()
        .then((stats) => {
          if (stats === null) return;
          totals.batches++;
          totals.scored += stats.scored;
          totals.deadLetters += stats.deadLetters;
          totals.alerts += stats.alerts;
          totals.skipped += stats.skipped;
          totals.duplicates += stats.duplicates;
          opts.onBatch?.(stats);
        })
        .catch((err: unknown) => {
          failed ??= { err };
          failing.abort();
          stopSource.abort();
        })
        .finally(() => {
          if (inFlight.get(partition) === run) inFlight.delete(partition);
          taken.delete(run);
          freeSlots.push(slot);
        });
      inFlight.set(partition, run);
      taken.add(run);
    }
  } finally {
    if (inFlight.size > 0) {
      logger.info({ partitions: [...inFlight.keys()] }, "finishing the batches in progress");
      await Promise.all(inFlight.values());
    }
    signal.removeEventListener("abort", onAbort);
    logger.info("closing the source (leaving the consumer group)");
    await source.close();
  }
  if (failed !== undefined) throw failed.err;
  logger.info(totals, "worker stopped");
  return totals;

  /** A batch's scorer and buffers, with room for `n` records. */
  function takeSlot(s: Scorer, columns: Int32Array, n: number): Slot {
    const slot = freeSlots.pop();
    if (slot !== undefined && slot.scores.length >= n && slot.scorer === s) return slot;
    const capacity = Math.max(n, slot?.scores.length ?? 0, 1024);
    return {
      scorer: s,
      columns,
      features: new Float64Array(capacity * WIDTH),
      scorerRows: new Float64Array(capacity * columns.length),
      scores: new Float64Array(capacity),
      status: new Uint8Array(capacity),
      times: new Float64Array(capacity),
      verdicts: slot?.verdicts,
    };
  }

  async function processBatch(batch: SourceBatch, slot: Slot): Promise<BatchStats | null> {
    const started = performance.now();
    const { partition } = batch;
    const { scorer, features, scorerRows, scores, status, times } = slot;
    const scorerColumns = slot.columns;
    const scorerWidth = scorerColumns.length;
    for (let attempt = 0; ; attempt++) {
      const part = owned.get(partition);
      if (part === undefined) return null; // revoked: the new owner will process these records
      const { from, engine } = part;
      const records = from === null ? batch.records : batch.records.filter((r) => r.offset >= from);
      const last = batch.records[batch.records.length - 1];
      if (last === undefined) return null;
      const to = last.offset + 1n;
      if (records.length === 0) {
        // Everything here was already written by an earlier run; let the broker catch up (a failed
        // commit only means redelivery, as below).
        await source.commit([{ topic: batch.topic, partition, offset: from ?? to }]).catch((err: unknown) => {
          logger.warn({ err, partition }, "offset commit to the broker failed");
        });
        return null;
      }
      const ingestedAt = Date.now();
      let mark = performance.now();
      const stageMs: Record<BatchStage, number> = { dedupe: 0, compute: 0, send: 0, write: 0, commit: 0 };
      const lap = (stage: BatchStage): void => {
        const now = performance.now();
        stageMs[stage] += now - mark;
        mark = now;
      };
      const scored: ScoredRow[] = [];
      const flagged: ScoredRow[] = [];
      const deadLetters: DeadLetterRow[] = [];
      const outbound: OutboundMessage[] = [];
      const valid: { parsed: Accepted; record: SourceRecord }[] = [];
      for (const r of records) {
        const parsed = parseRecord(r.value, { maxBytes: opts.maxEventBytes });
        if (parsed.ok) {
          valid.push({ parsed, record: r });
        } else {
          deadLetters.push(deadLetter(batch.topic, partition, r, parsed));
          outbound.push(dlqMessage(batch.topic, partition, r, parsed));
        }
      }
      // Duplicates (the same transaction again: a producer retry, a replay) are skipped before they
      // can touch any user's state: already stored, or earlier in this batch.
      lap("compute");
      const stored =
        valid.length === 0
          ? new Set<string>()
          : await retry("check for duplicates", () =>
              store.findStored(
                valid.map((v) => ({
                  transactionId: v.parsed.event.transaction_id,
                  eventTime: v.parsed.eventTime,
                })),
              ),
            );
      lap("dedupe");
      const inBatch = new Set<string>();
      const parsedOk: Accepted[] = [];
      const parsedRecords: SourceRecord[] = [];
      let duplicates = 0;
      for (const { parsed, record } of valid) {
        const key = `${parsed.event.transaction_id}\u0000${parsed.eventTime}`;
        if (stored.has(parsed.event.transaction_id) || inBatch.has(key)) {
          duplicates++;
          continue;
        }
        inBatch.add(key);
        times[parsedOk.length] = parsed.eventTime;
        parsedOk.push(parsed);
        parsedRecords.push(record);
      }
      // Behavioural features, in offset order; late events change no state and are set aside.
      const late = engine.processBatch(
        parsedOk.map((p) => p.event),
        times,
        features,
        status,
      );
      const accepted: { record: SourceRecord; parsed: Accepted; row: number }[] = [];
      for (let i = 0; i < parsedOk.length; i++) {
        const parsed = parsedOk[i] as Accepted;
        const record = parsedRecords[i] as SourceRecord;
        if (status[i] === 0) {
          const k = accepted.length;
          for (let c = 0; c < scorerWidth; c++)
            scorerRows[k * scorerWidth + c] = features[i * WIDTH + (scorerColumns[c] as number)] as number;
          accepted.push({ record, parsed, row: i });
        } else {
          const why: Rejection = {
            ok: false,
            reason: "late",
            field: "timestamp",
            detail: `timestamp: ${parsed.event.timestamp} is more than ${opts.allowedLatenessMs} ms behind user ${parsed.event.user_id}'s newest event`,
            transactionId: parsed.event.transaction_id,
          };
          deadLetters.push(deadLetter(batch.topic, partition, record, why));
          outbound.push(dlqMessage(batch.topic, partition, record, why));
        }
      }
      scorer.scoreBatch(scorerRows, accepted.length, scores);
      const served = opts.rules.current;
      const rules = served.compiled;
      let verdicts = slot.verdicts;
      if (
        verdicts === undefined ||
        verdicts.capacity < accepted.length ||
        verdicts.ruleCount < rules.rules.length
      ) {
        verdicts = VerdictBuffer.for(rules, Math.max(accepted.length, 1024));
        slot.verdicts = verdicts;
      }
      let alerts = 0;
      const alertsByRisk: Record<string, number> = {};
      for (let i = 0; i < accepted.length; i++) {
        const { record, parsed, row: fr } = accepted[i] as (typeof accepted)[number];
        const { event } = parsed;
        const score = scores[i] as number;
        decideInto(rules, event, features, fr * WIDTH, score, verdicts, i);
        const risk = RISK_LEVELS[verdicts.risk[i] as number] as RiskLevel;
        const decision = DECISIONS[verdicts.decision[i] as number] as Decision;
        const flaggedNow = isFlagged(risk);
        const explanation = explain(scorer, verdicts, i, flaggedNow, scorerRows, i * scorerWidth, score);
        const featureMap: Record<string, number> = {};
        for (let j = 0; j < WIDTH; j++)
          featureMap[FEATURE_NAMES[j] as string] = features[fr * WIDTH + j] as number;
        const row: ScoredRow = {
          transactionId: event.transaction_id,
          eventTime: parsed.eventTime,
          userId: event.user_id,
          cardId: event.card_id ?? null,
          amount: event.amount,
          currency: event.currency,
          merchantId: event.merchant_id ?? null,
          merchantCategory: event.merchant_category ?? null,
          country: event.country ?? null,
          channel: event.channel ?? null,
          device: event.device ?? null,
          features: featureMap,
          score,
          risk,
          decision,
          modelVersion: scorer.version,
          ruleSetVersion: served.version,
          explanation,
          isFraud: isFraudLabel(event) ?? null,
          fraudType: event.fraud_type ?? null,
          payload: parsed.payload,
          source: { topic: batch.topic, partition, offset: record.offset },
          producedAt: record.timestamp,
          ingestedAt,
        };
        scored.push(row);
        if (opts.featuresTopic !== undefined) {
          outbound.push({
            topic: opts.featuresTopic,
            key: event.user_id,
            value: JSON.stringify({
              transaction_id: event.transaction_id,
              user_id: event.user_id,
              timestamp: event.timestamp,
              feature_set_version: FEATURE_SET_VERSION,
              features: featureMap,
            }),
          });
        }
        if (flaggedNow) {
          flagged.push(row);
          alerts++;
          alertsByRisk[risk] = (alertsByRisk[risk] ?? 0) + 1;
          outbound.push({
            topic: opts.anomaliesTopic,
            key: event.user_id,
            value: JSON.stringify({
              transaction_id: event.transaction_id,
              user_id: event.user_id,
              timestamp: event.timestamp,
              amount: event.amount,
              currency: event.currency,
              score,
              risk,
              decision,
              model_version: scorer.version,
              rule_set_version: served.version,
              explanation,
              features: featureMap,
            }),
          });
        }
      }
      lap("compute");
      // A broker outage is waited out; an error no retry can fix (a message the broker refuses) stops
      // the worker rather than dropping the batch.
      if (outbound.length > 0)
        await retry("send to output topics", () => opts.sink.send(outbound), opts.isTransientSinkError);
      lap("send");
      const userStates: UserStateWrite[] = [];
      for (const userId of engine.dirtyUsers()) {
        userStates.push({
          group: opts.group,
          topic: batch.topic,
          partition,
          userId,
          state: engine.serializeUser(userId) ?? null,
        });
      }
      try {
        await retry("write batch", () =>
          store.writeBatch({
            scored,
            deadLetters,
            checkpoints: [
              { group: opts.group, topic: batch.topic, partition, from, to, watermarkMs: engine.watermark },
            ],
            userStates,
            alerts: flagged,
          }),
        );
      } catch (err) {
        if (!(err instanceof CheckpointConflictError) || attempt >= 5) throw err;
        // The partition is on its way out: its new owner processes these records.
        if (revoking.has(partition)) return null;
        // Another worker moved this partition's checkpoint: we may have lost it, or it was handed back
        // to us after someone else progressed. The engine has moved on past what is stored: reload the
        // checkpoint and the state, and redo the batch from the stored position.
        logger.warn({ partition, attempt }, "checkpoint moved by another worker; reloading");
        opts.onRetry?.("write batch", err);
        if (owned.has(partition)) await loadPartitions([partition]);
        continue;
      }
      lap("write");
      engine.clearDirty();
      part.from = to;
      // Idle users leave memory; their deletion is checkpointed with the next batch.
      if (performance.now() - part.lastExpire > EXPIRE_EVERY_MS) {
        part.lastExpire = performance.now();
        const dropped = engine.expire();
        if (dropped.length > 0) logger.debug({ partition, users: dropped.length }, "idle users expired");
      }
      try {
        await source.commit([{ topic: batch.topic, partition, offset: to }]);
      } catch (err) {
        // The database holds the truth; a broker commit lost here only means a few records are
        // redelivered and skipped on restart.
        logger.warn({ err, partition }, "offset commit to the broker failed");
      }
      lap("commit");
      return {
        partition,
        records: records.length,
        scored: scored.length,
        deadLetters: deadLetters.length,
        deadLettersByReason: countBy(deadLetters, (d) => d.reason),
        alerts,
        alertsByRisk,
        producedAt: scored.map((r) => r.producedAt),
        skipped: batch.records.length - records.length,
        late,
        duplicates,
        durationMs: performance.now() - started,
        stageMs,
      };
    }
  }

  function deadLetter(
    topic: string,
    partition: number,
    r: SourceBatch["records"][number],
    why: Rejection,
  ): DeadLetterRow {
    return {
      topic,
      partition,
      offset: r.offset,
      key: r.key,
      raw: r.value,
      reason: why.reason,
      detail: why.detail,
      field: why.field ?? null,
      transactionId: why.transactionId ?? null,
      producedAt: r.timestamp,
    };
  }

  function dlqMessage(
    topic: string,
    partition: number,
    r: SourceBatch["records"][number],
    why: Rejection,
  ): OutboundMessage {
    // The original bytes travel untouched (even when they are not UTF-8); the reason rides in headers,
    // as Kafka Connect's dead-letter queues do.
    const headers: Record<string, string> = {
      "x-dlq-reason": why.reason,
      "x-dlq-detail": why.detail,
      "x-dlq-source": `${topic}/${partition}/${r.offset}`,
    };
    if (why.field !== undefined) headers["x-dlq-field"] = why.field;
    return { topic: opts.dlqTopic, key: keyText(r.key), value: r.value ?? new Uint8Array(0), headers };
  }
}

/** Columns of the full feature vector a scorer reads, in its order; an unknown feature is an error. */
function columnsOf(scorer: Scorer): Int32Array {
  return Int32Array.from(scorer.featureNames, (name) => featureIndex(name));
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}
