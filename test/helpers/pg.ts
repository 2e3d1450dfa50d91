// Test databases on the local PostgreSQL (127.0.0.1:5432, trust auth, user postgres), and the Store test
// body shared by the PostgreSQL and the PGlite suites (test/pg.test.ts, test/pglite.test.ts).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import type { Explanation, RuleHit } from "../../src/contract/outputs.ts";
import { type PgStore, partitionName, type SqlParam } from "../../src/io/pg/index.ts";
import { loadMigrations } from "../../src/io/pg/migrate.ts";
import {
  type BatchWrite,
  CheckpointConflictError,
  type DeadLetterRow,
  type ScoredRow,
} from "../../src/pipeline/ports.ts";

const SERVER = "postgres://postgres@127.0.0.1:5432";

/** Creates a uniquely named empty database; drop() terminates its connections and removes it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `fraudstream_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  await admin(`CREATE DATABASE ${name}`);
  let dropped = false;
  return {
    url: `${SERVER}/${name}`,
    async drop() {
      if (dropped) return;
      dropped = true;
      await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Two stores on one fresh database (a second process, as far as the store can tell). */
export interface StorePair {
  a: PgStore;
  b: PgStore;
  /** Closes both stores and removes the database. */
  cleanup(): Promise<void>;
}

export interface StoreHarness {
  /** Stores on a fresh database; `chunkRows` is passed to both. */
  open(options?: { chunkRows?: number }): Promise<StorePair>;
}

const DAY = 86_400_000;
let seq = 0;

/** An explanation as the worker builds it, with the given rule hits (weights summed into the points). */
export function explanation(hits: RuleHit[] = [], scorePoints = 0): Explanation {
  const rules = hits.reduce((sum, h) => sum + h.weight, 0);
  return { points: { score: scorePoints, rules, total: scorePoints + rules }, hits };
}

export const HIGH_VALUE: RuleHit = { id: "high_value", weight: 2, description: "Amount above 3,000" };

export function scoredRow(overrides: Partial<ScoredRow> = {}): ScoredRow {
  seq += 1;
  const id = `tx-${seq}`;
  return {
    transactionId: id,
    eventTime: Date.now(),
    userId: `user-${seq % 7}`,
    cardId: `card-${seq % 5}`,
    amount: 12.34,
    currency: "EUR",
    merchantId: "m-1",
    merchantCategory: "grocery",
    country: "DE",
    channel: "pos",
    device: "Mobile",
    features: { amount_log: 2.5, velocity_1h: 3 },
    score: 0.42,
    risk: "LOW",
    decision: "APPROVE",
    modelVersion: "model-1",
    ruleSetVersion: "rules-1",
    explanation: explanation(),
    isFraud: null,
    fraudType: null,
    payload: { transaction_id: id, amount: 12.34 },
    source: { topic: "transactions_raw", partition: 0, offset: BigInt(seq) },
    producedAt: Date.now() - 5,
    ingestedAt: Date.now() - 1,
    ...overrides,
  };
}

export function deadLetter(overrides: Partial<DeadLetterRow> = {}): DeadLetterRow {
  seq += 1;
  return {
    topic: "transactions_raw",
    partition: 1,
    offset: BigInt(seq),
    key: new TextEncoder().encode("user-1"),
    raw: new TextEncoder().encode("{not json"),
    reason: "invalid_json",
    detail: "Unexpected token n",
    field: null,
    transactionId: null,
    producedAt: Date.now(),
    ...overrides,
  };
}

function batch(parts: Partial<BatchWrite>): BatchWrite {
  return { scored: [], deadLetters: [], checkpoints: [], ...parts };
}

async function count(store: PgStore, sql: string, params: SqlParam[] = []): Promise<number> {
  const r = await store.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM (${sql}) q`, params);
  return Number(r.rows[0]?.n);
}

async function partitionsOf(store: PgStore): Promise<string[]> {
  const r = await store.db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'transactions_scored'::regclass ORDER BY 1`,
  );
  return r.rows.map((row) => row.name);
}

/** The Store contract, run against one backend. */
export function storeSuite(name: string, harness: StoreHarness): void {
  describe(`${name} store`, () => {
    let pair: StorePair;
    before(async () => {
      pair = await harness.open();
      await pair.a.migrate();
    });
    after(async () => {
      await pair?.cleanup();
    });

    it("migrates concurrently and repeatedly into one set of tables", async () => {
      const fresh = await harness.open();
      try {
        await Promise.all([fresh.a.migrate(), fresh.b.migrate()]);
        await fresh.a.migrate();
        await fresh.b.migrate();
        const migrations = await loadMigrations();
        assert.ok(migrations.length >= 1);
        const applied = await fresh.a.db.query<{ version: number }>(
          "SELECT version FROM schema_migrations ORDER BY version",
        );
        assert.deepEqual(
          applied.rows.map((r) => Number(r.version)),
          migrations.map((m) => m.version),
        );
        const tables = await fresh.a.db.query<{ t: string }>(
          `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'
            AND tablename IN ('transactions_scored', 'dead_letters', 'checkpoints', 'schema_migrations')
            ORDER BY 1`,
        );
        assert.deepEqual(
          tables.rows.map((r) => r.t),
          ["checkpoints", "dead_letters", "schema_migrations", "transactions_scored"],
        );
        const defaults = await fresh.a.db.query(
          `SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
            WHERE c.relname = 'transactions_scored' AND p.partdefid <> 0`,
        );
        assert.equal(defaults.rows.length, 0, "no DEFAULT partition");
      } finally {
        await fresh.cleanup();
      }
    });

    it("creates daily partitions for today and the next 7 days", async () => {
      const names = await partitionsOf(pair.a);
      const today = Math.floor(Date.now() / DAY);
      for (let d = 0; d <= 7; d++) assert.ok(names.includes(partitionName(today + d)), `day +${d}`);
    });

    it("creates the partition of an old event day on write, also when two stores race for it", async () => {
      const old = Date.UTC(2021, 2, 4, 13, 30);
      const day = Math.floor(old / DAY);
      assert.equal(partitionName(day), "transactions_scored_p20210304");
      assert.ok(!(await partitionsOf(pair.a)).includes(partitionName(day)));
      const r1 = scoredRow({ eventTime: old });
      const r2 = scoredRow({ eventTime: old + 1000 });
      await Promise.all([
        pair.a.writeBatch(batch({ scored: [r1] })),
        pair.b.writeBatch(batch({ scored: [r2] })),
      ]);
      assert.ok((await partitionsOf(pair.a)).includes(partitionName(day)));
      const rows = await pair.a.db.query<{ id: string; part: string }>(
        `SELECT transaction_id AS id, tableoid::regclass::text AS part FROM transactions_scored
          WHERE transaction_id = ANY($1::text[]) ORDER BY 1`,
        [[r1.transactionId, r2.transactionId].sort()],
      );
      assert.deepEqual(
        rows.rows.map((r) => r.part),
        [partitionName(day), partitionName(day)],
      );
    });

    it("writes scored rows idempotently (same rows twice, and duplicates within a batch)", async () => {
      const rows = Array.from({ length: 50 }, () => scoredRow());
      await pair.a.writeBatch(batch({ scored: rows }));
      await pair.a.writeBatch(batch({ scored: rows }));
      await pair.b.writeBatch(batch({ scored: [...rows.slice(0, 10), ...rows.slice(0, 10)] }));
      const ids = rows.map((r) => r.transactionId);
      assert.equal(
        await count(pair.a, "SELECT 1 FROM transactions_scored WHERE transaction_id = ANY($1::text[])", [
          ids,
        ]),
        50,
      );
    });

    it("writes alerts with their explanation in the same batch, idempotently, open for review", async () => {
      const flagged = Array.from({ length: 5 }, () =>
        scoredRow({ risk: "HIGH", decision: "REVIEW", explanation: explanation([HIGH_VALUE], 0.5) }),
      );
      const calm = scoredRow();
      await pair.a.writeBatch(batch({ scored: [...flagged, calm], alerts: flagged }));
      await pair.b.writeBatch(batch({ scored: flagged, alerts: flagged }));
      const ids = [...flagged, calm].map((r) => r.transactionId);
      const r = await pair.a.db.query<{ transaction_id: string; status: string; explanation: unknown }>(
        "SELECT transaction_id, status, explanation FROM alerts WHERE transaction_id = ANY($1::text[])",
        [ids],
      );
      assert.equal(r.rows.length, 5);
      for (const row of r.rows) {
        assert.equal(row.status, "open");
        assert.deepEqual(row.explanation, explanation([HIGH_VALUE], 0.5));
      }
      const stored = await pair.a.db.query<{ explanation: unknown }>(
        "SELECT explanation FROM transactions_scored WHERE transaction_id = $1",
        [calm.transactionId],
      );
      assert.deepEqual(stored.rows[0]?.explanation, explanation());
    });

    it("writes dead letters idempotently on (topic, partition, offset)", async () => {
      const first = deadLetter({ topic: "dlq-idem", partition: 3, offset: 77n, reason: "invalid_json" });
      await pair.a.writeBatch(
        batch({ deadLetters: [first, deadLetter({ topic: "dlq-idem", offset: 78n })] }),
      );
      // Same position, different content: the stored row is kept as it was.
      await pair.b.writeBatch(batch({ deadLetters: [{ ...first, reason: "changed" }] }));
      const r = await pair.a.db.query<{ reason: string; key: Uint8Array; raw: Uint8Array; offset: string }>(
        `SELECT reason, key, raw, "offset"::text AS offset FROM dead_letters WHERE topic = 'dlq-idem' ORDER BY "offset"`,
      );
      assert.equal(r.rows.length, 2);
      assert.equal(r.rows[0]?.reason, "invalid_json");
      assert.equal(r.rows[0]?.offset, "77");
      assert.deepEqual(new Uint8Array(r.rows[0]?.raw as Uint8Array), first.raw);
      assert.deepEqual(new Uint8Array(r.rows[0]?.key as Uint8Array), first.key);
    });

    it("fences a stale writer: the second advance from the same offset fails and writes nothing", async () => {
      const group = "fence-group";
      const topic = "fence-topic";
      await pair.a.writeBatch(batch({ checkpoints: [{ group, topic, partition: 0, from: null, to: 10n }] }));
      // Both believe the partition is at 10.
      assert.equal((await pair.a.loadCheckpoints(group, topic, [0])).get(0), 10n);
      assert.equal((await pair.b.loadCheckpoints(group, topic, [0])).get(0), 10n);
      const winner = scoredRow();
      const loser = scoredRow();
      const loserDl = deadLetter({ topic: "fence-dl" });
      await pair.a.writeBatch(
        batch({ scored: [winner], checkpoints: [{ group, topic, partition: 0, from: 10n, to: 20n }] }),
      );
      await assert.rejects(
        pair.b.writeBatch(
          batch({
            scored: [loser],
            deadLetters: [loserDl],
            checkpoints: [
              { group, topic, partition: 1, from: null, to: 5n },
              { group, topic, partition: 0, from: 10n, to: 25n },
            ],
          }),
        ),
        (err: unknown) =>
          err instanceof CheckpointConflictError && err.partition === 0 && err.topic === topic,
      );
      assert.equal(
        await count(pair.a, "SELECT 1 FROM transactions_scored WHERE transaction_id = $1", [
          loser.transactionId,
        ]),
        0,
      );
      assert.equal(await count(pair.a, "SELECT 1 FROM dead_letters WHERE topic = 'fence-dl'"), 0);
      assert.equal(
        await count(pair.a, "SELECT 1 FROM transactions_scored WHERE transaction_id = $1", [
          winner.transactionId,
        ]),
        1,
      );
      // Partition 1's advance was in the failed transaction too: rolled back.
      assert.deepEqual(await pair.a.loadCheckpoints(group, topic, [0, 1, 2]), new Map([[0, 20n]]));
    });

    it("finds stored transactions by id and event time", async () => {
      const t = Date.UTC(2026, 10, 3, 10, 0, 0, 123);
      const row = scoredRow({ eventTime: t });
      await pair.a.writeBatch(batch({ scored: [row] }));
      const found = await pair.b.findStored([
        { transactionId: row.transactionId, eventTime: t },
        { transactionId: row.transactionId, eventTime: t + 1 }, // same id, another time: another row
        { transactionId: "never-stored", eventTime: t },
      ]);
      assert.deepEqual([...found], [row.transactionId]);
      assert.equal((await pair.b.findStored([])).size, 0);
      const other = await pair.b.findStored([{ transactionId: row.transactionId, eventTime: t + 1 }]);
      assert.equal(other.size, 0);
    });

    it("checkpoints per-user feature state and the watermark with the offset, and fences them too", async () => {
      const group = "state-group";
      const topic = "state-topic";
      const bytes = (...xs: number[]) => new Uint8Array(new Float64Array(xs).buffer);
      const empty = await pair.a.loadPartitionState(group, topic, 3);
      assert.equal(empty.users.size, 0);
      assert.equal(empty.watermarkMs, null);
      const key = { group, topic, partition: 3 };
      await pair.a.writeBatch(
        batch({
          checkpoints: [{ ...key, from: null, to: 100n, watermarkMs: 1_763_800_000_123.5 }],
          userStates: [
            { ...key, userId: "alice", state: bytes(1, 2, 3) },
            { ...key, userId: "bob", state: bytes(4) },
            { ...key, partition: 4, userId: "carol", state: bytes(5) },
          ],
        }),
      );
      const s1 = await pair.b.loadPartitionState(group, topic, 3);
      assert.deepEqual([...s1.users.keys()].sort(), ["alice", "bob"]);
      assert.deepEqual(s1.users.get("alice"), bytes(1, 2, 3));
      assert.equal(s1.watermarkMs, 1_763_800_000_123.5);
      // Replace one, delete one (expired), keep the watermark when none is given.
      await pair.a.writeBatch(
        batch({
          checkpoints: [{ ...key, from: 100n, to: 150n }],
          userStates: [
            { ...key, userId: "alice", state: bytes(9) },
            { ...key, userId: "bob", state: null },
          ],
        }),
      );
      const s2 = await pair.a.loadPartitionState(group, topic, 3);
      assert.deepEqual([...s2.users.entries()], [["alice", bytes(9)]]);
      assert.equal(s2.watermarkMs, 1_763_800_000_123.5);
      // A fenced writer's states are rolled back with its checkpoint.
      await assert.rejects(
        pair.b.writeBatch(
          batch({
            checkpoints: [{ ...key, from: 100n, to: 200n, watermarkMs: 2e12 }],
            userStates: [{ ...key, userId: "alice", state: bytes(0) }],
          }),
        ),
        CheckpointConflictError,
      );
      const s3 = await pair.a.loadPartitionState(group, topic, 3);
      assert.deepEqual(s3.users.get("alice"), bytes(9));
      assert.equal(s3.watermarkMs, 1_763_800_000_123.5);
    });

    it("fences a concurrent first checkpoint: of two writers starting from none, one wins", async () => {
      const group = "race-group";
      const topic = "race-topic";
      const rowA = scoredRow();
      const rowB = scoredRow();
      const results = await Promise.allSettled([
        pair.a.writeBatch(
          batch({ scored: [rowA], checkpoints: [{ group, topic, partition: 4, from: null, to: 1n }] }),
        ),
        pair.b.writeBatch(
          batch({ scored: [rowB], checkpoints: [{ group, topic, partition: 4, from: null, to: 2n }] }),
        ),
      ]);
      const won = results.findIndex((r) => r.status === "fulfilled");
      const lost = results.find((r) => r.status === "rejected");
      assert.ok(won >= 0 && lost !== undefined, "exactly one writer wins");
      assert.ok(lost.reason instanceof CheckpointConflictError);
      const [winnerRow, loserRow] = won === 0 ? [rowA, rowB] : [rowB, rowA];
      assert.equal((await pair.a.loadCheckpoints(group, topic, [4])).get(4), won === 0 ? 1n : 2n);
      const ids = await pair.a.db.query<{ id: string }>(
        "SELECT transaction_id AS id FROM transactions_scored WHERE transaction_id = ANY($1::text[])",
        [[rowA.transactionId, rowB.transactionId]],
      );
      assert.deepEqual(
        ids.rows.map((r) => r.id),
        [winnerRow.transactionId],
      );
      assert.notEqual(loserRow.transactionId, winnerRow.transactionId);
    });

    it("keeps bigint offsets above 2^53 exact", async () => {
      const big = 2n ** 63n - 1n;
      const odd = 2n ** 53n + 1n;
      const row = scoredRow({ source: { topic: "big", partition: 2, offset: odd } });
      const dl = deadLetter({ topic: "big-dl", offset: big });
      await pair.a.writeBatch(
        batch({
          scored: [row],
          deadLetters: [dl],
          checkpoints: [{ group: "big", topic: "big", partition: 2, from: null, to: odd }],
        }),
      );
      await pair.a.writeBatch(
        batch({ checkpoints: [{ group: "big", topic: "big", partition: 2, from: odd, to: big }] }),
      );
      assert.equal((await pair.b.loadCheckpoints("big", "big", [2])).get(2), big);
      const s = await pair.a.db.query<{ o: string }>(
        "SELECT src_offset::text AS o FROM transactions_scored WHERE transaction_id = $1",
        [row.transactionId],
      );
      assert.equal(s.rows[0]?.o, odd.toString());
      const d = await pair.a.db.query<{ o: string }>(
        `SELECT "offset"::text AS o FROM dead_letters WHERE topic = 'big-dl'`,
      );
      assert.equal(d.rows[0]?.o, big.toString());
    });

    it("round-trips features, payload, amounts and labels", async () => {
      const payload = {
        transaction_id: "json-1",
        nested: { list: [1, "two", null, true, { deep: -0.5 }], empty: {} },
        unicode: 'Zürich 東京 🚀 "quoted" back\\slash {braces,commas}',
        literal_backslash_u: "\\u0000 stays text",
        big: 123456789012345,
        extra_field: null,
      };
      const features = { amount_z: -1.2345678901234567, velocity_1h: 0, ratio: 1e-12, huge: 1e300 };
      const row = scoredRow({
        transactionId: "json-1",
        payload,
        features,
        amount: 0.1 + 0.2,
        isFraud: true,
        fraudType: "account_takeover",
        cardId: null,
        merchantId: null,
        merchantCategory: "a\"b'c\\d{e},f\tg\nh NULL",
      });
      const nul = scoredRow({
        payload: { note: "nul\u0000inside", lone: "\ud83d" },
        userId: "nul\u0000user",
      });
      await pair.a.writeBatch(batch({ scored: [row, nul] }));
      const r = await pair.a.db.query<{
        features: unknown;
        payload: unknown;
        amount: string;
        is_fraud: boolean;
        fraud_type: string;
        card_id: string | null;
        merchant_category: string;
        event_time: Date;
      }>(
        `SELECT features, payload, amount::text AS amount, is_fraud, fraud_type, card_id, merchant_category, event_time
           FROM transactions_scored WHERE transaction_id = 'json-1'`,
      );
      const got = r.rows[0];
      assert.ok(got);
      assert.deepEqual(got.features, features);
      assert.deepEqual(got.payload, payload);
      assert.equal(Number(got.amount), 0.1 + 0.2);
      assert.equal(got.is_fraud, true);
      assert.equal(got.fraud_type, "account_takeover");
      assert.equal(got.card_id, null);
      assert.equal(got.merchant_category, row.merchantCategory);
      assert.equal(new Date(got.event_time).getTime(), row.eventTime);
      // Characters PostgreSQL cannot store become U+FFFD instead of failing the batch.
      const n = await pair.a.db.query<{ payload: unknown; user_id: string }>(
        "SELECT payload, user_id FROM transactions_scored WHERE transaction_id = $1",
        [nul.transactionId],
      );
      assert.deepEqual(n.rows[0]?.payload, { note: "nul\uFFFDinside", lone: "\uFFFD" });
      assert.equal(n.rows[0]?.user_id, "nul\uFFFDuser");
    });

    it("writes a 12,000-row batch split into chunks in one transaction", async () => {
      const chunked = await harness.open({ chunkRows: 5000 });
      try {
        await chunked.a.migrate();
        const rows = Array.from({ length: 12_000 }, (_, i) =>
          scoredRow({
            eventTime: Date.now() - (i % 3) * DAY,
            source: { topic: "bulk", partition: 0, offset: BigInt(i) },
          }),
        );
        const dls = Array.from({ length: 6000 }, (_, i) =>
          deadLetter({ topic: "bulk-dl", offset: BigInt(i) }),
        );
        await chunked.a.writeBatch(
          batch({
            scored: rows,
            deadLetters: dls,
            checkpoints: [{ group: "g", topic: "bulk", partition: 0, from: null, to: 12_000n }],
          }),
        );
        assert.equal(
          await count(chunked.a, "SELECT 1 FROM transactions_scored WHERE src_topic = 'bulk'"),
          12_000,
        );
        assert.equal(await count(chunked.a, "SELECT 1 FROM dead_letters WHERE topic = 'bulk-dl'"), 6000);
        // A fenced retry of the same batch changes nothing.
        await assert.rejects(
          chunked.b.writeBatch(
            batch({
              scored: rows,
              checkpoints: [{ group: "g", topic: "bulk", partition: 0, from: null, to: 1n }],
            }),
          ),
          CheckpointConflictError,
        );
        assert.deepEqual(await chunked.b.loadCheckpoints("g", "bulk", [0]), new Map([[0, 12_000n]]));
      } finally {
        await chunked.cleanup();
      }
    });
  });
}
