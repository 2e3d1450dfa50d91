// The REST API against the real PostgreSQL: auth and roles, filters and cursor pagination, the
// transaction detail, feedback, statistics, model performance, the live stream with resumption, the
// model registry, security headers, CORS, rate limiting, and 4xx (never 5xx) on bad input.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { buildApi } from "../src/api/server.ts";
import type { Explanation, StoredExplanation } from "../src/contract/outputs.ts";
import { defaultRuleSet } from "../src/decide/defaults.ts";
import { createAlertStore } from "../src/io/pg/alerts.ts";
import { createModelRegistry, createPgStore, type PgStore } from "../src/io/pg/index.ts";
import { createLogger } from "../src/observe/logger.ts";
import type { ScoredRow } from "../src/pipeline/ports.ts";
import { createTestDatabase, scoredRow } from "./helpers/pg.ts";

const KEYS = {
  admin: "admin-key-0123456789abcdef",
  analyst: "analyst-key-0123456789abcdef",
  viewer: "viewer-key-0123456789abcdef",
};
const keys = Object.entries(KEYS).map(([role, key]) => ({ role: role as keyof typeof KEYS, key }));
const logger = createLogger("silent", "test");

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let store: PgStore;
let app: Awaited<ReturnType<typeof buildApi>>;
let base: string;
const T0 = Date.UTC(2026, 10, 25, 12);

/**
 * An explanation with parts missing (no points, hits without descriptions, factors without
 * contributions), as a JSONB column may hold one the worker never wrote: the API serves the parts it has.
 */
const partial = (e: StoredExplanation): Explanation => e as Explanation;

function flaggedRow(i: number, overrides: Partial<ScoredRow> = {}): ScoredRow {
  return scoredRow({
    transactionId: `api-${i}`,
    eventTime: T0 + i * 60_000,
    userId: `api-user-${i % 3}`,
    risk: i % 4 === 0 ? "CRITICAL" : "HIGH",
    decision: i % 4 === 0 ? "BLOCK" : "REVIEW",
    score: 0.6 + (i % 4) / 10,
    isFraud: i % 2 === 0,
    features: { amount_zscore: i, hour_of_day: 12 },
    explanation: partial({
      hits: [{ id: "high_value", weight: 2 }],
      factors: [{ feature: "amount_zscore", value: i }],
    }),
    ...overrides,
  });
}

async function write(rows: ScoredRow[]): Promise<void> {
  const flagged = rows.filter((r) => r.risk === "HIGH" || r.risk === "CRITICAL");
  await store.writeBatch({ scored: rows, deadLetters: [], checkpoints: [], alerts: flagged });
}

async function call(
  path: string,
  opts: {
    key?: keyof typeof KEYS | string;
    method?: string;
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key !== undefined)
    headers.authorization = `Bearer ${KEYS[opts.key as keyof typeof KEYS] ?? opts.key}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${base}${path}`, {
    method: opts.method ?? "GET",
    headers,
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body, headers: res.headers };
}

before(async () => {
  db = await createTestDatabase();
  store = await createPgStore({ url: db.url });
  await store.migrate();
  // 12 flagged rows over three users, and calm ones around them.
  await write([
    ...Array.from({ length: 12 }, (_, i) => flaggedRow(i)),
    ...Array.from({ length: 8 }, (_, i) =>
      scoredRow({
        transactionId: `calm-${i}`,
        userId: "api-user-0",
        eventTime: T0 + i * 30_000,
        isFraud: false,
        score: 0.1,
      }),
    ),
  ]);
  app = await buildApi({
    db: store.db,
    keys,
    corsOrigins: ["https://bank.example"],
    rateLimitPerMinute: 10_000,
    logger,
    feedPollMs: 50,
  });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
});

after(async () => {
  await app?.close();
  await store?.close();
  await db?.drop();
});

describe("API", () => {
  it("requires a key everywhere but health, and a role for writes", async () => {
    assert.equal((await call("/healthz")).status, 200);
    assert.deepEqual((await call("/readyz")).body, { status: "ok" });
    const none = await call("/api/alerts");
    assert.equal(none.status, 401);
    assert.match(String((none.body as { message: string }).message), /Authorization: Bearer/);
    assert.equal((await call("/api/alerts", { key: "not-a-key-at-all-0000" })).status, 401);
    assert.equal((await call("/api/alerts", { key: "viewer" })).status, 200);
    const denied = await call("/api/alerts/api-1/feedback", {
      key: "viewer",
      method: "POST",
      body: { label: "false_positive" },
    });
    assert.equal(denied.status, 403);
    assert.match(String((denied.body as { message: string }).message), /analyst/);
    assert.equal(
      (await call("/api/models/rollback", { key: "analyst", method: "POST", body: {} })).status,
      403,
    );
  });

  it("tells each key its role and what it may do", async () => {
    const expected = {
      viewer: { canLabel: false, canAssign: false, canEditLists: false, canAdmin: false },
      analyst: { canLabel: true, canAssign: true, canEditLists: true, canAdmin: false },
      admin: { canLabel: true, canAssign: true, canEditLists: true, canAdmin: true },
    };
    for (const role of ["viewer", "analyst", "admin"] as const) {
      const r = await call("/api/me", { key: role });
      assert.equal(r.status, 200, role);
      const me = r.body as { role: string; name: string };
      assert.deepEqual(me, { role, name: `${role}:${KEYS[role].slice(0, 4)}…`, ...expected[role] }, role);
    }
    assert.equal((await call("/api/me")).status, 401);
    assert.equal((await call("/api/me", { key: "not-a-key-at-all-0000" })).status, 401);
  });

  it("filters alerts and pages through them with a cursor, newest first", async () => {
    const all = (await call("/api/alerts?limit=500", { key: "viewer" })).body as {
      items: { seq: number; risk: string; userId: string }[];
      total: number;
      totalCapped: boolean;
    };
    assert.equal(all.items.length, 12);
    assert.equal(all.total, 12);
    assert.equal(all.totalCapped, false);
    assert.deepEqual(
      all.items.map((a) => a.seq),
      [...all.items.map((a) => a.seq)].sort((x, y) => y - x),
    );
    const critical = (await call("/api/alerts?risk=CRITICAL", { key: "viewer" })).body as {
      items: { risk: string }[];
      total: number;
    };
    assert.equal(critical.items.length, 3);
    assert.equal(critical.total, 3);
    assert.ok(critical.items.every((a) => a.risk === "CRITICAL"));
    const user = (await call("/api/alerts?user_id=api-user-1&risk=HIGH,CRITICAL", { key: "viewer" }))
      .body as {
      items: { userId: string }[];
      total: number;
    };
    assert.equal(user.items.length, 4);
    assert.equal(user.total, 4);
    const from = new Date(T0 + 6 * 60_000).toISOString();
    const to = new Date(T0 + 9 * 60_000).toISOString();
    const windowed = (await call(`/api/alerts?from=${from}&to=${to}`, { key: "viewer" })).body as {
      items: unknown[];
      total: number;
    };
    assert.equal(windowed.items.length, 3);
    assert.equal(windowed.total, 3);

    // The total counts the filter over every page: the same on page 1 and page 2 (the cursor aside).
    const high1 = (await call("/api/alerts?risk=HIGH&limit=4", { key: "viewer" })).body as {
      items: unknown[];
      nextCursor: number | null;
      total: number;
    };
    assert.deepEqual([high1.items.length, high1.total], [4, 9]);
    const high2 = (await call(`/api/alerts?risk=HIGH&limit=4&cursor=${high1.nextCursor}`, { key: "viewer" }))
      .body as { items: unknown[]; total: number };
    assert.deepEqual([high2.items.length, high2.total], [4, 9]);
    const nobody = (await call("/api/alerts?user_id=nobody", { key: "viewer" })).body;
    assert.deepEqual(nobody, { items: [], nextCursor: null, total: 0, totalCapped: false });
    // Past the cap the count stops and says so (a small cap here; the API's is 10,000).
    const alertStore = createAlertStore(store.db);
    assert.deepEqual(await alertStore.count({}, 5), { total: 5, capped: true });
    assert.deepEqual(await alertStore.count({ risk: ["CRITICAL"] }, 3), { total: 3, capped: false });

    const seen: number[] = [];
    let cursor: number | null = null;
    do {
      const page = (
        await call(`/api/alerts?limit=5${cursor === null ? "" : `&cursor=${cursor}`}`, { key: "viewer" })
      ).body as { items: { seq: number }[]; nextCursor: number | null };
      seen.push(...page.items.map((a) => a.seq));
      cursor = page.nextCursor;
    } while (cursor !== null);
    assert.deepEqual(
      seen,
      all.items.map((a) => a.seq),
    );
  });

  it("answers bad input with 400 naming the parameter, unknown ids with 404", async () => {
    for (const [path, what] of [
      ["/api/alerts?limit=0", /limit/],
      ["/api/alerts?risk=SEVERE", /risk/],
      ["/api/alerts?from=yesterday", /from/],
      ["/api/alerts?status=maybe", /status/],
      ["/api/stats?window=-5", /window/],
      ["/api/stats?bucket=5", /querystring\.bucket/],
      ["/api/stats?bucket=86401", /querystring\.bucket/],
      ["/api/stats?bucket=1.5", /querystring\.bucket/],
      ["/api/stats?bucket=minute", /querystring\.bucket/],
      ["/api/stats?window=2592000&bucket=60", /querystring\.bucket.*at least 260/],
      ["/api/transactions/has%20space", /id/],
    ] as const) {
      const r = await call(path, { key: "viewer" });
      assert.equal(r.status, 400, path);
      assert.match(String((r.body as { message: string }).message), what, path);
    }
    const badBody = await call("/api/alerts/api-1/feedback", {
      key: "analyst",
      method: "POST",
      body: { label: "meh" },
    });
    assert.equal(badBody.status, 400);
    assert.match(String((badBody.body as { message: string }).message), /label/);
    const notJson = await fetch(`${base}/api/alerts/api-1/feedback`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEYS.analyst}`, "content-type": "application/json" },
      body: "{not json",
    });
    assert.equal(notJson.status, 400);
    assert.equal((await call("/api/transactions/nope", { key: "viewer" })).status, 404);
    assert.equal(
      (
        await call("/api/alerts/nope/feedback", {
          key: "analyst",
          method: "POST",
          body: { label: "false_positive" },
        })
      ).status,
      404,
    );
  });

  it("tells where an alert's webhook notification stands", async () => {
    const r = await call("/api/alerts/api-7/notification", { key: "viewer" });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      state: "pending",
      attempts: 0,
      lastError: null,
      nextAttemptAt: null,
      deliveredAt: null,
    });
    await store.db.query(
      `UPDATE alerts SET notify_attempts = 2, notify_error = 'receiver answered 503',
              notify_next_at = now() + interval '1 minute' WHERE transaction_id = 'api-7'`,
    );
    const failing = (await call("/api/alerts/api-7/notification", { key: "viewer" })).body as {
      state: string;
      attempts: number;
      lastError: string;
      nextAttemptAt: string | null;
    };
    assert.equal(failing.state, "retrying");
    assert.equal(failing.attempts, 2);
    assert.equal(failing.lastError, "receiver answered 503");
    assert.ok(failing.nextAttemptAt !== null && Date.parse(failing.nextAttemptAt) > Date.now());
    await store.db.query(
      "UPDATE alerts SET notify_attempts = 0, notify_error = NULL, notify_next_at = NULL WHERE transaction_id = 'api-7'",
    );
    assert.equal((await call("/api/alerts/no-such-alert/notification", { key: "viewer" })).status, 404);
    assert.equal((await call("/api/alerts/api-7/notification")).status, 401);
  });

  it("shows one transaction with features, explanation, versions, alert and the user's history", async () => {
    const r = await call("/api/transactions/api-7", { key: "viewer" });
    assert.equal(r.status, 200);
    const d = r.body as {
      transaction: {
        features: Record<string, number>;
        explanation: { hits: unknown[] };
        modelVersion: string;
        userId: string;
      };
      alert: { status: string } | null;
      history: { eventTime: string }[];
    };
    assert.equal(d.transaction.features.amount_zscore, 7);
    assert.deepEqual(d.transaction.explanation.hits, [{ id: "high_value", weight: 2 }]);
    assert.equal(d.transaction.modelVersion, "model-1");
    assert.equal(d.alert?.status, "open");
    assert.ok(d.history.length >= 3);
    const times = d.history.map((h) => h.eventTime);
    assert.deepEqual(times, [...times].sort().reverse(), "newest first");
    assert.ok(
      times.every((t) => t <= new Date(T0 + 7 * 60_000).toISOString()),
      "nothing after the transaction",
    );
  });

  it("records feedback with who and when, and the statistics follow", async () => {
    const before = (await call("/api/stats?window=86400", { key: "viewer" })).body as {
      labels: { falsePositive: number };
    };
    const r = await call("/api/alerts/api-2/feedback", {
      key: "analyst",
      method: "POST",
      body: { label: "false_positive", note: "known customer" },
    });
    assert.equal(r.status, 200);
    const a = r.body as { status: string; reviewedBy: string; reviewedAt: string; note: string };
    assert.equal(a.status, "false_positive");
    assert.match(a.reviewedBy, /^analyst:/);
    assert.ok(Date.now() - Date.parse(a.reviewedAt) < 60_000);
    await call("/api/alerts/api-4/feedback", {
      key: "admin",
      method: "POST",
      body: { label: "confirmed_fraud" },
    });
    const detail = (await call("/api/transactions/api-2", { key: "viewer" })).body as {
      feedback: { label: string; by: string }[];
    };
    assert.deepEqual(
      detail.feedback.map((f) => f.label),
      ["false_positive"],
    );
    const open = (await call("/api/alerts?status=open", { key: "viewer" })).body as { items: unknown[] };
    assert.equal(open.items.length, 10);
    const stats = (await call("/api/stats?window=86400", { key: "viewer" })).body as {
      events: number;
      alerts: number;
      alertRate: number;
      openAlerts: number;
      labels: { confirmedFraud: number; falsePositive: number; falsePositiveRate: number };
      byCountry: { key: string; events: number }[];
      byHour: { hour: number }[];
    };
    assert.equal(stats.labels.falsePositive, before.labels.falsePositive + 1);
    assert.equal(stats.labels.confirmedFraud, 1);
    assert.equal(stats.labels.falsePositiveRate, 0.5);
    assert.equal(stats.events, 20);
    assert.equal(stats.alerts, 12);
    assert.equal(stats.alertRate, 12 / 20);
    assert.equal(stats.openAlerts, 10);
    assert.equal(stats.byCountry[0]?.key, "DE");
    assert.deepEqual(
      stats.byHour.map((h) => h.hour),
      [12],
    );
  });

  it("buckets risk over time by the bucket parameter, per minute by default", async () => {
    type Series = {
      events: number;
      bucketSeconds: number;
      riskOverTime: { minute: string; risk: string; count: number }[];
    };
    const check = (s: Series, bucket: number) => {
      assert.equal(s.bucketSeconds, bucket);
      assert.ok(s.riskOverTime.length > 0);
      for (const p of s.riskOverTime)
        assert.equal((Date.parse(p.minute) / 1000) % bucket, 0, `${p.minute} starts a ${bucket} s bucket`);
      assert.equal(
        s.riskOverTime.reduce((n, p) => n + p.count, 0),
        s.events,
        "every event in one bucket",
      );
      const keys = s.riskOverTime.map((p) => `${p.minute}/${p.risk}`);
      assert.equal(new Set(keys).size, keys.length, "one point per bucket and risk");
    };
    const byDefault = (await call("/api/stats?window=86400", { key: "viewer" })).body as Series;
    check(byDefault, 60);
    for (const bucket of [10, 300, 3600, 86_400]) {
      const r = await call(`/api/stats?window=86400&bucket=${bucket}`, { key: "viewer" });
      assert.equal(r.status, 200, String(bucket));
      check(r.body as Series, bucket);
    }
    // A default window of an hour with 10 s buckets is 360 buckets: allowed.
    assert.equal((await call("/api/stats?bucket=10", { key: "viewer" })).status, 200);
  });

  it("reports the model's performance on labelled data with curves and a threshold sweep", async () => {
    const r = (await call("/api/stats/model", { key: "viewer" })).body as {
      rows: number;
      positives: number;
      analystLabels: number;
      rocAuc: number;
      roc: { x: number; y: number }[];
      thresholds: { threshold: number; tp: number; fp: number; tn: number; fn: number }[];
    };
    assert.equal(r.rows, 20);
    assert.equal(r.analystLabels, 2);
    // api-2 relabelled false positive (was is_fraud), api-4 confirmed: 6 frauds among the flagged.
    assert.equal(r.positives, 5);
    assert.ok(r.rocAuc > 0.5 && r.rocAuc <= 1);
    assert.equal(r.thresholds.length, 101);
    for (const t of r.thresholds) assert.equal(t.tp + t.fp + t.tn + t.fn, 20);
    assert.deepEqual({ x: r.roc.at(-1)?.x, y: r.roc.at(-1)?.y }, { x: 1, y: 1 });
  });

  it("streams new alerts live and resumes after a reconnect without a gap", async () => {
    const received: string[] = [];
    let lastId = "";
    const read = async (url: string, headers: Record<string, string>, until: (n: number) => boolean) => {
      const ctrl = new AbortController();
      const res = await fetch(url, { headers, signal: ctrl.signal });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      const deadline = Date.now() + 10_000;
      try {
        while (!until(received.length) && Date.now() < deadline) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end = buffer.indexOf("\n\n");
          while (end >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const id = /^id: (.*)$/m.exec(frame)?.[1];
            const data = /^data: (.*)$/m.exec(frame)?.[1];
            if (id !== undefined) lastId = id;
            if (data !== undefined) {
              const a = JSON.parse(data) as { transactionId: string };
              if (!received.includes(a.transactionId)) received.push(a.transactionId);
            }
            end = buffer.indexOf("\n\n");
          }
        }
      } finally {
        ctrl.abort();
      }
    };
    const url = `${base}/api/alerts/stream?access_token=${KEYS.viewer}`;
    const first = read(url, {}, (n) => n >= 3);
    await new Promise((r) => setTimeout(r, 300));
    await write([100, 101, 102].map((i) => flaggedRow(i)));
    await first;
    assert.deepEqual(received, ["api-100", "api-101", "api-102"]);
    // Disconnected: these arrive while nobody listens.
    await write([103, 104].map((i) => flaggedRow(i)));
    await new Promise((r) => setTimeout(r, 300));
    await read(url, { "last-event-id": lastId }, (n) => n >= 5);
    assert.deepEqual(received, ["api-100", "api-101", "api-102", "api-103", "api-104"]);
  });

  it("lets admins promote and roll back models", async () => {
    const registry = createModelRegistry(store.db);
    for (const id of ["api-model-1", "api-model-2"])
      await registry.register({
        id,
        kind: "isolation_forest",
        featureSetVersion: "fs",
        featureNames: ["a"],
        body: id,
        registeredBy: "test",
      });
    const list = (await call("/api/models", { key: "viewer" })).body as { id: string }[];
    assert.deepEqual(list.map((m) => m.id).sort(), ["api-model-1", "api-model-2"]);
    assert.equal(
      (await call("/api/models/api-model-1/promote", { key: "analyst", method: "POST", body: {} })).status,
      403,
    );
    assert.deepEqual(
      (await call("/api/models/api-model-1/promote", { key: "admin", method: "POST", body: {} })).body,
      {
        active: "api-model-1",
        previous: null,
      },
    );
    await call("/api/models/api-model-2/promote", { key: "admin", method: "POST", body: {} });
    assert.deepEqual((await call("/api/models/rollback", { key: "admin", method: "POST", body: {} })).body, {
      from: "api-model-2",
      to: "api-model-1",
    });
    assert.equal(
      (await call("/api/models/nope/promote", { key: "admin", method: "POST", body: {} })).status,
      404,
    );
  });

  it("stores rule sets with path-named errors, activates them for admins, and edits lists for analysts", async () => {
    const good = { ...defaultRuleSet(), version: "api-rules-1" };
    const stored = await call("/api/rule-sets", { key: "admin", method: "POST", body: good });
    assert.equal(stored.status, 201, JSON.stringify(stored.body));
    assert.equal((stored.body as { status: string }).status, "candidate");
    assert.equal((await call("/api/rule-sets", { key: "analyst", method: "POST", body: good })).status, 403);
    const bad = await call("/api/rule-sets", {
      key: "admin",
      method: "POST",
      body: {
        ...good,
        version: "api-rules-bad",
        rules: [{ ...good.rules[3], when: { field: "amnt", op: ">", value: 1 } }],
      },
    });
    assert.equal(bad.status, 400);
    const issues = (bad.body as { issues: { path: string; message: string }[] }).issues;
    assert.equal(issues[0]?.path, "rules[0].when.field");
    assert.match(issues[0]?.message ?? "", /amnt/);
    const clash = await call("/api/rule-sets", {
      key: "admin",
      method: "POST",
      body: { ...good, description: "other" },
    });
    assert.equal(clash.status, 409);
    const act = await call("/api/rule-sets/api-rules-1/activate", { key: "admin", method: "POST" });
    assert.deepEqual(act.body, { active: "api-rules-1", previous: null });
    const listed = (await call("/api/rule-sets", { key: "viewer" })).body as {
      version: string;
      status: string;
    }[];
    assert.equal(listed.find((r) => r.version === "api-rules-1")?.status, "active");
    assert.equal((await call("/api/rule-sets/api-rules-1", { key: "viewer" })).status, 200);
    assert.equal((await call("/api/rule-sets/nope/activate", { key: "admin", method: "POST" })).status, 404);

    const added = await call("/api/lists/blocked_users", {
      key: "analyst",
      method: "POST",
      body: { values: ["u-1", "u-2"], note: "chargebacks" },
    });
    assert.deepEqual(added.body, { added: 2 });
    assert.equal(
      (await call("/api/lists/blocked_users", { key: "viewer", method: "POST", body: { values: ["x"] } }))
        .status,
      403,
    );
    assert.deepEqual((await call("/api/lists", { key: "viewer" })).body, { blocked_users: ["u-1", "u-2"] });
    const removed = await call("/api/lists/blocked_users", {
      key: "analyst",
      method: "DELETE",
      body: { values: ["u-1"] },
    });
    assert.deepEqual(removed.body, { removed: 1 });
    assert.equal(
      (await call("/api/lists/Bad-Name", { key: "analyst", method: "POST", body: { values: ["x"] } })).status,
      400,
    );
  });

  it("sends security headers, CORS only to configured origins, and OpenAPI docs", async () => {
    const r = await call("/api/alerts", { key: "viewer", headers: { origin: "https://bank.example" } });
    assert.equal(r.headers.get("x-content-type-options"), "nosniff");
    assert.match(r.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    assert.equal(r.headers.get("access-control-allow-origin"), "https://bank.example");
    const other = await call("/api/alerts", { key: "viewer", headers: { origin: "https://evil.example" } });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    const spec = (await call("/docs/json")).body as { paths: Record<string, unknown> };
    for (const p of [
      "/api/me",
      "/api/alerts",
      "/api/transactions/{id}",
      "/api/alerts/{id}/feedback",
      "/api/alerts/{id}/notification",
      "/api/stats",
      "/api/models",
    ])
      assert.ok(p in spec.paths, `${p} documented`);
    assert.equal((await call("/docs")).status, 200);
  });

  it("never answers 5xx to fuzzed paths, queries and bodies on any route", async () => {
    // Seeded, so that a failure can be replayed.
    let seed = 20261126;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const junk = [
      "",
      "-1",
      "0",
      "1e309",
      "NaN",
      "null",
      "%00",
      "%E2%80%A8",
      "x".repeat(3000),
      "'; DROP TABLE alerts; --",
      "../../etc/passwd",
      "HIGH,,SEVERE",
      "2026-13-45T99:99:99Z",
      "[]",
      "{}",
      "🚨",
      "9".repeat(40),
    ];
    const bodies: unknown[] = [
      undefined,
      null,
      [],
      "text",
      42,
      { label: pick(["confirmed_fraud", "x", 1, null]) },
      { note: "x".repeat(5000), label: "false_positive" },
      { values: ["a", 1, null] },
      { values: [] },
      { assignee: 5 },
      { version: 1, rules: "no" },
      { ...defaultRuleSet(), rules: [{ id: "r", description: "d", when: { all: [] }, weight: "two" }] },
    ];
    const routes: [string, string][] = [
      ["GET", "/api/alerts?{q}={v}&limit={v}"],
      ["GET", "/api/alerts?risk={v}&from={v}&to={v}&cursor={v}"],
      ["GET", "/api/transactions/{v}"],
      ["POST", "/api/alerts/{v}/feedback"],
      ["POST", "/api/alerts/{v}/assign"],
      ["GET", "/api/stats?window={v}"],
      ["GET", "/api/stats?window={v}&bucket={v}"],
      ["GET", "/api/me?{q}={v}"],
      ["GET", "/api/stats/model?limit={v}&points={v}"],
      ["POST", "/api/models/{v}/promote"],
      ["POST", "/api/models/rollback"],
      ["GET", "/api/rule-sets/{v}"],
      ["POST", "/api/rule-sets"],
      ["POST", "/api/rule-sets/{v}/activate"],
      ["POST", "/api/lists/{v}"],
      ["DELETE", "/api/lists/{v}"],
      ["GET", "/api/nowhere/{v}"],
    ];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 400; i++) {
      const [method, template] = pick(routes);
      const path = template
        .replaceAll("{v}", () => encodeURIComponent(pick(junk)))
        .replaceAll("{q}", pick(["user_id", "status", "x"]));
      const body = method === "GET" ? undefined : pick(bodies);
      const rawBody =
        method === "GET"
          ? undefined
          : rnd() < 0.1
            ? "{not json"
            : body === undefined
              ? undefined
              : JSON.stringify(body);
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${KEYS.admin}`,
          ...(rawBody === undefined ? {} : { "content-type": pick(["application/json", "text/plain"]) }),
        },
        ...(rawBody === undefined ? {} : { body: rawBody }),
      });
      await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      assert.ok(res.status < 500, `${method} ${path} ${rawBody ?? ""} → ${res.status}`);
    }
    assert.ok((statuses.get(400) ?? 0) > 50, `bad input was refused: ${JSON.stringify([...statuses])}`);
  });

  it("serves stored explanations honestly: {} and null of older rows, malformed parts left out, no score as null", async () => {
    const older = flaggedRow(100, {
      transactionId: "api-older",
      userId: "api-user-older",
      explanation: null,
    });
    const malformed = flaggedRow(101, {
      transactionId: "api-malformed",
      userId: "api-user-older",
      score: Number.NaN,
      // Not what the worker writes: what a JSONB column may hold all the same.
      explanation: {
        points: { score: "2", rules: 1 },
        hits: [{ id: "high_value", weight: "2" }, "stray"],
        factors: { amount_zscore: 1 },
      } as unknown as Explanation,
    });
    await write([older, malformed]);
    const o = await call("/api/transactions/api-older", { key: "viewer" });
    assert.equal(o.status, 200);
    const od = o.body as { transaction: { explanation: unknown }; alert: { explanation: unknown } };
    assert.equal(od.transaction.explanation, null, "a row scored without an explanation");
    assert.deepEqual(od.alert.explanation, {}, "its alert, stored with {}");
    const m = await call("/api/transactions/api-malformed", { key: "viewer" });
    assert.equal(m.status, 200);
    const md = m.body as {
      transaction: { explanation: unknown; score: unknown };
      alert: { explanation: unknown; score: unknown };
    };
    assert.deepEqual(md.transaction.explanation, { points: { rules: 1 }, hits: [{ id: "high_value" }] });
    assert.deepEqual(md.alert.explanation, md.transaction.explanation);
    assert.equal(md.transaction.score, null, "NaN (no model score) is served as null");
    assert.equal(md.alert.score, null);
    const list = await call("/api/alerts?user_id=api-user-older", { key: "viewer" });
    assert.equal(list.status, 200, "a malformed row does not fail the list");
    assert.equal((list.body as { items: unknown[] }).items.length, 2);
    // The OpenAPI document declares the alert's risk, decision and explanation, not a free record.
    const spec = JSON.stringify((await call("/docs/json")).body);
    assert.match(spec, /"risk":\{[^}]*"enum":\["LOW","MEDIUM","HIGH","CRITICAL"\]/);
    assert.match(spec, /"decision":\{[^}]*"enum":\["APPROVE","REVIEW","BLOCK"\]/);
    assert.match(spec, /"hits":\{[\s\S]*?"id":\{"type":"string"\}/);
  });

  it("rate-limits per key with 429", async () => {
    const registry = new Registry();
    const limited = await buildApi({
      db: store.db,
      keys,
      corsOrigins: [],
      rateLimitPerMinute: 5,
      logger,
      metrics: registry,
    });
    const url = await limited.listen({ port: 0, host: "127.0.0.1" });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++)
        statuses.push(
          (await fetch(`${url}/api/alerts?limit=1`, { headers: { authorization: `Bearer ${KEYS.viewer}` } }))
            .status,
        );
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
      const other = await fetch(`${url}/api/alerts?limit=1`, {
        headers: { authorization: `Bearer ${KEYS.admin}` },
      });
      assert.equal(other.status, 200, "another key has its own budget");
      assert.equal((await fetch(`${url}/healthz`)).status, 200, "health is never limited");
      const exposed = await (await fetch(`${url}/metrics`)).text();
      assert.match(
        exposed,
        /^fraudstream_api_requests_total\{method="GET",route="\/api\/alerts",status="429"\} 2$/m,
      );
      assert.match(
        exposed,
        /^fraudstream_api_request_duration_seconds_count\{method="GET",route="\/api\/alerts"\} 8$/m,
      );
    } finally {
      await limited.close();
    }
  });
});
