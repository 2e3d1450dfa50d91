// Alerts and analyst feedback (migration 0004) as the API reads and writes them. Every statement is
// parameterised; filters are optional parameters tested for NULL in SQL, so one statement serves every
// combination and no text is ever spliced into SQL.
import {
  type Alert,
  type AlertStatus,
  type RiskLevel,
  readStoredExplanation,
} from "../../contract/outputs.ts";
import type { Db, SqlParam } from "./db.ts";
import { iso, numberOrNull, type RowOf } from "./rows.ts";

export type { Alert, AlertStatus };

export interface AlertFilter {
  userId?: string | undefined;
  risk?: readonly RiskLevel[] | undefined;
  status?: AlertStatus | undefined;
  /** Event time bounds, ISO 8601, inclusive from, exclusive to. */
  from?: string | undefined;
  to?: string | undefined;
  /** Newest first: only alerts with seq below this (the previous page's nextCursor). */
  before?: number | undefined;
  limit: number;
}

/** An alerts row as selected with `alertColumns`. */
export type AlertRow = RowOf<
  Alert,
  "eventTime" | "reviewedAt" | "createdAt",
  "seq" | "amount",
  "explanation"
>;

/**
 * The list's filter, shared with the count so "N matching" means what the pages show. $1..$5 are the
 * filters, $6 the cursor (NULL when counting: the total covers every page).
 */
const FILTER = `($1::text IS NULL OR user_id = $1)
            AND ($2::text[] IS NULL OR risk = ANY($2::text[]))
            AND ($3::text IS NULL OR status = $3)
            AND ($4::timestamptz IS NULL OR event_time >= $4::timestamptz)
            AND ($5::timestamptz IS NULL OR event_time < $5::timestamptz)
            AND ($6::bigint IS NULL OR seq < $6::bigint)`;

function filterParams(f: Omit<AlertFilter, "limit">): SqlParam[] {
  return [
    f.userId ?? null,
    f.risk === undefined || f.risk.length === 0 ? null : [...f.risk],
    f.status ?? null,
    f.from ?? null,
    f.to ?? null,
    f.before === undefined ? null : String(f.before),
  ];
}

export const alertColumns = `seq::text AS seq, transaction_id, event_time, user_id, amount::text AS amount, currency, country,
  merchant_category, score, risk, decision, explanation, model_version, rule_set_version, is_fraud, fraud_type,
  status, assignee, reviewed_by, reviewed_at, note, created_at`;

export function toAlert(r: AlertRow): Alert {
  return {
    seq: Number(r.seq),
    transactionId: r.transaction_id,
    eventTime: iso(r.event_time),
    userId: r.user_id,
    amount: Number(r.amount),
    currency: r.currency,
    country: r.country,
    merchantCategory: r.merchant_category,
    score: numberOrNull(r.score),
    risk: r.risk,
    decision: r.decision,
    // NOT NULL, but `{}` in rows written before explanations had a shape.
    explanation: readStoredExplanation(r.explanation) ?? {},
    modelVersion: r.model_version,
    ruleSetVersion: r.rule_set_version,
    isFraud: r.is_fraud,
    fraudType: r.fraud_type,
    status: r.status,
    assignee: r.assignee,
    reviewedBy: r.reviewed_by,
    reviewedAt: r.reviewed_at === null ? null : iso(r.reviewed_at),
    note: r.note,
    createdAt: iso(r.created_at),
  };
}

/** Where the webhook notification of one alert stands (migration 0005's columns). */
export interface NotificationState {
  state: "delivered" | "pending" | "retrying";
  /** Posts tried so far, the delivered one included. */
  attempts: number;
  lastError: string | null;
  /** Not delivered: when a notifier may next post it (a failure's retry time, or the end of a lease). */
  nextAttemptAt: string | null;
  deliveredAt: string | null;
}

export interface AlertStore {
  list(filter: AlertFilter): Promise<{ items: Alert[]; nextCursor: number | null }>;
  /**
   * How many alerts match the filter over all pages (its cursor and limit are ignored), counting at most
   * `cap`: `capped` says more match. The cap keeps a broad filter over a large table from a full count.
   */
  count(filter: Omit<AlertFilter, "limit">, cap: number): Promise<{ total: number; capped: boolean }>;
  get(transactionId: string): Promise<Alert | null>;
  /** Alerts with seq above `after`, oldest first (the live stream and its resumption). */
  since(after: number, limit: number): Promise<Alert[]>;
  /** Labels an alert; null when there is no such alert. The label history keeps every call. */
  label(
    transactionId: string,
    label: Exclude<AlertStatus, "open">,
    by: string,
    note: string | null,
  ): Promise<Alert | null>;
  /** Assigns an alert to an analyst (null unassigns). */
  assign(transactionId: string, assignee: string | null): Promise<Alert | null>;
  /** The alert's webhook delivery state; null when there is no such alert. */
  notification(transactionId: string): Promise<NotificationState | null>;
  feedback(transactionId: string): Promise<{ label: string; note: string | null; by: string; at: string }[]>;
}

export function createAlertStore(db: Db): AlertStore {
  return {
    async list(f) {
      const r = await db.query<AlertRow>(
        `SELECT ${alertColumns} FROM alerts
          WHERE ${FILTER}
          ORDER BY alerts.seq DESC
          LIMIT $7::int4`,
        [...filterParams(f), String(f.limit + 1)],
      );
      const items = r.rows.slice(0, f.limit).map(toAlert);
      const last = items[items.length - 1];
      return { items, nextCursor: r.rows.length > f.limit && last !== undefined ? last.seq : null };
    },
    async count(f, cap) {
      const r = await db.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM (SELECT 1 FROM alerts WHERE ${FILTER} LIMIT $7::int4) AS matching`,
        [...filterParams({ ...f, before: undefined }), String(cap + 1)],
      );
      const n = Number(r.rows[0]?.n ?? 0);
      return { total: Math.min(n, cap), capped: n > cap };
    },
    async get(id) {
      const r = await db.query<AlertRow>(`SELECT ${alertColumns} FROM alerts WHERE transaction_id = $1`, [
        id,
      ]);
      const row = r.rows[0];
      return row === undefined ? null : toAlert(row);
    },
    async since(after, limit) {
      const r = await db.query<AlertRow>(
        `SELECT ${alertColumns} FROM alerts WHERE seq > $1::bigint ORDER BY alerts.seq LIMIT $2::int4`,
        [String(after), String(limit)],
      );
      return r.rows.map(toAlert);
    },
    label(id, label, by, note) {
      return db.transaction(async (tx) => {
        const r = await tx.query<AlertRow>(
          `UPDATE alerts SET status = $2, reviewed_by = $3, reviewed_at = now(), note = $4
            WHERE transaction_id = $1 RETURNING ${alertColumns}`,
          [id, label, by, note],
        );
        const row = r.rows[0];
        if (row === undefined) return null;
        await tx.query(
          "INSERT INTO feedback (transaction_id, label, note, given_by) VALUES ($1, $2, $3, $4)",
          [id, label, note, by],
        );
        return toAlert(row);
      });
    },
    async assign(id, assignee) {
      const r = await db.query<AlertRow>(
        `UPDATE alerts SET assignee = $2 WHERE transaction_id = $1 RETURNING ${alertColumns}`,
        [id, assignee],
      );
      const row = r.rows[0];
      return row === undefined ? null : toAlert(row);
    },
    async notification(id) {
      const r = await db.query<{
        notified_at: Date | string | null;
        notify_attempts: number;
        notify_next_at: Date | string | null;
        notify_error: string | null;
      }>(
        "SELECT notified_at, notify_attempts, notify_next_at, notify_error FROM alerts WHERE transaction_id = $1",
        [id],
      );
      const row = r.rows[0];
      if (row === undefined) return null;
      const delivered = row.notified_at !== null;
      return {
        state: delivered ? "delivered" : row.notify_error === null ? "pending" : "retrying",
        attempts: row.notify_attempts,
        lastError: row.notify_error,
        nextAttemptAt: delivered || row.notify_next_at === null ? null : iso(row.notify_next_at),
        deliveredAt: row.notified_at === null ? null : iso(row.notified_at),
      };
    },
    async feedback(id) {
      const r = await db.query<{
        label: string;
        note: string | null;
        given_by: string;
        given_at: Date | string;
      }>("SELECT label, note, given_by, given_at FROM feedback WHERE transaction_id = $1 ORDER BY id", [id]);
      return r.rows.map((f) => ({ label: f.label, note: f.note, by: f.given_by, at: iso(f.given_at) }));
    },
  };
}
