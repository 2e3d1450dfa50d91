// Scored transactions as the API reads them: one transaction with everything that explains its decision,
// the user's recent history, and labelled scores for the model page. Parameterised SQL only.
import { type HistoryItem, readStoredExplanation, type ScoredTransaction } from "../../contract/outputs.ts";
import type { Db } from "./db.ts";
import { iso, numberOrNull, type RowOf } from "./rows.ts";

export type { HistoryItem, ScoredTransaction };

/** A row of transactions_scored as selected below: amount as text (numeric), timestamps as pg returns them. */
type Row = RowOf<
  ScoredTransaction,
  "eventTime" | "producedAt" | "ingestedAt" | "processedAt",
  "amount",
  "explanation"
>;

export interface TransactionStore {
  get(transactionId: string): Promise<ScoredTransaction | null>;
  /** The user's latest transactions at or before `until` (event time), newest first. */
  history(userId: string, until: string, limit: number): Promise<HistoryItem[]>;
  /**
   * Scores with a label, newest first: an analyst's label where there is one (confirmed fraud = 1, false
   * positive = 0), else the producer's ground truth (`is_fraud`, simulated or replayed labelled data).
   */
  labelledScores(limit: number): Promise<{ scores: Float64Array; labels: Uint8Array; analystLabels: number }>;
}

export function createTransactionStore(db: Db): TransactionStore {
  return {
    async get(id) {
      const r = await db.query<Row>(
        `SELECT transaction_id, event_time, user_id, card_id, amount::text AS amount, currency, merchant_id,
                merchant_category, country, channel, device, features, score, risk, decision, model_version,
                rule_set_version, explanation, is_fraud, fraud_type, payload, produced_at, ingested_at,
                processed_at
           FROM transactions_scored WHERE transaction_id = $1
          ORDER BY event_time DESC LIMIT 1`,
        [id],
      );
      const t = r.rows[0];
      if (t === undefined) return null;
      return {
        transactionId: t.transaction_id,
        eventTime: iso(t.event_time),
        userId: t.user_id,
        cardId: t.card_id,
        amount: Number(t.amount),
        currency: t.currency,
        merchantId: t.merchant_id,
        merchantCategory: t.merchant_category,
        country: t.country,
        channel: t.channel,
        device: t.device,
        features: t.features,
        score: numberOrNull(t.score),
        risk: t.risk,
        decision: t.decision,
        modelVersion: t.model_version,
        ruleSetVersion: t.rule_set_version,
        explanation: readStoredExplanation(t.explanation),
        isFraud: t.is_fraud,
        fraudType: t.fraud_type,
        payload: t.payload,
        producedAt: iso(t.produced_at),
        ingestedAt: iso(t.ingested_at),
        processedAt: iso(t.processed_at),
      };
    },
    async history(userId, until, limit) {
      const r = await db.query<Row>(
        `SELECT transaction_id, event_time, amount::text AS amount, currency, merchant_category, country, channel,
                score, risk, decision
           FROM transactions_scored WHERE user_id = $1 AND event_time <= $2::timestamptz
          ORDER BY event_time DESC LIMIT $3::int4`,
        [userId, until, String(limit)],
      );
      return r.rows.map((h) => ({
        transactionId: h.transaction_id,
        eventTime: iso(h.event_time),
        amount: Number(h.amount),
        currency: h.currency,
        merchantCategory: h.merchant_category,
        country: h.country,
        channel: h.channel,
        score: numberOrNull(h.score),
        risk: h.risk,
        decision: h.decision,
      }));
    },
    async labelledScores(limit) {
      const r = await db.query<{ score: number; label: boolean; analyst: boolean }>(
        `SELECT t.score,
                CASE a.status WHEN 'confirmed_fraud' THEN true WHEN 'false_positive' THEN false
                              ELSE t.is_fraud END AS label,
                a.status IS NOT NULL AND a.status <> 'open' AS analyst
           FROM transactions_scored t
           LEFT JOIN alerts a ON a.transaction_id = t.transaction_id AND a.event_time = t.event_time
          WHERE t.is_fraud IS NOT NULL OR (a.status IS NOT NULL AND a.status <> 'open')
          ORDER BY t.event_time DESC LIMIT $1::int4`,
        [String(limit)],
      );
      const scores = new Float64Array(r.rows.length);
      const labels = new Uint8Array(r.rows.length);
      let analystLabels = 0;
      r.rows.forEach((row, i) => {
        scores[i] = row.score;
        labels[i] = row.label ? 1 : 0;
        if (row.analyst) analystLabels++;
      });
      return { scores, labels, analystLabels };
    },
  };
}
