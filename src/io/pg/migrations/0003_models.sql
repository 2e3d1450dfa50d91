-- 0003: the model registry. A trained model is registered as a candidate with its file (the JSON of
-- src/model/format.ts, kept as text so the bytes served are the bytes registered) and its evaluation;
-- promoting makes it the one active model, which running workers pick up without a restart.
CREATE TABLE models (
  id                  text PRIMARY KEY,
  kind                text NOT NULL,
  feature_set_version text NOT NULL,
  feature_names       text[] NOT NULL,
  body                text NOT NULL,
  sha256              text NOT NULL,
  metrics             jsonb,
  params              jsonb,
  registered_by       text NOT NULL,
  registered_at       timestamptz NOT NULL DEFAULT now(),
  status              text NOT NULL DEFAULT 'candidate'
                      CHECK (status IN ('candidate', 'active', 'retired'))
);

-- At most one active model at any time.
CREATE UNIQUE INDEX models_one_active ON models ((status)) WHERE status = 'active';

-- Every promotion and rollback, newest last: who, when, from which model to which. Rollback reads it.
CREATE TABLE model_activations (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  model_id      text NOT NULL REFERENCES models (id),
  previous_id   text REFERENCES models (id),
  action        text NOT NULL CHECK (action IN ('promote', 'rollback')),
  activated_by  text NOT NULL,
  activated_at  timestamptz NOT NULL DEFAULT now(),
  note          text
);
