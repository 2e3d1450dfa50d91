// The model registry in PostgreSQL (migration 0003): register a trained model as a candidate, promote one
// to active, roll back to the one before, list them. Workers poll `active()` and swap their scorer when
// the active id changes; the registry itself knows nothing of the model format beyond its summary.
import { createHash } from "node:crypto";
import type { Db, Queryable } from "./db.ts";

export interface ModelSummary {
  id: string;
  kind: string;
  featureSetVersion: string;
  featureNames: string[];
  sha256: string;
  metrics: Record<string, unknown> | null;
  params: Record<string, unknown> | null;
  registeredBy: string;
  registeredAt: Date;
  status: "candidate" | "active" | "retired";
}

export interface ModelRegistration {
  id: string;
  kind: string;
  featureSetVersion: string;
  featureNames: readonly string[];
  /** The model file as text; stored byte for byte. */
  body: string;
  metrics?: Record<string, unknown> | null;
  params?: Record<string, unknown> | null;
  registeredBy: string;
}

export interface ActiveModel {
  id: string;
  body: string;
  sha256: string;
}

export class ModelRegistryError extends Error {
  override name = "ModelRegistryError";
}

interface ModelRow {
  id: string;
  kind: string;
  feature_set_version: string;
  feature_names: string[];
  sha256: string;
  metrics: Record<string, unknown> | null;
  params: Record<string, unknown> | null;
  registered_by: string;
  registered_at: string | Date;
  status: ModelSummary["status"];
}

const SUMMARY_COLUMNS = `id, kind, feature_set_version, feature_names, sha256, metrics, params, registered_by,
  registered_at, status`;

function summary(r: ModelRow): ModelSummary {
  return {
    id: r.id,
    kind: r.kind,
    featureSetVersion: r.feature_set_version,
    featureNames: r.feature_names,
    sha256: r.sha256,
    metrics: r.metrics,
    params: r.params,
    registeredBy: r.registered_by,
    registeredAt: new Date(r.registered_at),
    status: r.status,
  };
}

/** Serializes promotions and rollbacks so that two admins cannot both replace the same active model. */
const ACTIVATION_LOCK = "SELECT pg_advisory_xact_lock(1718773094, 3)";

export interface ModelRegistry {
  register(model: ModelRegistration): Promise<ModelSummary>;
  list(): Promise<ModelSummary[]>;
  get(id: string): Promise<(ModelSummary & { body: string }) | null>;
  /** The active model's id, body and digest, or null when none is active (workers use their fallback). */
  active(): Promise<ActiveModel | null>;
  /** Just the active id (cheap: what workers poll). */
  activeId(): Promise<string | null>;
  /** Makes `id` the active model; the previous one becomes retired. Returns the previous id. */
  promote(id: string, by: string, note?: string): Promise<{ previous: string | null }>;
  /** Re-activates the model that was active before the current one was promoted. */
  rollback(by: string, note?: string): Promise<{ from: string; to: string }>;
}

export function createModelRegistry(db: Db): ModelRegistry {
  const activate = async (
    tx: Queryable,
    id: string,
    previous: string | null,
    action: "promote" | "rollback",
    by: string,
    note: string | undefined,
  ): Promise<void> => {
    await tx.query("UPDATE models SET status = 'retired' WHERE status = 'active'");
    await tx.query("UPDATE models SET status = 'active' WHERE id = $1", [id]);
    await tx.query(
      `INSERT INTO model_activations (model_id, previous_id, action, activated_by, note)
       VALUES ($1, $2, $3, $4, $5)`,
      [id, previous, action, by, note ?? null],
    );
  };
  const currentId = async (q: Queryable): Promise<string | null> =>
    (await q.query<{ id: string }>("SELECT id FROM models WHERE status = 'active'")).rows[0]?.id ?? null;

  return {
    async register(m) {
      if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(m.id))
        throw new ModelRegistryError(
          `model id "${m.id}" must be 1–128 letters, digits, or _ . : - (starting with a letter or digit)`,
        );
      const sha256 = createHash("sha256").update(m.body).digest("hex");
      const r = await db.query<ModelRow>(
        `INSERT INTO models (id, kind, feature_set_version, feature_names, body, sha256, metrics, params,
                             registered_by)
         VALUES ($1, $2, $3, $4::text[], $5, $6, $7::jsonb, $8::jsonb, $9)
         ON CONFLICT (id) DO NOTHING
         RETURNING ${SUMMARY_COLUMNS}`,
        [
          m.id,
          m.kind,
          m.featureSetVersion,
          [...m.featureNames],
          m.body,
          sha256,
          m.metrics == null ? null : JSON.stringify(m.metrics),
          m.params == null ? null : JSON.stringify(m.params),
          m.registeredBy,
        ],
      );
      const row = r.rows[0];
      if (row !== undefined) return summary(row);
      // Registering the very same file again is a no-op; another file under a taken id is an error.
      const existing = await this.get(m.id);
      if (existing !== null && existing.sha256 === sha256) return existing;
      throw new ModelRegistryError(`a different model is already registered as ${m.id}; choose another id`);
    },
    async list() {
      const r = await db.query<ModelRow>(
        `SELECT ${SUMMARY_COLUMNS} FROM models ORDER BY registered_at DESC, id DESC`,
      );
      return r.rows.map(summary);
    },
    async get(id) {
      const r = await db.query<ModelRow & { body: string }>(
        `SELECT ${SUMMARY_COLUMNS}, body FROM models WHERE id = $1`,
        [id],
      );
      const row = r.rows[0];
      return row === undefined ? null : { ...summary(row), body: row.body };
    },
    async active() {
      const r = await db.query<ActiveModel>("SELECT id, body, sha256 FROM models WHERE status = 'active'");
      return r.rows[0] ?? null;
    },
    activeId() {
      return currentId(db);
    },
    promote(id, by, note) {
      return db.transaction(async (tx) => {
        await tx.query(ACTIVATION_LOCK);
        const exists = await tx.query<{ status: string }>("SELECT status FROM models WHERE id = $1", [id]);
        if (exists.rows[0] === undefined)
          throw new ModelRegistryError(
            `no model ${id}; \`fraudstream model list\` shows the registered ones`,
          );
        const previous = await currentId(tx);
        if (previous === id) return { previous };
        await activate(tx, id, previous, "promote", by, note);
        return { previous };
      });
    },
    rollback(by, note) {
      return db.transaction(async (tx) => {
        await tx.query(ACTIVATION_LOCK);
        const from = await currentId(tx);
        if (from === null) throw new ModelRegistryError("no model is active; there is nothing to roll back");
        // The promotion that made `from` active names what it replaced; earlier rollbacks walk further back.
        const r = await tx.query<{ previous_id: string | null }>(
          `SELECT previous_id FROM model_activations WHERE model_id = $1 AND action = 'promote'
            ORDER BY id DESC LIMIT 1`,
          [from],
        );
        const to = r.rows[0]?.previous_id ?? null;
        if (to === null)
          throw new ModelRegistryError(`model ${from} was the first one promoted; there is no earlier model`);
        await activate(tx, to, from, "rollback", by, note);
        return { from, to };
      });
    },
  };
}
