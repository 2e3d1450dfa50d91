-- 0007: the partition's event clock (src/features/event-clock.ts: its last 256 accepted event times and
-- the wall time of the newest), checkpointed with the offsets it reflects. The watermark (their median)
-- and the head of the event-time bounds are computed from it, so a restored engine bounds and expires
-- exactly like an uninterrupted one. watermark_ms stays, as the median at the checkpoint, for reading.
ALTER TABLE checkpoints ADD COLUMN event_clock bytea;
