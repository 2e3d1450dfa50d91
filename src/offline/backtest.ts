// Backtests: a rule set and/or a model run over historical events through the very code the worker runs
// (contract parser, feature engine, scorer, decide), compared side by side on the labels the events
// carry. Each configuration gets alert volume, precision and recall at its own flag decision, PR-AUC and
// ROC-AUC of its ranking, and per-rule hit counts and overlaps.
//
// Ranking: a configuration ranks events by its risk points (score points + rule weights), ties broken by
// the model score, so that PR-AUC compares what each configuration can tell apart, not only where it
// happens to put its flag cut-off. The model alone ranks by its score.

import { DECISIONS, isFlagged, RISK_LEVELS, type RiskLevel } from "../contract/outputs.ts";
import { isFraudLabel, parseEventTime, type Transaction } from "../contract/transaction.ts";
import type { CompiledRuleSet } from "../decide/compile.ts";
import { decideInto, VerdictBuffer } from "../decide/decide.ts";
import { FeatureEngine } from "../features/engine.ts";
import { averagePrecision, rocAuc } from "../model/evaluate.ts";
import type { Scorer } from "../model/scorer.ts";
import { BatchBuffers, columnsOf, computeFeatures, scoreAccepted, WIDTH } from "../pipeline/evaluate.ts";

export interface BacktestConfig {
  name: string;
  rules: CompiledRuleSet;
  /** Rank by the model score alone (the "model only" baseline), not by points. */
  rankByScore?: boolean;
}

export interface ConfigReport {
  name: string;
  ruleSetVersion: string;
  events: number;
  alerts: number;
  alertRate: number;
  truePositives: number;
  precision: number | null;
  recall: number | null;
  prAuc: number | null;
  rocAuc: number | null;
  decisions: Record<string, number>;
  /** Per rule: events it hit, and how many of those were fraud. */
  rules: { id: string; hits: number; fraudHits: number; precision: number | null }[];
  /** Events hit by both rules of a pair (pairs with at least one such event). */
  overlaps: { a: string; b: string; events: number }[];
}

export interface BacktestReport {
  events: number;
  labelled: number;
  fraud: number;
  skipped: number;
  modelVersion: string;
  configs: ConfigReport[];
}

interface Accumulator {
  config: BacktestConfig;
  buffer: VerdictBuffer;
  ranking: number[];
  alerts: number;
  tp: number;
  decisions: Record<string, number>;
  hits: Int32Array;
  fraudHits: Int32Array;
  pairs: Int32Array;
}

/**
 * Runs `events` (in arrival order) through features, the scorer and every configuration. `labels`:
 * the event's is_fraud (events without one count as not labelled and are left out of the metrics).
 */
export class Backtest {
  readonly #engine: FeatureEngine;
  readonly #scorer: Scorer;
  readonly #columns: Int32Array;
  readonly #acc: Accumulator[];
  #buffers: BatchBuffers | undefined;
  readonly #labels: number[] = [];
  readonly #scores: number[] = [];
  #events = 0;
  #skipped = 0;

  constructor(opts: {
    scorer: Scorer;
    configs: BacktestConfig[];
    allowedLatenessMs: number;
    stateTtlMs: number;
  }) {
    this.#engine = new FeatureEngine({
      allowedLatenessMs: opts.allowedLatenessMs,
      stateTtlMs: opts.stateTtlMs,
    });
    this.#scorer = opts.scorer;
    this.#columns = columnsOf(opts.scorer);
    this.#acc = opts.configs.map((config) => {
      const n = config.rules.rules.length;
      return {
        config,
        buffer: VerdictBuffer.for(config.rules, 1),
        ranking: [],
        alerts: 0,
        tp: 0,
        decisions: {},
        hits: new Int32Array(n),
        fraudHits: new Int32Array(n),
        pairs: new Int32Array(n * n),
      };
    });
  }

  /** Adds a batch of valid events in arrival order; `skipped` counts invalid rows the caller dropped. */
  add(events: readonly Transaction[], skipped = 0): void {
    this.#skipped += skipped;
    const n = events.length;
    if (n === 0) return;
    // The worker's own stages: features, then the scorer over the events that were not late.
    const buf = BatchBuffers.reuse(this.#buffers, this.#scorer, this.#columns, n);
    this.#buffers = buf;
    const times = Float64Array.from(events, (e) => parseEventTime(e.timestamp));
    this.#skipped += computeFeatures(this.#engine, events, times, buf);
    const accepted = scoreAccepted(buf, n);
    const { features, scores } = buf;
    for (let k = 0; k < accepted; k++) {
      const i = buf.acceptedRows[k] as number;
      const event = events[i] as Transaction;
      const label = isFraudLabel(event);
      if (label === undefined) {
        this.#skipped++;
        continue;
      }
      this.#events++;
      const y = label ? 1 : 0;
      const score = scores[k] as number;
      this.#labels.push(y);
      this.#scores.push(score);
      for (const a of this.#acc) {
        decideInto(a.config.rules, event, features, i * WIDTH, score, a.buffer, 0);
        const b = a.buffer;
        const risk = RISK_LEVELS[b.risk[0] as number] as RiskLevel;
        const decision = DECISIONS[b.decision[0] as number] as string;
        a.decisions[decision] = (a.decisions[decision] ?? 0) + 1;
        // Points first, the model score to break ties (scores are in (0, 1]).
        a.ranking.push(a.config.rankByScore ? score : (b.points[0] as number) + score * 1e-3);
        if (isFlagged(risk)) {
          a.alerts++;
          a.tp += y;
        }
        const count = b.hitCount[0] as number;
        const nRules = a.config.rules.rules.length;
        for (let h = 0; h < count; h++) {
          const r = b.hitRules[h] as number;
          a.hits[r] = (a.hits[r] as number) + 1;
          a.fraudHits[r] = (a.fraudHits[r] as number) + y;
          for (let k = h + 1; k < count; k++) {
            const q = b.hitRules[k] as number;
            a.pairs[r * nRules + q] = (a.pairs[r * nRules + q] as number) + 1;
          }
        }
      }
    }
  }

  report(modelVersion: string): BacktestReport {
    const labels = Uint8Array.from(this.#labels);
    const fraud = this.#labels.reduce((s, y) => s + y, 0);
    const ratio = (a: number, b: number) => (b === 0 ? null : a / b);
    const finite = (x: number) => (Number.isNaN(x) ? null : x);
    return {
      events: this.#events + this.#skipped,
      labelled: this.#events,
      fraud,
      skipped: this.#skipped,
      modelVersion,
      configs: this.#acc.map((a) => {
        const rules = a.config.rules.rules;
        const overlaps: ConfigReport["overlaps"] = [];
        for (let r = 0; r < rules.length; r++)
          for (let q = r + 1; q < rules.length; q++) {
            const events = a.pairs[r * rules.length + q] as number;
            if (events > 0)
              overlaps.push({
                a: (rules[r] as { id: string }).id,
                b: (rules[q] as { id: string }).id,
                events,
              });
          }
        const ranking = Float64Array.from(a.ranking);
        return {
          name: a.config.name,
          ruleSetVersion: a.config.rules.version,
          events: this.#events,
          alerts: a.alerts,
          alertRate: this.#events === 0 ? 0 : a.alerts / this.#events,
          truePositives: a.tp,
          precision: ratio(a.tp, a.alerts),
          recall: ratio(a.tp, fraud),
          prAuc: this.#events === 0 ? null : finite(averagePrecision(ranking, labels)),
          rocAuc: this.#events === 0 ? null : finite(rocAuc(ranking, labels)),
          decisions: a.decisions,
          rules: rules.map((rule, r) => ({
            id: rule.id,
            hits: a.hits[r] as number,
            fraudHits: a.fraudHits[r] as number,
            precision: ratio(a.fraudHits[r] as number, a.hits[r] as number),
          })),
          overlaps: overlaps.sort((x, y) => y.events - x.events),
        };
      }),
    };
  }
}
