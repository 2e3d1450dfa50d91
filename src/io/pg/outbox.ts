// The alerts table as the notification outbox (migration 0005). `claim` leases due alerts to one
// notifier (FOR UPDATE SKIP LOCKED, then a lease time), so concurrent notifiers split the work and an
// alert is posted by one of them; a notifier that dies loses its lease and another takes the alert over.
import { type Alert, type AlertRow, alertColumns, toAlert } from "./alerts.ts";
import type { Db } from "./db.ts";

export interface Outbox {
  /** Up to `limit` alerts of at least these risk levels, due now, leased for `leaseMs`. */
  claim(risks: readonly string[], limit: number, leaseMs: number): Promise<ClaimedAlert[]>;
  sent(transactionId: string): Promise<void>;
  failed(transactionId: string, error: string, retryInMs: number): Promise<void>;
  /**
   * Gives back the leases of claimed alerts this notifier will not post (it is stopping): due now
   * again. An alert whose lease has run out and been taken by another notifier is left alone.
   */
  release(claimed: readonly Pick<ClaimedAlert, "transactionId" | "lease">[]): Promise<void>;
}

/** An alert leased to one notifier: its attempts so far, and the lease's end as the database wrote it. */
export type ClaimedAlert = Alert & { attempts: number; lease: string };

export function createOutbox(db: Db): Outbox {
  return {
    claim(risks, limit, leaseMs) {
      return db.transaction(async (tx) => {
        const r = await tx.query<AlertRow & { notify_attempts: number; lease: string }>(
          `UPDATE alerts SET notify_next_at = now() + make_interval(secs => $3::float8 / 1000)
            WHERE transaction_id IN (
              SELECT transaction_id FROM alerts
               WHERE notified_at IS NULL AND risk = ANY($1::text[])
                 AND (notify_next_at IS NULL OR notify_next_at <= now())
               ORDER BY seq LIMIT $2::int4
               FOR UPDATE SKIP LOCKED)
            RETURNING ${alertColumns}, notify_attempts, notify_next_at::text AS lease`,
          [[...risks], String(limit), String(leaseMs)],
        );
        return r.rows
          .map((row) => ({ ...toAlert(row), attempts: row.notify_attempts, lease: row.lease }))
          .sort((a, b) => a.seq - b.seq);
      });
    },
    async sent(id) {
      await db.query("UPDATE alerts SET notified_at = now(), notify_error = NULL WHERE transaction_id = $1", [
        id,
      ]);
    },
    async failed(id, error, retryInMs) {
      await db.query(
        `UPDATE alerts SET notify_attempts = notify_attempts + 1, notify_error = left($2, 500),
                notify_next_at = now() + make_interval(secs => $3::float8 / 1000)
          WHERE transaction_id = $1`,
        [id, error, String(retryInMs)],
      );
    },
    async release(claimed) {
      if (claimed.length === 0) return;
      await db.query(
        `UPDATE alerts a SET notify_next_at = NULL
           FROM jsonb_to_recordset($1::jsonb) AS r(id text, lease timestamptz)
          WHERE a.transaction_id = r.id AND a.notify_next_at = r.lease AND a.notified_at IS NULL`,
        [JSON.stringify(claimed.map((c) => ({ id: c.transactionId, lease: c.lease })))],
      );
    },
  };
}
