-- 0006: a dead letter names every failing field, not only the first: `errors` is the list of
-- {path, reason} the parse (contract or ingest mapping) found; [] for rejections with no field to blame
-- (empty, too large, not JSON, late). `field` and `detail` stay as they were for existing readers.
ALTER TABLE dead_letters ADD COLUMN errors jsonb NOT NULL DEFAULT '[]'::jsonb;
