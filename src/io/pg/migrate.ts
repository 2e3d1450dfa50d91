// Versioned plain-SQL migrations: migrations/NNNN_name.sql, applied in version order, each recorded in
// schema_migrations with a checksum. Several processes may start at once (N workers + the API): a
// transaction-scoped advisory lock lets exactly one apply what is pending while the others wait, then
// find nothing left to do.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import type { Db } from "./db.ts";

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Advisory-lock key (two int4 halves) that serializes migrations; "frau" in ASCII, then 0. */
export const MIGRATION_LOCK: readonly [number, number] = [0x66726175, 0];

const MIGRATIONS_DIR = new URL("./migrations/", import.meta.url);
const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export class MigrationError extends Error {
  override name = "MigrationError";
}

/** The migrations shipped with this build, in version order. */
export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const m = FILE_NAME.exec(file);
    if (m === null) throw new MigrationError(`migration file ${file} must be named NNNN_lower_snake.sql`);
    const sql = await readFile(new URL(file, dir), "utf8");
    const version = Number(m[1]);
    if (migrations.some((x) => x.version === version)) {
      throw new MigrationError(`two migration files have version ${m[1]}`);
    }
    migrations.push({
      version,
      name: m[2] as string,
      sql,
      checksum: createHash("sha256").update(sql).digest("hex"),
    });
  }
  return migrations;
}

/**
 * Applies pending migrations in one transaction under an advisory lock and returns the versions it
 * applied (empty when the schema was up to date or another process applied them while this one waited).
 * Throws MigrationError when an applied migration's file has changed or the database is newer than
 * this build.
 */
export async function applyMigrations(db: Db, migrations?: Migration[]): Promise<number[]> {
  const all = migrations ?? (await loadMigrations());
  return db.transaction(async (tx) => {
    // Taken first: CREATE TABLE IF NOT EXISTS itself is not safe against a concurrent twin.
    await tx.query("SELECT pg_advisory_xact_lock($1::int4, $2::int4)", [
      String(MIGRATION_LOCK[0]),
      String(MIGRATION_LOCK[1]),
    ]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      checksum   text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    // READ COMMITTED: this statement sees what a process that held the lock before us committed.
    const applied = await tx.query<{ version: number; name: string; checksum: string }>(
      "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
    );
    const known = new Map(all.map((m) => [m.version, m]));
    for (const row of applied.rows) {
      const mine = known.get(row.version);
      if (mine === undefined) {
        throw new MigrationError(
          `database has migration ${row.version} (${row.name}) that this build does not know: run a newer fraudstream`,
        );
      }
      if (mine.checksum !== row.checksum) {
        throw new MigrationError(
          `migration ${row.version} (${row.name}) was changed after it was applied; add a new migration instead`,
        );
      }
    }
    const done = new Set(applied.rows.map((r) => r.version));
    const newlyApplied: number[] = [];
    for (const m of all) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1::int4, $2, $3)", [
        String(m.version),
        m.name,
        m.checksum,
      ]);
      newlyApplied.push(m.version);
    }
    return newlyApplied;
  });
}
