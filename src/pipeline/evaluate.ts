// The per-batch computation, as stages: parse → dedupe → features → score → decide → rows and messages.
// No I/O: the worker hands in what the database said (which transactions are already stored) and
// sends, writes and commits what comes out; `backtest`, training and the benchmarks run the same
// stages over events read from files, so what is trained, backtested and served cannot drift apart.

import {
  anomalyMessage,
  DECISIONS,
  type Decision,
  featureMessage,
  isFlagged,
  RISK_LEVELS,
  type RiskLevel,
} from "../contract/outputs.ts";
import { type Accepted, parseRecord, type Rejection } from "../contract/parse.ts";
import { isFraudLabel, type Transaction } from "../contract/transaction.ts";
import { decideInto, VerdictBuffer } from "../decide/decide.ts";
import { explanationAt } from "../decide/explanation.ts";
import type { ServedRules } from "../decide/serving.ts";
import type { FeatureEngine } from "../features/engine.ts";
import { FEATURE_NAMES, FEATURE_SET_VERSION, featureIndex } from "../features/registry.ts";
import type { Scorer } from "../model/scorer.ts";
import type {
  DeadLetterRow,
  OutboundMessage,
  ScoredRow,
  SourceBatch,
  SourceRecord,
  TransactionKey,
} from "./ports.ts";

/** Width of the full feature vector every stage reads. */
export const WIDTH = FEATURE_NAMES.length;

/** Columns of the full feature vector a scorer reads, in its order; an unknown feature is an error. */
export function columnsOf(scorer: Scorer): Int32Array {
  return Int32Array.from(scorer.featureNames, (name) => featureIndex(name));
}

/** Where the features stage writes: n × WIDTH feature values and a status per event. */
export interface FeatureRows {
  readonly features: Float64Array;
  readonly status: Uint8Array;
}

/** Feature rows with room for `n` events: `previous` when it is large enough. */
export function featureRows(n: number, previous?: FeatureRows): FeatureRows {
  if (previous !== undefined && previous.status.length >= n) return previous;
  return { features: new Float64Array(n * WIDTH), status: new Uint8Array(n) };
}

/**
 * A batch's working memory: the scorer current when the batch was taken (one batch is scored by one
 * model from start to end) and typed buffers reused from batch to batch.
 */
export class BatchBuffers implements FeatureRows {
  readonly scorer: Scorer;
  /** The scorer's columns in the full feature vector. */
  readonly columns: Int32Array;
  readonly capacity: number;
  /** capacity × WIDTH, row-major: the full feature vector of each event. */
  readonly features: Float64Array;
  /** 0: features computed; 1: late (no state change, row NaN). */
  readonly status: Uint8Array;
  readonly times: Float64Array;
  /** Rows projected onto the scorer's columns, one per accepted event. */
  readonly scorerRows: Float64Array;
  readonly scores: Float64Array;
  /** For each accepted event k, its row in `features`. */
  readonly acceptedRows: Int32Array;
  verdicts: VerdictBuffer | undefined;

  constructor(scorer: Scorer, columns: Int32Array, capacity: number, verdicts?: VerdictBuffer) {
    this.scorer = scorer;
    this.columns = columns;
    this.capacity = capacity;
    this.features = new Float64Array(capacity * WIDTH);
    this.status = new Uint8Array(capacity);
    this.times = new Float64Array(capacity);
    this.scorerRows = new Float64Array(capacity * columns.length);
    this.scores = new Float64Array(capacity);
    this.acceptedRows = new Int32Array(capacity);
    this.verdicts = verdicts;
  }

  /** These buffers if they fit `n` events of `scorer`, else new ones (keeping the verdict buffer). */
  static reuse(
    previous: BatchBuffers | undefined,
    scorer: Scorer,
    columns: Int32Array,
    n: number,
  ): BatchBuffers {
    if (previous !== undefined && previous.capacity >= n && previous.scorer === scorer) return previous;
    const capacity = Math.max(n, previous?.capacity ?? 0, 1024);
    return new BatchBuffers(scorer, columns, capacity, previous?.verdicts);
  }

  /** A verdict buffer with room for `n` rows of `rules`. */
  verdictsFor(rules: ServedRules["compiled"], n: number): VerdictBuffer {
    const v = this.verdicts;
    if (v !== undefined && v.capacity >= n && v.ruleCount >= rules.rules.length) return v;
    this.verdicts = VerdictBuffer.for(rules, Math.max(n, 1024));
    return this.verdicts;
  }
}

// ---- stage 1: parse -------------------------------------------------------------------------------

export interface ParsedRecord {
  parsed: Accepted;
  record: SourceRecord;
}

export interface RejectedRecord {
  record: SourceRecord;
  why: Rejection;
}

export interface ParsedBatch {
  valid: ParsedRecord[];
  rejected: RejectedRecord[];
}

/** Bytes → contract events, each bad record with the reason it was rejected. */
export function parseRecords(records: readonly SourceRecord[], maxEventBytes: number): ParsedBatch {
  const valid: ParsedRecord[] = [];
  const rejected: RejectedRecord[] = [];
  for (const record of records) {
    const parsed = parseRecord(record.value, { maxBytes: maxEventBytes });
    if (parsed.ok) valid.push({ parsed, record });
    else rejected.push({ record, why: parsed });
  }
  return { valid, rejected };
}

/** What the dedupe stage asks the store: which of these are already stored. */
export function storedKeys(valid: readonly ParsedRecord[]): TransactionKey[] {
  return valid.map((v) => ({ transactionId: v.parsed.event.transaction_id, eventTime: v.parsed.eventTime }));
}

// ---- stage 2: dedupe ------------------------------------------------------------------------------

/**
 * Duplicates (the same transaction again: a producer retry, a replay) are dropped before they can
 * touch any user's state: already stored, or earlier in this batch. The rest keep their order.
 */
export function dedupe(
  valid: readonly ParsedRecord[],
  stored: ReadonlySet<string>,
): { fresh: ParsedRecord[]; duplicates: number } {
  const inBatch = new Set<string>();
  const fresh: ParsedRecord[] = [];
  for (const v of valid) {
    const key = `${v.parsed.event.transaction_id}\u0000${v.parsed.eventTime}`;
    if (stored.has(v.parsed.event.transaction_id) || inBatch.has(key)) continue;
    inBatch.add(key);
    fresh.push(v);
  }
  return { fresh, duplicates: valid.length - fresh.length };
}

// ---- stage 3: features ----------------------------------------------------------------------------

/**
 * Behavioural features of `events`, in order, into buf.features (and buf.status: late events change
 * no state and are marked 1). `times[i]` is events[i]'s event time, epoch ms. Returns the late count.
 */
export function computeFeatures(
  engine: FeatureEngine,
  events: readonly Transaction[],
  times: ArrayLike<number>,
  buf: FeatureRows,
): number {
  return engine.processBatch(events, times, buf.features, buf.status);
}

// ---- stage 4: score -------------------------------------------------------------------------------

/**
 * Scores the first `n` events whose status is 0 (accepted): their features are projected onto the
 * scorer's columns, scored into buf.scores[0..k), and buf.acceptedRows[k] names each one's row.
 * Returns k, the number scored.
 */
export function scoreAccepted(buf: BatchBuffers, n: number): number {
  const { columns, features, scorerRows, status, acceptedRows } = buf;
  const w = columns.length;
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (status[i] !== 0) continue;
    for (let c = 0; c < w; c++)
      scorerRows[k * w + c] = features[i * WIDTH + (columns[c] as number)] as number;
    acceptedRows[k++] = i;
  }
  buf.scorer.scoreBatch(scorerRows, k, buf.scores);
  return k;
}

// ---- stages 5 and 6: decide, then rows and messages ------------------------------------------------

export interface EvaluateSettings {
  dlqTopic: string;
  anomaliesTopic: string;
  /** Feature vectors of accepted events go here; undefined: not published. */
  featuresTopic?: string | undefined;
  allowedLatenessMs: number;
}

/** What one batch comes to: what the worker sends, writes and counts. */
export interface BatchOutcome {
  scored: ScoredRow[];
  /** The flagged ones among `scored` (each becomes an alert). */
  alerts: ScoredRow[];
  alertsByRisk: Record<string, number>;
  deadLetters: DeadLetterRow[];
  /** Dead letters, feature vectors and anomalies for the output topics, in that order per event. */
  outbound: OutboundMessage[];
  duplicates: number;
  late: number;
}

/**
 * Everything after the store was asked which transactions it holds: dedupe, features (changing the
 * engine's user state), score, decide, and the rows, alerts, dead letters and messages of the batch.
 */
export function evaluateBatch(input: {
  batch: Pick<SourceBatch, "topic" | "partition">;
  parsed: ParsedBatch;
  stored: ReadonlySet<string>;
  engine: FeatureEngine;
  buffers: BatchBuffers;
  rules: ServedRules;
  settings: EvaluateSettings;
  ingestedAt: number;
}): BatchOutcome {
  const { batch, parsed, engine, buffers: buf, rules: served, settings, ingestedAt } = input;
  const { topic, partition } = batch;
  const deadLetters: DeadLetterRow[] = [];
  const outbound: OutboundMessage[] = [];
  const reject = (record: SourceRecord, why: Rejection): void => {
    deadLetters.push(deadLetterRow(topic, partition, record, why));
    outbound.push(dlqMessage(settings.dlqTopic, topic, partition, record, why));
  };
  for (const { record, why } of parsed.rejected) reject(record, why);

  const { fresh, duplicates } = dedupe(parsed.valid, input.stored);
  const events = fresh.map((f) => f.parsed.event);
  for (let i = 0; i < fresh.length; i++) buf.times[i] = (fresh[i] as ParsedRecord).parsed.eventTime;
  const late = computeFeatures(engine, events, buf.times, buf);
  for (let i = 0; i < fresh.length; i++) {
    if (buf.status[i] === 0) continue;
    const { parsed: p, record } = fresh[i] as ParsedRecord;
    reject(record, {
      ok: false,
      reason: "late",
      field: "timestamp",
      detail: `timestamp: ${p.event.timestamp} is more than ${settings.allowedLatenessMs} ms behind user ${p.event.user_id}'s newest event`,
      transactionId: p.event.transaction_id,
    });
  }

  const n = scoreAccepted(buf, fresh.length);
  const rules = served.compiled;
  const verdicts = buf.verdictsFor(rules, n);
  const { scorer, features, scores, acceptedRows } = buf;
  const scorerWidth = buf.columns.length;
  const scored: ScoredRow[] = [];
  const alerts: ScoredRow[] = [];
  const alertsByRisk: Record<string, number> = {};
  for (let k = 0; k < n; k++) {
    const fr = acceptedRows[k] as number;
    const { parsed: p, record } = fresh[fr] as ParsedRecord;
    const { event } = p;
    const score = scores[k] as number;
    decideInto(rules, event, features, fr * WIDTH, score, verdicts, k);
    const risk = RISK_LEVELS[verdicts.risk[k] as number] as RiskLevel;
    const decision = DECISIONS[verdicts.decision[k] as number] as Decision;
    const flagged = isFlagged(risk);
    // Factors (the costlier part of an explanation) only for alerts.
    const explanation = explanationAt(
      rules.rules,
      verdicts,
      k,
      score,
      flagged ? { source: scorer, rows: buf.scorerRows, at: k * scorerWidth } : undefined,
    );
    const featureMap: Record<string, number> = {};
    for (let j = 0; j < WIDTH; j++)
      featureMap[FEATURE_NAMES[j] as string] = features[fr * WIDTH + j] as number;
    const row: ScoredRow = {
      transactionId: event.transaction_id,
      eventTime: p.eventTime,
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
      payload: p.payload,
      source: { topic, partition, offset: record.offset },
      producedAt: record.timestamp,
      ingestedAt,
    };
    scored.push(row);
    if (settings.featuresTopic !== undefined) {
      outbound.push({
        topic: settings.featuresTopic,
        key: event.user_id,
        value: JSON.stringify(featureMessage(row, event.timestamp, FEATURE_SET_VERSION)),
      });
    }
    if (flagged) {
      alerts.push(row);
      alertsByRisk[risk] = (alertsByRisk[risk] ?? 0) + 1;
      outbound.push({
        topic: settings.anomaliesTopic,
        key: event.user_id,
        value: JSON.stringify(anomalyMessage(row, event.timestamp)),
      });
    }
  }
  return { scored, alerts, alertsByRisk, deadLetters, outbound, duplicates, late };
}

function deadLetterRow(topic: string, partition: number, r: SourceRecord, why: Rejection): DeadLetterRow {
  return {
    topic,
    partition,
    offset: r.offset,
    key: r.key,
    raw: r.value,
    reason: why.reason,
    detail: why.detail,
    field: why.field ?? null,
    errors: why.errors ?? [],
    transactionId: why.transactionId ?? null,
    producedAt: r.timestamp,
  };
}

const decoder = new TextDecoder();

function dlqMessage(
  dlqTopic: string,
  topic: string,
  partition: number,
  r: SourceRecord,
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
  // Every failing field at once, as JSON [{path, reason}], so a producer fixes them in one round.
  if (why.errors !== undefined && why.errors.length > 0) headers["x-dlq-errors"] = JSON.stringify(why.errors);
  const key = r.key === null ? null : decoder.decode(r.key);
  return { topic: dlqTopic, key, value: r.value ?? new Uint8Array(0), headers };
}
