// Versioned rule sets and runtime-edited lists (migration 0004). A rule set is stored as its JSON and
// activated like a model; lists edited at runtime (list_entries) are added to the lists the active rule
// set declares. Workers poll `activeKey()`, which changes when another rule set is activated or any list
// entry changes, and rebuild their compiled rule set from `active()`.
import type { Db, Queryable } from "./db.ts";

export interface RuleSetSummary {
  version: string;
  description: string;
  createdBy: string;
  createdAt: Date;
  status: "candidate" | "active" | "retired";
}

/** What workers compile: the active rule set's JSON and the runtime list entries, as one JSON body. */
export interface ActiveRules {
  /** `${version}` or `${version}+lists.${digest}` when runtime list entries exist. */
  id: string;
  /** JSON: { ruleSet: <the stored rule set>, lists: { name: [values…] } }. */
  body: string;
}

export class RuleSetRegistryError extends Error {
  override name = "RuleSetRegistryError";
}

const ACTIVATION_LOCK = "SELECT pg_advisory_xact_lock(1718773094, 4)";

interface Row {
  version: string;
  description: string;
  created_by: string;
  created_at: Date | string;
  status: RuleSetSummary["status"];
}

const summary = (r: Row): RuleSetSummary => ({
  version: r.version,
  description: r.description,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at),
  status: r.status,
});

export interface RuleSetRegistry {
  /** Stores a validated rule set (the caller validates: src/decide parseRuleSet) as a candidate. */
  register(ruleSet: { version: string; description?: string }, by: string): Promise<RuleSetSummary>;
  list(): Promise<RuleSetSummary[]>;
  get(version: string): Promise<unknown | null>;
  activate(version: string, by: string): Promise<{ previous: string | null }>;
  activeKey(): Promise<string | null>;
  active(): Promise<ActiveRules | null>;
  lists(): Promise<Record<string, string[]>>;
  addToList(name: string, values: readonly string[], by: string, note?: string): Promise<number>;
  removeFromList(name: string, values: readonly string[]): Promise<number>;
  /** ActiveSource for the reloader. */
  activeId(): Promise<string | null>;
}

export function createRuleSetRegistry(db: Db): RuleSetRegistry {
  const activeVersion = async (q: Queryable): Promise<string | null> =>
    (await q.query<{ version: string }>("SELECT version FROM rule_sets WHERE status = 'active'")).rows[0]
      ?.version ?? null;
  const key = async (): Promise<string | null> => {
    const r = await db.query<{ version: string | null; digest: string | null }>(
      `SELECT (SELECT version FROM rule_sets WHERE status = 'active') AS version,
              (SELECT left(md5(string_agg(list_name || chr(31) || value, chr(30) ORDER BY list_name, value)), 12)
                 FROM list_entries) AS digest`,
    );
    const row = r.rows[0];
    if (row?.version == null) return null;
    return row.digest === null ? row.version : `${row.version}+lists.${row.digest}`;
  };
  const lists = async (): Promise<Record<string, string[]>> => {
    const r = await db.query<{ list_name: string; value: string }>(
      "SELECT list_name, value FROM list_entries ORDER BY list_name, value",
    );
    const out: Record<string, string[]> = {};
    for (const row of r.rows) {
      const values = out[row.list_name] ?? [];
      values.push(row.value);
      out[row.list_name] = values;
    }
    return out;
  };
  return {
    async register(ruleSet, by) {
      const r = await db.query<Row>(
        `INSERT INTO rule_sets (version, description, body, created_by) VALUES ($1, $2, $3::jsonb, $4)
         ON CONFLICT (version) DO NOTHING RETURNING version, description, created_by, created_at, status`,
        [ruleSet.version, ruleSet.description ?? "", JSON.stringify(ruleSet), by],
      );
      const row = r.rows[0];
      if (row !== undefined) return summary(row);
      const existing = await this.get(ruleSet.version);
      if (JSON.stringify(existing) === JSON.stringify(JSON.parse(JSON.stringify(ruleSet)))) {
        const again = await db.query<Row>(
          "SELECT version, description, created_by, created_at, status FROM rule_sets WHERE version = $1",
          [ruleSet.version],
        );
        return summary(again.rows[0] as Row);
      }
      throw new RuleSetRegistryError(
        `a different rule set is already stored as version ${ruleSet.version}; give this one a new version`,
      );
    },
    async list() {
      const r = await db.query<Row>(
        "SELECT version, description, created_by, created_at, status FROM rule_sets ORDER BY created_at DESC, version DESC",
      );
      return r.rows.map(summary);
    },
    async get(version) {
      const r = await db.query<{ body: unknown }>("SELECT body FROM rule_sets WHERE version = $1", [version]);
      return r.rows[0]?.body ?? null;
    },
    activate(version, by) {
      return db.transaction(async (tx) => {
        await tx.query(ACTIVATION_LOCK);
        const exists = await tx.query("SELECT 1 FROM rule_sets WHERE version = $1", [version]);
        if (exists.rows.length === 0) throw new RuleSetRegistryError(`no rule set ${version}`);
        const previous = await activeVersion(tx);
        if (previous === version) return { previous };
        await tx.query("UPDATE rule_sets SET status = 'retired' WHERE status = 'active'");
        await tx.query("UPDATE rule_sets SET status = 'active' WHERE version = $1", [version]);
        await tx.query(
          "INSERT INTO rule_set_activations (version, previous, activated_by) VALUES ($1, $2, $3)",
          [version, previous, by],
        );
        return { previous };
      });
    },
    activeKey: key,
    activeId: key,
    async active() {
      const id = await key();
      if (id === null) return null;
      const r = await db.query<{ body: unknown }>("SELECT body FROM rule_sets WHERE status = 'active'");
      if (r.rows[0] === undefined) return null;
      return { id, body: JSON.stringify({ ruleSet: r.rows[0].body, lists: await lists() }) };
    },
    lists,
    async addToList(name, values, by, note) {
      if (values.length === 0) return 0;
      const r = await db.query(
        `INSERT INTO list_entries (list_name, value, added_by, note)
         SELECT $1, v, $3, $4 FROM unnest($2::text[]) AS v ON CONFLICT DO NOTHING`,
        [name, [...values], by, note ?? null],
      );
      return r.rowCount;
    },
    async removeFromList(name, values) {
      const r = await db.query("DELETE FROM list_entries WHERE list_name = $1 AND value = ANY($2::text[])", [
        name,
        [...values],
      ]);
      return r.rowCount;
    },
  };
}
