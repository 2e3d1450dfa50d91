// The Store on real PostgreSQL (127.0.0.1:5432), plus what only a real server shows: connection errors
// classified as transient, and the pool recovering after its connections were killed.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import { createPgStore, isTransientDbError } from "../src/io/pg/index.ts";
import { CheckpointConflictError } from "../src/pipeline/ports.ts";
import { createTestDatabase, scoredRow, storeSuite } from "./helpers/pg.ts";

storeSuite("PostgreSQL", {
  async open(options = {}) {
    const database = await createTestDatabase();
    const a = await createPgStore({ url: database.url, poolSize: 4, ...options });
    const b = await createPgStore({ url: database.url, poolSize: 4, ...options });
    return {
      a,
      b,
      async cleanup() {
        await a.close();
        await b.close();
        await database.drop();
      },
    };
  },
});

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

describe("PostgreSQL errors", () => {
  it("surfaces connection refused as a thrown, transient error", async () => {
    const port = await closedPort();
    const store = await createPgStore({ url: `postgres://postgres@127.0.0.1:${port}/postgres` });
    try {
      const err = await store.writeBatch({ scored: [scoredRow()], deadLetters: [], checkpoints: [] }).then(
        () => assert.fail("write to a closed port succeeded"),
        (e: unknown) => e,
      );
      assert.equal((err as { code?: string }).code, "ECONNREFUSED");
      assert.equal(isTransientDbError(err), true);
      await assert.rejects(store.loadCheckpoints("g", "t", [0]), (e: unknown) => isTransientDbError(e));
    } finally {
      await store.close();
    }
  });

  it("does not call SQL errors or fencing transient", async () => {
    const database = await createTestDatabase();
    const store = await createPgStore({ url: database.url });
    try {
      const err = await store.db.query("SELEC 1").then(
        () => assert.fail("bad SQL succeeded"),
        (e: unknown) => e,
      );
      assert.equal((err as { code?: string }).code, "42601");
      assert.equal(isTransientDbError(err), false);
      assert.equal(isTransientDbError(new CheckpointConflictError("t", 0)), false);
      assert.equal(isTransientDbError(new Error("boom")), false);
      assert.equal(isTransientDbError(undefined), false);
      assert.equal(isTransientDbError(Object.assign(new Error("x"), { code: "57P01" })), true);
      assert.equal(isTransientDbError(Object.assign(new Error("x"), { code: "57P03" })), true);
    } finally {
      await store.close();
      await database.drop();
    }
  });

  it("recovers by itself after the server terminated its connections (57P01)", async () => {
    const database = await createTestDatabase();
    const store = await createPgStore({ url: database.url, poolSize: 3 });
    const killer = await createPgStore({ url: "postgres://postgres@127.0.0.1:5432/postgres", poolSize: 1 });
    try {
      await store.migrate();
      // Fill the pool with open connections, then have the server kill them all (what a restart does).
      await Promise.all([1, 2, 3].map(() => store.db.query("SELECT pg_sleep(0.05)")));
      const killed = await killer.db.query<{ n: string }>(
        `SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid()`,
        [new URL(database.url).pathname.slice(1)],
      );
      assert.ok(Number(killed.rows[0]?.n) >= 1);
      // The caller's retry loop: failures, if any, must be transient; the pool must come back.
      const row = scoredRow();
      let attempts = 0;
      for (;;) {
        attempts += 1;
        try {
          await store.writeBatch({ scored: [row], deadLetters: [], checkpoints: [] });
          break;
        } catch (err) {
          assert.ok(isTransientDbError(err), `non-transient error after kill: ${String(err)}`);
          assert.ok(attempts < 5, "the pool did not recover");
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      const r = await store.db.query<{ n: string }>(
        "SELECT count(*)::text AS n FROM transactions_scored WHERE transaction_id = $1",
        [row.transactionId],
      );
      assert.equal(r.rows[0]?.n, "1");
    } finally {
      await killer.close();
      await store.close();
      await database.drop();
    }
  });
});
