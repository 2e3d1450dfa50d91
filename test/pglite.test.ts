// The Store contract on embedded PGlite (the demo's database), plus persistence in a data directory.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createPgliteStore, createStore } from "../src/io/pg/index.ts";
import { scoredRow, storeSuite } from "./helpers/pg.ts";

storeSuite("PGlite", {
  async open(options = {}) {
    const a = await createPgliteStore(options);
    // PGlite is one embedded connection: the "second process" is a second store (own partition cache)
    // over the same database, whose close() leaves the database open for the first.
    const b = createStore({ ...a.db, close: async () => {} }, options);
    return {
      a,
      b,
      async cleanup() {
        await b.close();
        await a.close();
      },
    };
  },
});

describe("PGlite data directory", () => {
  it("keeps rows and checkpoints across a reopen", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fraudstream-pglite-"));
    try {
      const row = scoredRow();
      const first = await createPgliteStore({ dataDir: dir });
      await first.migrate();
      await first.writeBatch({
        scored: [row],
        deadLetters: [],
        checkpoints: [{ group: "g", topic: "t", partition: 0, from: null, to: 2n ** 60n }],
      });
      await first.close();
      const second = await createPgliteStore({ dataDir: dir });
      try {
        await second.migrate();
        assert.deepEqual(await second.loadCheckpoints("g", "t", [0]), new Map([[0, 2n ** 60n]]));
        const r = await second.db.query<{ id: string }>(
          "SELECT transaction_id AS id FROM transactions_scored",
        );
        assert.deepEqual(
          r.rows.map((x) => x.id),
          [row.transactionId],
        );
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
