-- 0005: the alerts table doubles as the outbox of webhook notifications. A notifier claims alerts that
-- are due (a lease, so that several notifiers never post the same alert at once), posts them, and
-- marks them sent, or records the failure and when to try again. Posting never happens inside the
-- stream's batch transaction, so a receiver that is down cannot slow the stream.
ALTER TABLE alerts
  ADD COLUMN notified_at     timestamptz,
  ADD COLUMN notify_attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN notify_next_at  timestamptz,
  ADD COLUMN notify_error    text;

-- Only the alerts still to notify: small however large the table grows.
CREATE INDEX alerts_to_notify ON alerts (seq) WHERE notified_at IS NULL;
