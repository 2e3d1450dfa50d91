// The alerts table as the notification outbox (migration 0005). `claim` leases due alerts to one
// notifier (FOR UPDATE SKIP LOCKED, then a lease time), so concurrent notifiers split the work.
//
// Fencing: the lease's end (`notify_next_at`, as the database wrote it) is the lease token. Every later
// write of the holder (extend, sent, failed, release) names the token and changes the row only while it
// still stands. Per alert the token only grows: a new claim is possible only once the old lease has run
// out, and sets `now() + lease`, later than the old end; an extension likewise. So a notifier whose lease
// ran out and was taken over by another one can no longer extend it, mark the alert sent, or record a
// failure: its writes match no row, and it learns that it lost the alert.
import { type Alert, type AlertRow, alertColumns, toAlert } from "./alerts.ts";
import type { Db } from "./db.ts";

export interface Outbox {
  /** Up to `limit` alerts of at least these risk levels, due now, leased for `leaseMs`. */
  claim(risks: readonly string[], limit: number, leaseMs: number): Promise<ClaimedAlert[]>;
  /**
   * Extends the leases still held to `leaseMs` from now: the new token of each, by transaction id. An
   * alert missing from the answer is lost (another notifier holds it, or it was marked) and must not be
   * posted or marked by this notifier.
   */
  extend(held: readonly Lease[], leaseMs: number): Promise<Map<string, string>>;
  /** Marks the alert delivered; false when the lease no longer stands (nothing was written). */
  sent(lease: Lease): Promise<boolean>;
  /** Records a failed attempt and when to try again; false when the lease no longer stands. */
  failed(lease: Lease, error: string, retryInMs: number): Promise<boolean>;
  /**
   * Gives back the leases of claimed alerts this notifier will not post (it is stopping): due now
   * again. An alert whose lease has run out and been taken by another notifier is left alone.
   */
  release(claimed: readonly Lease[]): Promise<void>;
}

/** One claim of one alert: the alert and the lease token its holder names in every write. */
export interface Lease {
  transactionId: string;
  lease: string;
}

/** An alert leased to one notifier: its attempts so far, and the lease's end as the database wrote it. */
export type ClaimedAlert = Alert & { attempts: number; lease: string };

/** Leases as a jsonb parameter for `jsonb_to_recordset(...) AS r(id text, lease timestamptz)`. */
function leases(held: readonly Lease[]): string {
  return JSON.stringify(held.map((c) => ({ id: c.transactionId, lease: c.lease })));
}

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
    async extend(held, leaseMs) {
      if (held.length === 0) return new Map();
      const r = await db.query<{ transaction_id: string; lease: string }>(
        `UPDATE alerts a SET notify_next_at = now() + make_interval(secs => $2::float8 / 1000)
           FROM jsonb_to_recordset($1::jsonb) AS r(id text, lease timestamptz)
          WHERE a.transaction_id = r.id AND a.notify_next_at = r.lease AND a.notified_at IS NULL
          RETURNING a.transaction_id, a.notify_next_at::text AS lease`,
        [leases(held), String(leaseMs)],
      );
      return new Map(r.rows.map((row) => [row.transaction_id, row.lease]));
    },
    async sent(l) {
      const r = await db.query(
        `UPDATE alerts SET notified_at = now(), notify_attempts = notify_attempts + 1, notify_error = NULL,
                notify_next_at = NULL
          WHERE transaction_id = $1 AND notify_next_at = $2::timestamptz AND notified_at IS NULL`,
        [l.transactionId, l.lease],
      );
      return (r.rowCount ?? 0) > 0;
    },
    async failed(l, error, retryInMs) {
      const r = await db.query(
        `UPDATE alerts SET notify_attempts = notify_attempts + 1, notify_error = left($3, 500),
                notify_next_at = now() + make_interval(secs => $4::float8 / 1000)
          WHERE transaction_id = $1 AND notify_next_at = $2::timestamptz AND notified_at IS NULL`,
        [l.transactionId, l.lease, error, String(retryInMs)],
      );
      return (r.rowCount ?? 0) > 0;
    },
    async release(claimed) {
      if (claimed.length === 0) return;
      await db.query(
        `UPDATE alerts a SET notify_next_at = NULL
           FROM jsonb_to_recordset($1::jsonb) AS r(id text, lease timestamptz)
          WHERE a.transaction_id = r.id AND a.notify_next_at = r.lease AND a.notified_at IS NULL`,
        [leases(claimed)],
      );
    },
  };
}
