-- 0002: per-user feature state, checkpointed with the offsets it reflects.
-- The worker keeps each user's behavioural state (src/features/engine.ts) in memory, one engine per
-- owned partition. Each batch writes the users it changed here in the same transaction as its rows and
-- the partition's next offset (checkpoints), so after a crash or a rebalance the new owner restores
-- exactly the state that matches the stored offset. Rows are keyed by consumer group like the
-- checkpoints: another group replaying the topic builds its own state.
CREATE TABLE feature_state (
  consumer_group text NOT NULL,
  topic          text NOT NULL,
  partition      integer NOT NULL,
  user_id        text NOT NULL,
  -- STATE_FORMAT_VERSION-prefixed little-endian doubles, as FeatureEngine.serializeUser writes them.
  state          bytea NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, topic, partition, user_id)
);

-- The partition's event-time watermark (newest accepted event time, epoch ms) at the checkpoint. Idle
-- users expire against it, so a restored engine needs it to compute what an uninterrupted one would.
ALTER TABLE checkpoints ADD COLUMN watermark_ms double precision;
