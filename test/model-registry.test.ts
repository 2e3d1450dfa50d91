// The model registry (migration 0003, src/io/pg/models.ts) on the real PostgreSQL and on PGlite:
// register, list, promote, rollback through the history, and refusal of what would corrupt it. Then the
// hot-reload holder against the real registry: a promotion reaches the slot the worker reads.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createModelReloader } from "../src/app/reload.ts";
import {
  createModelRegistry,
  createPgliteStore,
  createPgStore,
  type ModelRegistry,
  ModelRegistryError,
  type PgStore,
} from "../src/io/pg/index.ts";
import type { Scorer } from "../src/model/scorer.ts";
import { createLogger } from "../src/observe/logger.ts";
import { createTestDatabase } from "./helpers/pg.ts";

const logger = createLogger("silent", "test");

function registration(id: string, body = `{"model":"${id}"}`) {
  return {
    id,
    kind: "isolation_forest",
    featureSetVersion: "fs-test",
    featureNames: ["amount", "hour_of_day"],
    body,
    metrics: { roc_auc: 0.9 },
    params: { n_estimators: 10 },
    registeredBy: "tester",
  };
}

/** A scorer that gives every row the same score, named after the model it was built from. */
function constantScorer(version: string, value: number): Scorer {
  return {
    version,
    featureNames: ["amount"],
    scoreBatch(_rows, n, out) {
      out.fill(value, 0, n);
    },
  };
}

function registrySuite(name: string, open: () => Promise<{ store: PgStore; cleanup(): Promise<void> }>) {
  describe(`model registry on ${name}`, () => {
    let store: PgStore;
    let cleanup: () => Promise<void>;
    let registry: ModelRegistry;
    before(async () => {
      ({ store, cleanup } = await open());
      await store.migrate();
      registry = createModelRegistry(store.db);
    });
    after(async () => {
      await cleanup?.();
    });

    it("registers candidates, idempotently for the same file, and refuses another file under a taken id", async () => {
      const a = await registry.register(registration("m-a"));
      assert.equal(a.status, "candidate");
      assert.deepEqual(a.featureNames, ["amount", "hour_of_day"]);
      assert.deepEqual(a.metrics, { roc_auc: 0.9 });
      assert.match(a.sha256, /^[0-9a-f]{64}$/);
      assert.equal((await registry.register(registration("m-a"))).sha256, a.sha256);
      await assert.rejects(registry.register(registration("m-a", "{}")), ModelRegistryError);
      await assert.rejects(registry.register(registration("bad id!")), /must be 1–128 letters/);
      assert.equal((await registry.get("m-a"))?.body, '{"model":"m-a"}');
      assert.equal(await registry.activeId(), null);
    });

    it("promotes one model at a time and rolls back along the promotion history", async () => {
      await registry.register(registration("m-b"));
      await registry.register(registration("m-c"));
      await assert.rejects(registry.rollback("admin"), /nothing to roll back/);
      await assert.rejects(registry.promote("m-nope", "admin"), /no model m-nope/);
      assert.deepEqual(await registry.promote("m-a", "admin"), { previous: null });
      assert.deepEqual(await registry.promote("m-b", "admin"), { previous: "m-a" });
      assert.deepEqual(await registry.promote("m-c", "admin", "better recall"), { previous: "m-b" });
      assert.equal((await registry.active())?.id, "m-c");
      const statuses = Object.fromEntries((await registry.list()).map((m) => [m.id, m.status]));
      assert.deepEqual(statuses, { "m-a": "retired", "m-b": "retired", "m-c": "active" });

      assert.deepEqual(await registry.rollback("admin"), { from: "m-c", to: "m-b" });
      assert.deepEqual(await registry.rollback("admin"), { from: "m-b", to: "m-a" });
      await assert.rejects(registry.rollback("admin"), /first one promoted/);
      assert.equal(await registry.activeId(), "m-a");
      // Concurrent promotions: the unique index and the lock leave exactly one active model.
      await Promise.all([registry.promote("m-b", "x"), registry.promote("m-c", "y")]);
      const active = (await registry.list()).filter((m) => m.status === "active");
      assert.equal(active.length, 1);
    });

    it("hot-reloads: a promotion reaches the slot, a model that cannot load is refused", async () => {
      const fallback = constantScorer("fallback", 0);
      const swaps: string[] = [];
      const refused: string[] = [];
      const reloader = createModelReloader({
        source: registry,
        build: (id, body) => {
          if (body.includes("broken")) throw new Error(`cannot load ${id}`);
          return constantScorer(id, 0.5);
        },
        fallback,
        intervalMs: 50,
        logger,
        onSwap: (s) => swaps.push(s.version),
        onRefused: (id) => refused.push(id),
      });
      await reloader.refresh();
      const before = (await registry.activeId()) as string;
      assert.equal(reloader.current.version, before);
      await registry.register(registration("m-d"));
      await registry.promote("m-d", "admin");
      assert.equal(reloader.current.version, before, "nothing changes before the next poll");
      reloader.start();
      try {
        const deadline = Date.now() + 5000;
        while (reloader.current.version !== "m-d" && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 20));
        assert.equal(reloader.current.version, "m-d");
        await registry.register(registration("m-broken", '{"broken":true}'));
        await registry.promote("m-broken", "admin");
        await reloader.refresh();
        assert.equal(reloader.current.version, "m-d", "a model that fails to load leaves the current one");
        assert.deepEqual(refused, ["m-broken"]);
      } finally {
        reloader.stop();
      }
      assert.deepEqual(swaps, [before, "m-d"]);
    });
  });
}

registrySuite("PostgreSQL", async () => {
  const db = await createTestDatabase();
  const store = await createPgStore({ url: db.url });
  return {
    store,
    async cleanup() {
      await store.close();
      await db.drop();
    },
  };
});

registrySuite("PGlite", async () => {
  const store = await createPgliteStore();
  return { store, cleanup: () => store.close() };
});
