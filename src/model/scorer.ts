// The worker scores through this interface, so the isolation forest, an imported scikit-learn model
// and the provisional scorer are interchangeable and every decision can be stamped with `version`.
import type { Factor } from "../contract/outputs.ts";

export interface Scorer {
  /** Stamped on every decision made with this scorer. */
  readonly version: string;
  /** The features this scorer reads, in the column order of `rows`. */
  readonly featureNames: readonly string[];
  /**
   * Scores `n` rows stored row-major in `rows` (n × featureNames.length) into `out[0..n)`.
   * Higher = more anomalous. Must not allocate per row.
   */
  scoreBatch(rows: Float64Array, n: number, out: Float64Array): void;
  /** Which features pushed one row's score, most anomalous push first (optional: alerts only). */
  explain?(row: ArrayLike<number>): { features: readonly Factor[] };
}

/** One feature's part in a score: the shape explanations carry (src/contract/outputs.ts). */
export type { Factor };

/**
 * Where the worker finds its scorer. A hot-reloading holder (src/app/reload.ts) replaces
 * `current` when another model is promoted; the worker reads it once per batch, so a batch is scored by
 * one model from start to end.
 */
export interface ScorerSlot {
  readonly current: Scorer;
}

/** A slot that always holds the same scorer. */
export function fixedScorer(scorer: Scorer): ScorerSlot {
  return { current: scorer };
}
