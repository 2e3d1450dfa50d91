-- 0004: decisions an analyst can act on. Rule sets are versioned data activated at runtime (as models
-- are), lists are edited at runtime, and every flagged transaction becomes an alert with its reasons,
-- which analysts label. Labels drive threshold tuning and retraining.

-- Why each row was decided as it was: rule hits, the top model factors, the score's share of the
-- points. Null for rows decided before rules existed.
ALTER TABLE transactions_scored ADD COLUMN explanation jsonb;

CREATE TABLE rule_sets (
  version      text PRIMARY KEY,
  description  text NOT NULL DEFAULT '',
  body         jsonb NOT NULL,
  created_by   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  status       text NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'active', 'retired'))
);
CREATE UNIQUE INDEX rule_sets_one_active ON rule_sets ((status)) WHERE status = 'active';

CREATE TABLE rule_set_activations (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  version       text NOT NULL REFERENCES rule_sets (version),
  previous      text REFERENCES rule_sets (version),
  activated_by  text NOT NULL,
  activated_at  timestamptz NOT NULL DEFAULT now()
);

-- Named lists that rules reference (blocked_users, high_risk_countries, …). Edited at runtime; workers
-- reload them with the active rule set.
CREATE TABLE list_entries (
  list_name  text NOT NULL,
  value      text NOT NULL,
  added_by   text NOT NULL,
  added_at   timestamptz NOT NULL DEFAULT now(),
  note       text,
  PRIMARY KEY (list_name, value)
);

-- One row per flagged transaction, idempotent on the transaction id. `seq` orders alerts for cursors
-- and the live stream.
CREATE TABLE alerts (
  seq               bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  transaction_id    text PRIMARY KEY,
  event_time        timestamptz NOT NULL,
  user_id           text NOT NULL,
  amount            numeric NOT NULL,
  currency          text NOT NULL,
  country           text,
  merchant_category text,
  score             double precision NOT NULL,
  risk              text NOT NULL CHECK (risk IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
  decision          text NOT NULL CHECK (decision IN ('APPROVE', 'REVIEW', 'BLOCK')),
  explanation       jsonb NOT NULL,
  model_version     text NOT NULL,
  rule_set_version  text NOT NULL,
  is_fraud          boolean,
  fraud_type        text,
  status            text NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'confirmed_fraud', 'false_positive')),
  assignee          text,
  reviewed_by       text,
  reviewed_at       timestamptz,
  note              text,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_status_time ON alerts (status, event_time DESC);
CREATE INDEX alerts_user_time ON alerts (user_id, event_time DESC);
CREATE INDEX alerts_time ON alerts (event_time DESC);

-- Every label given, newest last (an alert can be relabelled; the alert row holds the latest).
CREATE TABLE feedback (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transaction_id  text NOT NULL REFERENCES alerts (transaction_id),
  label           text NOT NULL CHECK (label IN ('confirmed_fraud', 'false_positive')),
  note            text,
  given_by        text NOT NULL,
  given_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_transaction ON feedback (transaction_id);
