// The worker's Store over PostgreSQL or PGlite. One write = one transaction: checkpoint fencing, then the
// scored rows and dead letters as one multi-row statement per table (the rows as one JSON array, expanded
// server-side: one round trip per table per chunk, however many rows). Offsets travel as strings and are
// cast in SQL, so bigints stay exact, and both drivers see the same single text parameter.
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import type { Logger } from "pino";
import {
  type BatchWrite,
  type CheckpointAdvance,
  CheckpointConflictError,
  type DeadLetterRow,
  type ScoredRow,
  type Store,
  type UserStateWrite,
} from "../../pipeline/ports.ts";
import { type Db, pgDb, pgliteDb, type Queryable } from "./db.ts";
import { applyMigrations } from "./migrate.ts";
import { DayPartitions, dayOf } from "./partitions.ts";

export type PgStore = Store & { readonly db: Db };

export interface StoreOptions {
  /** Daily partitions migrate() creates after today (default 7). */
  partitionDaysAhead?: number;
  logger?: Logger;
  /** Rows per INSERT statement; larger batches are split (default 10,000). */
  chunkRows?: number;
}

export interface PgStoreOptions extends StoreOptions {
  url: string;
  /** Pool size (default 10). */
  poolSize?: number;
}

export interface PgliteStoreOptions extends StoreOptions {
  /** Directory of the PGlite database; undefined keeps it in memory. */
  dataDir?: string;
}

/** A Store on real PostgreSQL through a node-postgres pool that reconnects by itself. */
export async function createPgStore(options: PgStoreOptions): Promise<PgStore> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    // Fail a checkout instead of hanging forever when the server accepts but never answers.
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    application_name: "fraudstream",
  });
  return createStore(pgDb(pool, options.logger), options);
}

/** A Store on embedded PGlite (the demo): in memory, or persisted in `dataDir`. */
export async function createPgliteStore(options: PgliteStoreOptions = {}): Promise<PgStore> {
  const pglite = await PGlite.create(options.dataDir === undefined ? {} : { dataDir: options.dataDir });
  return createStore(pgliteDb(pglite), options);
}

/** A Store over any Db. close() closes the Db. */
export function createStore(db: Db, options: StoreOptions = {}): PgStore {
  const daysAhead = options.partitionDaysAhead ?? 7;
  const chunkRows = options.chunkRows ?? 10_000;
  const partitions = new DayPartitions(db);
  // A worker that runs for weeks keeps `daysAhead` days ahead of the wall clock, so a new day's partition
  // (and its brief ACCESS EXCLUSIVE lock on the parent) is created days before its first row arrives.
  let aheadFor: number | undefined;
  const keepAhead = async (): Promise<void> => {
    const today = dayOf(Date.now());
    if (aheadFor === today) return;
    await partitions.ensureAhead(daysAhead);
    aheadFor = today;
  };
  return {
    db,
    async migrate() {
      const applied = await applyMigrations(db);
      if (applied.length > 0) options.logger?.info({ applied }, "database migrated");
      await keepAhead();
    },
    async loadCheckpoints(group, topic, partitionIds) {
      const r = await db.query<{ partition: number; next_offset: string }>(
        `SELECT partition, next_offset::text AS next_offset FROM checkpoints
          WHERE consumer_group = $1 AND topic = $2 AND partition = ANY($3::text[]::int4[])`,
        [group, topic, partitionIds.map(String)],
      );
      return new Map(r.rows.map((row) => [Number(row.partition), BigInt(row.next_offset)]));
    },
    async findStored(keys) {
      if (keys.length === 0) return new Set<string>();
      // Both arrays prune: event_time = ANY picks the day partitions, transaction_id = ANY the index.
      const r = await db.query<{ transaction_id: string; t: string }>(
        `SELECT transaction_id, (extract(epoch FROM event_time) * 1000)::float8::text AS t
           FROM transactions_scored
          WHERE transaction_id = ANY($1::text[]) AND event_time = ANY($2::timestamptz[])`,
        [keys.map((k) => k.transactionId), keys.map((k) => iso(k.eventTime))],
      );
      const stored = new Set(r.rows.map((row) => `${row.transaction_id}\u0000${Number(row.t)}`));
      return new Set(
        keys.filter((k) => stored.has(`${k.transactionId}\u0000${k.eventTime}`)).map((k) => k.transactionId),
      );
    },
    async loadPartitionState(group, topic, partition) {
      const params = [group, topic, String(partition)];
      const r = await db.query<{ user_id: string; state: string }>(
        `SELECT user_id, encode(state, 'base64') AS state FROM feature_state
          WHERE consumer_group = $1 AND topic = $2 AND partition = $3::int4`,
        params,
      );
      const users = new Map<string, Uint8Array>();
      for (const row of r.rows) users.set(row.user_id, new Uint8Array(Buffer.from(row.state, "base64")));
      const w = await db.query<{ watermark_ms: string | null; event_clock: string | null }>(
        `SELECT watermark_ms::text AS watermark_ms, encode(event_clock, 'base64') AS event_clock FROM checkpoints
          WHERE consumer_group = $1 AND topic = $2 AND partition = $3::int4`,
        params,
      );
      const text = w.rows[0]?.watermark_ms ?? null;
      const clock = w.rows[0]?.event_clock ?? null;
      return {
        users,
        watermarkMs: text === null ? null : Number(text),
        clock: clock === null ? null : new Uint8Array(Buffer.from(clock, "base64")),
      };
    },
    async writeBatch(write: BatchWrite) {
      const userStates = write.userStates ?? [];
      const alerts = write.alerts ?? [];
      if (
        write.scored.length === 0 &&
        write.deadLetters.length === 0 &&
        write.checkpoints.length === 0 &&
        userStates.length === 0 &&
        alerts.length === 0
      )
        return;
      try {
        await keepAhead();
        await partitions.ensure(write.scored.map((row) => dayOf(row.eventTime)));
        if (
          write.checkpoints.length <= 1 &&
          Math.max(write.scored.length, write.deadLetters.length, userStates.length, alerts.length) <=
            chunkRows
        ) {
          await writeAsOneStatement(db, write, userStates, alerts);
          return;
        }
        await db.transaction(async (tx) => {
          // Fencing first: a worker that lost its partition learns it before inserting anything, and
          // the checkpoint row lock it takes orders competing writers of the same partition.
          for (const advance of sortedAdvances(write.checkpoints)) await advanceCheckpoint(tx, advance);
          for (let i = 0; i < write.scored.length; i += chunkRows) {
            await insertScored(tx, write.scored.slice(i, i + chunkRows));
          }
          for (let i = 0; i < write.deadLetters.length; i += chunkRows) {
            await insertDeadLetters(tx, write.deadLetters.slice(i, i + chunkRows));
          }
          for (let i = 0; i < userStates.length; i += chunkRows) {
            await writeUserStates(tx, userStates.slice(i, i + chunkRows));
          }
          for (let i = 0; i < alerts.length; i += chunkRows) {
            await insertAlerts(tx, alerts.slice(i, i + chunkRows));
          }
        });
      } catch (err) {
        // A day partition may have been dropped behind our back (retention): check again next time.
        partitions.forget();
        aheadFor = undefined;
        throw err;
      }
    },
    close: () => db.close(),
  };
}

/** Same lock order in every writer, so two batches touching the same partitions cannot deadlock. */
function sortedAdvances(advances: CheckpointAdvance[]): CheckpointAdvance[] {
  return [...advances].sort(
    (a, b) => compare(a.group, b.group) || compare(a.topic, b.topic) || a.partition - b.partition,
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function advanceCheckpoint(tx: Queryable, a: CheckpointAdvance): Promise<void> {
  const r =
    a.from === null
      ? await tx.query(
          `INSERT INTO checkpoints (consumer_group, topic, partition, next_offset, watermark_ms, event_clock)
           VALUES ($1, $2, $3::int4, $4::bigint, $5::float8, decode($6, 'base64')) ON CONFLICT DO NOTHING`,
          [
            a.group,
            a.topic,
            String(a.partition),
            a.to.toString(),
            watermarkText(a.watermarkMs),
            clockText(a.clock),
          ],
        )
      : await tx.query(
          `UPDATE checkpoints SET next_offset = $4::bigint, watermark_ms = coalesce($6::float8, watermark_ms),
                  event_clock = coalesce(decode($7, 'base64'), event_clock), updated_at = now()
            WHERE consumer_group = $1 AND topic = $2 AND partition = $3::int4 AND next_offset = $5::bigint`,
          [
            a.group,
            a.topic,
            String(a.partition),
            a.to.toString(),
            a.from.toString(),
            watermarkText(a.watermarkMs),
            clockText(a.clock),
          ],
        );
  if (r.rowCount !== 1) throw new CheckpointConflictError(a.topic, a.partition);
}

/** The event clock's bytes as base64 for decode(), or null (keep what is stored). */
function clockText(clock: Uint8Array | undefined): string | null {
  return clock === undefined
    ? null
    : Buffer.from(clock.buffer, clock.byteOffset, clock.byteLength).toString("base64");
}

/** A finite watermark as text for float8, else null (no event accepted yet). */
function watermarkText(ms: number | undefined): string | null {
  return ms === undefined || !Number.isFinite(ms) ? null : String(ms);
}

/**
 * A column as the writer sends it: `value` gives the row's JSON value for it; `sqlType` is how the text is
 * read back server-side ("jsonb" columns take the JSON value itself). Numbers that must stay exact or
 * may be NaN/Infinity (offsets, amounts, scores) travel as strings.
 */
type Column<R> = readonly [name: string, sqlType: string, value: (row: R) => unknown];

const SCORED_COLUMNS: readonly Column<ScoredRow>[] = [
  ["transaction_id", "text", (r) => r.transactionId],
  ["event_time", "timestamptz", (r) => iso(r.eventTime)],
  ["user_id", "text", (r) => r.userId],
  ["card_id", "text", (r) => r.cardId],
  ["amount", "numeric", (r) => String(r.amount)],
  ["currency", "text", (r) => r.currency],
  ["merchant_id", "text", (r) => r.merchantId],
  ["merchant_category", "text", (r) => r.merchantCategory],
  ["country", "text", (r) => r.country],
  ["channel", "text", (r) => r.channel],
  ["device", "text", (r) => r.device],
  ["features", "jsonb", (r) => r.features],
  ["score", "float8", (r) => String(r.score)],
  ["risk", "text", (r) => r.risk],
  ["decision", "text", (r) => r.decision],
  ["model_version", "text", (r) => r.modelVersion],
  ["rule_set_version", "text", (r) => r.ruleSetVersion],
  ["is_fraud", "bool", (r) => r.isFraud],
  ["fraud_type", "text", (r) => r.fraudType],
  ["payload", "jsonb", (r) => r.payload],
  ["src_topic", "text", (r) => r.source.topic],
  ["src_partition", "int4", (r) => r.source.partition],
  ["src_offset", "int8", (r) => r.source.offset.toString()],
  ["produced_at", "timestamptz", (r) => iso(r.producedAt)],
  ["ingested_at", "timestamptz", (r) => iso(r.ingestedAt)],
  ["explanation", "jsonb", (r) => r.explanation],
];

/** An alert is a flagged scored row; review columns (status, assignee, …) start at their defaults. */
const ALERT_COLUMNS: readonly Column<ScoredRow>[] = [
  ["transaction_id", "text", (r) => r.transactionId],
  ["event_time", "timestamptz", (r) => iso(r.eventTime)],
  ["user_id", "text", (r) => r.userId],
  ["amount", "numeric", (r) => String(r.amount)],
  ["currency", "text", (r) => r.currency],
  ["country", "text", (r) => r.country],
  ["merchant_category", "text", (r) => r.merchantCategory],
  ["score", "float8", (r) => String(r.score)],
  ["risk", "text", (r) => r.risk],
  ["decision", "text", (r) => r.decision],
  ["explanation", "jsonb", (r) => r.explanation ?? {}],
  ["model_version", "text", (r) => r.modelVersion],
  ["rule_set_version", "text", (r) => r.ruleSetVersion],
  ["is_fraud", "bool", (r) => r.isFraud],
  ["fraud_type", "text", (r) => r.fraudType],
];

const DEAD_LETTER_COLUMNS: readonly Column<DeadLetterRow>[] = [
  ["topic", "text", (r) => r.topic],
  ["partition", "int4", (r) => r.partition],
  ['"offset"', "int8", (r) => r.offset.toString()],
  ["key", "bytea", (r) => hex(r.key)],
  ["raw", "bytea", (r) => hex(r.raw)],
  ["reason", "text", (r) => r.reason],
  ["detail", "text", (r) => r.detail],
  ["field", "text", (r) => r.field],
  ["errors", "jsonb", (r) => r.errors ?? []],
  ["transaction_id", "text", (r) => r.transactionId],
  ["produced_at", "timestamptz", (r) => iso(r.producedAt)],
];

/**
 * INSERT INTO t (c0, …) SELECT (e->>0)::type, … FROM jsonb_array_elements($1::jsonb) e ON CONFLICT DO NOTHING
 * with $1 = the rows as one JSON array of tuples. One parameter whatever the row count, so no parameter
 * limit bites. Measured on PostgreSQL 15 (2 cores), 5,000-row batches: this ~27-30k rows/s; unnest() of
 * one text[] per column ~20k rows/s (node-postgres builds array literals element by element in JS,
 * the native JSON.stringify is far cheaper); COPY into a temporary table + INSERT … SELECT … ON
 * CONFLICT (needed for idempotency) 24-30k rows/s; plain COPY, not idempotent, 32-35k rows/s;
 * json instead of jsonb re-scans the text per field and is 3x slower.
 */
function jsonInsert<R>(table: string, columns: readonly Column<R>[], param = 1, where = ""): string {
  const names = columns.map(([name]) => name).join(", ");
  const fields = columns
    .map(([, type], i) =>
      type === "jsonb" ? `e->${i}` : type === "text" ? `e->>${i}` : `(e->>${i})::${type}`,
    )
    .join(", ");
  return `INSERT INTO ${table} (${names}) SELECT ${fields} FROM jsonb_array_elements($${param}::jsonb) AS e${where} ON CONFLICT DO NOTHING`;
}

const INSERT_SCORED = jsonInsert("transactions_scored", SCORED_COLUMNS);
const INSERT_DEAD_LETTERS = jsonInsert("dead_letters", DEAD_LETTER_COLUMNS);
const INSERT_ALERTS = jsonInsert("alerts", ALERT_COLUMNS);

function tuples<R>(rows: readonly R[], columns: readonly Column<R>[]): string {
  return jsonb(rows.map((row) => columns.map((column) => column[2](row))));
}

async function insertScored(tx: Queryable, rows: ScoredRow[]): Promise<void> {
  if (rows.length > 0) await tx.query(INSERT_SCORED, [tuples(rows, SCORED_COLUMNS)]);
}

async function insertDeadLetters(tx: Queryable, rows: DeadLetterRow[]): Promise<void> {
  if (rows.length > 0) await tx.query(INSERT_DEAD_LETTERS, [tuples(rows, DEAD_LETTER_COLUMNS)]);
}

async function insertAlerts(tx: Queryable, rows: ScoredRow[]): Promise<void> {
  if (rows.length > 0) await tx.query(INSERT_ALERTS, [tuples(rows, ALERT_COLUMNS)]);
}

const upsertStates = (param: number, where = ""): string =>
  `INSERT INTO feature_state (consumer_group, topic, partition, user_id, state)
  SELECT e->>0, e->>1, (e->>2)::int4, e->>3, decode(e->>4, 'base64') FROM jsonb_array_elements($${param}::jsonb) AS e${where}
  ON CONFLICT (consumer_group, topic, partition, user_id)
  DO UPDATE SET state = EXCLUDED.state, updated_at = now()`;
const deleteStates = (param: number, and = ""): string =>
  `DELETE FROM feature_state f USING jsonb_array_elements($${param}::jsonb) AS e
  WHERE f.consumer_group = e->>0 AND f.topic = e->>1 AND f.partition = (e->>2)::int4 AND f.user_id = e->>3${and}`;
const UPSERT_STATES = upsertStates(1);
const DELETE_STATES = deleteStates(1);

/** The states to replace (with their bytes) and to delete (expired users), as jsonb arrays of tuples. */
function userStateTuples(states: UserStateWrite[]): { upserts: unknown[]; deletes: unknown[] } {
  const upserts: unknown[] = [];
  const deletes: unknown[] = [];
  for (const s of states) {
    const key = [s.group, s.topic, s.partition, s.userId];
    if (s.state === null) deletes.push(key);
    else
      upserts.push([
        ...key,
        Buffer.from(s.state.buffer, s.state.byteOffset, s.state.byteLength).toString("base64"),
      ]);
  }
  return { upserts, deletes };
}

/** Replaces the states that have bytes and deletes those that are null (expired users). */
async function writeUserStates(tx: Queryable, states: UserStateWrite[]): Promise<void> {
  const { upserts, deletes } = userStateTuples(states);
  if (upserts.length > 0) await tx.query(UPSERT_STATES, [jsonb(upserts)]);
  if (deletes.length > 0) await tx.query(DELETE_STATES, [jsonb(deletes)]);
}

/**
 * A whole batch write with at most one checkpoint advance as ONE statement (one round trip, its own
 * implicit transaction): data-modifying CTEs, every insert conditional on the fence. With one
 * checkpoint there is no partial outcome: either the advance matched (or the first checkpoint was
 * created) and everything is written, or nothing is and `ok` is false. The fence's row lock (or the
 * new checkpoint's unique key) still orders competing writers of the partition: the second waits for
 * the first to commit, then finds the checkpoint moved and writes nothing. $1 the advance as a
 * one-element array (or empty), $2 scored rows, $3 dead letters, $4 states to upsert, $5 states to
 * delete, $6 alerts.
 */
const WRITE_BATCH = `WITH adv AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb)
      AS a(g text, t text, p int4, "from" bigint, "to" bigint, w float8, k text)),
  fenced AS (
    UPDATE checkpoints c SET next_offset = a."to", watermark_ms = coalesce(a.w, c.watermark_ms),
           event_clock = coalesce(decode(a.k, 'base64'), c.event_clock), updated_at = now()
      FROM adv a
     WHERE a."from" IS NOT NULL AND c.consumer_group = a.g AND c.topic = a.t AND c.partition = a.p
       AND c.next_offset = a."from"
    RETURNING 1),
  fresh AS (
    INSERT INTO checkpoints (consumer_group, topic, partition, next_offset, watermark_ms, event_clock)
    SELECT a.g, a.t, a.p, a."to", a.w, decode(a.k, 'base64') FROM adv a WHERE a."from" IS NULL
    ON CONFLICT DO NOTHING
    RETURNING 1),
  fence AS (
    SELECT (SELECT count(*) FROM fenced) + (SELECT count(*) FROM fresh) = (SELECT count(*) FROM adv) AS ok),
  s AS (${jsonInsert("transactions_scored", SCORED_COLUMNS, 2, " WHERE (SELECT ok FROM fence)")} RETURNING 1),
  d AS (${jsonInsert("dead_letters", DEAD_LETTER_COLUMNS, 3, " WHERE (SELECT ok FROM fence)")} RETURNING 1),
  u AS (${upsertStates(4, " WHERE (SELECT ok FROM fence)")} RETURNING 1),
  x AS (${deleteStates(5, " AND (SELECT ok FROM fence)")} RETURNING 1),
  al AS (${jsonInsert("alerts", ALERT_COLUMNS, 6, " WHERE (SELECT ok FROM fence)")} RETURNING 1)
SELECT ok FROM fence`;

async function writeAsOneStatement(
  db: Db,
  write: BatchWrite,
  userStates: UserStateWrite[],
  alerts: ScoredRow[],
): Promise<void> {
  const advance = write.checkpoints[0];
  const { upserts, deletes } = userStateTuples(userStates);
  const r = await db.query<{ ok: boolean }>(
    WRITE_BATCH,
    [
      jsonb(
        advance === undefined
          ? []
          : [
              {
                g: advance.group,
                t: advance.topic,
                p: advance.partition,
                from: advance.from === null ? null : advance.from.toString(),
                to: advance.to.toString(),
                w: watermarkText(advance.watermarkMs),
                k: clockText(advance.clock),
              },
            ],
      ),
      tuples(write.scored, SCORED_COLUMNS),
      tuples(write.deadLetters, DEAD_LETTER_COLUMNS),
      jsonb(upserts),
      jsonb(deletes),
      tuples(alerts, ALERT_COLUMNS),
    ],
    "fraudstream_write_batch",
  );
  if (r.rows[0]?.ok !== true && advance !== undefined)
    throw new CheckpointConflictError(advance.topic, advance.partition);
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/**
 * JSON text that jsonb accepts. JSON.stringify escapes U+0000 as \u0000 and lone surrogates as \udXXX,
 * both of which jsonb (and text) rejects; they become U+FFFD instead of failing the batch, and with it
 * every retry, forever. Escaped backslashes are matched first so that a
 * literal "\\u0000" (backslash, then the text u0000) is left alone.
 */
function jsonb(value: unknown): string {
  const json = JSON.stringify(value);
  if (!json.includes("\\u")) return json;
  return json.replace(/\\(?:\\|u0000|ud[89a-f][0-9a-f]{2})/g, (m) => (m === "\\\\" ? m : "\\ufffd"));
}

/** bytea input text ('\x0a1b…'); the cast from text turns it into bytes. */
function hex(bytes: Uint8Array | null): string | null {
  return bytes === null
    ? null
    : `\\x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}
