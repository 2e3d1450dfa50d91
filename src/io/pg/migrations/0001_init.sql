-- 0001: scored transactions, dead letters and checkpoints.
-- Applied once, in one transaction, by src/io/pg/migrate.ts (which records it in schema_migrations).
-- Runs unchanged on PostgreSQL (15+) and PGlite. Never edit an applied migration: add 0002_….sql.

-- Every processed event, one row per transaction. Range-partitioned by event day (UTC) so that retention
-- drops whole days and time-bounded queries touch only the days they ask for.
--
-- amount is NUMERIC, not double precision: money is summed and compared in reports and rules, and NUMERIC
-- keeps those sums exact. The writer sends the JS number's shortest round-trip text (String(amount)), so
-- the stored decimal is exactly what the producer sent and reads back as the identical double.
--
-- The primary key must contain the partition key (a PostgreSQL rule for partitioned tables: uniqueness is
-- enforced per partition). So it is (transaction_id, event_time), and idempotency holds for a replayed
-- event (same id, same timestamp); the same transaction_id arriving with a different timestamp would be
-- stored twice. A global unique transaction_id would need a separate unpartitioned lookup table.
--
-- There is no DEFAULT partition, on purpose: once a default partition holds rows of some day, creating
-- that day's partition fails (PostgreSQL refuses while the default holds rows that belong to the new
-- range) and the day can never be split out without moving rows by hand. Instead the writer creates the
-- day partition any row needs before inserting (src/io/pg/partitions.ts), and migrate() creates today
-- and the next days ahead of time.
CREATE TABLE transactions_scored (
  transaction_id    text NOT NULL,
  event_time        timestamptz NOT NULL,
  user_id           text NOT NULL,
  card_id           text,
  amount            numeric NOT NULL,
  currency          text NOT NULL,
  merchant_id       text,
  merchant_category text,
  country           text,
  channel           text,
  device            text,
  features          jsonb NOT NULL,
  score             double precision NOT NULL,
  risk              text NOT NULL,
  decision          text NOT NULL,
  model_version     text NOT NULL,
  rule_set_version  text NOT NULL,
  is_fraud          boolean,
  fraud_type        text,
  payload           jsonb NOT NULL,
  src_topic         text NOT NULL,
  src_partition     integer NOT NULL,
  src_offset        bigint NOT NULL,
  produced_at       timestamptz NOT NULL,
  ingested_at       timestamptz NOT NULL,
  processed_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (transaction_id, event_time)
) PARTITION BY RANGE (event_time);

-- A user's history in time order (investigation, per-user features rebuilt from storage).
CREATE INDEX transactions_scored_user_time ON transactions_scored (user_id, event_time);
-- Time-window scans (dashboard, exports, retention checks).
CREATE INDEX transactions_scored_time ON transactions_scored (event_time);
-- Flagged rows only: small, and serves "latest alerts" lists. A query whose WHERE implies the predicate
-- (e.g. risk IN ('HIGH', 'CRITICAL')) can use it.
CREATE INDEX transactions_scored_flagged ON transactions_scored (event_time, risk, decision)
  WHERE risk IN ('HIGH', 'CRITICAL') OR decision <> 'APPROVE';

-- Records that failed parsing or validation, kept byte for byte with the reason. Idempotent on the
-- record's position, since a rejected record may have no usable transaction id.
-- "offset" is a reserved word in SQL: quote it in queries.
CREATE TABLE dead_letters (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic          text NOT NULL,
  partition      integer NOT NULL,
  "offset"       bigint NOT NULL,
  key            bytea,
  raw            bytea,
  reason         text NOT NULL,
  detail         text NOT NULL,
  field          text,
  transaction_id text,
  produced_at    timestamptz NOT NULL,
  received_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (topic, partition, "offset")
);

CREATE INDEX dead_letters_received ON dead_letters (received_at);

-- Where each partition resumes, written in the same transaction as the rows it covers. Per-user feature
-- state will get its own table keyed the same way (consumer_group, topic, partition, …) in a later
-- migration.
CREATE TABLE checkpoints (
  consumer_group text NOT NULL,
  topic          text NOT NULL,
  partition      integer NOT NULL,
  next_offset    bigint NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, topic, partition)
);
