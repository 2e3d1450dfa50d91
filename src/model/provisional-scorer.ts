// PROVISIONAL scorer: a hand-set formula over a few behavioural features, standing in until trained
// isolation forests are served. It is deliberately simple and says what it is in its version string,
// so no decision made with it can be mistaken for a model's.
import type { Scorer } from "./scorer.ts";

export const PROVISIONAL_SCORER_VERSION = "provisional-heuristic-v1";

/** The features it reads, in this column order. */
export const PROVISIONAL_FEATURES = [
  "amount_zscore",
  "user_txn_count",
  "is_new_device",
  "is_new_country",
  "is_foreign",
  "speed_from_prev_kmh",
  "txn_count_1m",
  "txn_count_1h",
  "hour_of_day",
] as const;

/**
 * score = 1 − Π(1 − pᵢ) over independent signals, each a probability-like weight:
 * amount far above the user's own history (z-score), a new device and a new country for a user with
 * some history, travel faster than an airliner since the previous payment, bursts within a minute or
 * an hour, night hours. Range [0, 1), higher = more anomalous. Amounts are judged against the user's
 * own history, never in absolute currency units (users pay in 16 currencies).
 */
export function createProvisionalScorer(): Scorer {
  const width = PROVISIONAL_FEATURES.length;
  return {
    version: PROVISIONAL_SCORER_VERSION,
    featureNames: PROVISIONAL_FEATURES,
    scoreBatch(rows: Float64Array, n: number, out: Float64Array): void {
      for (let i = 0, b = 0; i < n; i++, b += width) {
        const z = rows[b] as number;
        const history = rows[b + 1] as number;
        const newDevice = rows[b + 2] as number;
        const newCountry = rows[b + 3] as number;
        const foreign = rows[b + 4] as number;
        const speed = rows[b + 5] as number;
        const perMinute = rows[b + 6] as number;
        const perHour = rows[b + 7] as number;
        const hour = rows[b + 8] as number;
        let keep = 1; // Π(1 − pᵢ)
        if (history >= 3) {
          keep *= 1 - 0.85 / (1 + Math.exp(-(z - 4)));
          if (newDevice === 1 && newCountry === 1) keep *= 0.35;
          else if (newCountry === 1) keep *= 0.8;
          else if (newDevice === 1) keep *= 0.85;
        }
        if (foreign === 1) keep *= 0.9;
        if (speed > 900) keep *= 0.25;
        if (perMinute >= 3) keep *= 0.2;
        else if (perHour >= 8) keep *= 0.5;
        if (hour < 5) keep *= 0.9;
        out[i] = 1 - keep;
      }
    },
  };
}
