// Webhook notifications against a local HTTP receiver, on the real PostgreSQL: each CRITICAL alert is
// delivered once (also with two notifiers sharing the outbox, and a receiver that is slow, then failing,
// then back), a failing receiver gets retries, the stream does not wait for a receiver that is down, and
// a notifier that lost its lease can neither post on nor mark the alert.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startNotifier } from "../src/app/notifier.ts";
import { loadConfig } from "../src/config/config.ts";
import { compileRuleSet } from "../src/decide/compile.ts";
import { defaultRuleSet } from "../src/decide/defaults.ts";
import { servedRules } from "../src/decide/serving.ts";
import { createEmbeddedSink, createEmbeddedSource, InProcessLog } from "../src/io/embedded/log.ts";
import { createAlertStore } from "../src/io/pg/alerts.ts";
import { createPgStore, type PgStore } from "../src/io/pg/index.ts";
import { createOutbox } from "../src/io/pg/outbox.ts";
import { postJson } from "../src/io/webhook/index.ts";
import { createProvisionalScorer } from "../src/model/provisional-scorer.ts";
import { fixedScorer } from "../src/model/scorer.ts";
import { createLogger } from "../src/observe/logger.ts";
import { runWorker } from "../src/pipeline/worker.ts";
import { makeRecords } from "./helpers/events.ts";
import { createTestDatabase } from "./helpers/pg.ts";

const config = loadConfig({});
const logger = createLogger("silent", "test");
const BLOCKED = "u-0007"; // a user of makeRecords' events: every payment of theirs is CRITICAL by rule

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let store: PgStore;
before(async () => {
  db = await createTestDatabase();
  store = await createPgStore({ url: db.url });
  await store.migrate();
});
after(async () => {
  await store?.close();
  await db?.drop();
});

/** A receiver that answers 500 to the first `failFirst` posts, and counts deliveries per transaction. */
async function receiver(failFirst: number) {
  const received = new Map<string, number>();
  let posts = 0;
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      posts++;
      if (posts <= failFirst) {
        res.writeHead(500).end("busy");
        return;
      }
      const msg = JSON.parse(body) as { text: string; alert: { transactionId: string } };
      assert.match(msg.text, /^CRITICAL BLOCK: /, "a Slack-compatible text line");
      received.set(msg.alert.transactionId, (received.get(msg.alert.transactionId) ?? 0) + 1);
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    posts: () => posts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("webhook notifications", () => {
  it("deliver each CRITICAL alert once, retry a failing receiver, and never hold the stream up", async () => {
    const log = new InProcessLog(4);
    const topic = config.topicRaw;
    for (const t of [topic, config.topicDlq, config.topicAnomalies]) log.createTopic(t);
    const records = makeRecords(6000, 0, "hook");
    await createEmbeddedSink(log).send(records.map((r) => ({ topic, key: r.key, value: r.value })));
    const critical = records.filter((r) => r.key === BLOCKED).map((r) => r.transactionId);
    assert.ok(critical.length > 3);

    // The receiver is down (a closed port) while the stream runs.
    const down = await receiver(0);
    await down.close();
    const results = { sent: 0, failed: 0 };
    const notifierOpts = (url: string) => ({
      outbox: createOutbox(store.db),
      post: (payload: unknown, o: { idempotencyKey: string; signal: AbortSignal }) =>
        postJson(url, payload, 2000, o),
      risks: ["CRITICAL"],
      pollMs: 50,
      retryBaseMs: 100,
      maxRetryMs: 400,
      logger,
      onResult: (r: "sent" | "failed") => {
        results[r]++;
      },
    });
    const failing = startNotifier(notifierOpts(down.url));
    const stop = new AbortController();
    const rules = compileRuleSet(defaultRuleSet()).withLists({ blocked_users: [BLOCKED] });
    const worker = runWorker(
      {
        group: "hook",
        topic,
        dlqTopic: config.topicDlq,
        anomaliesTopic: config.topicAnomalies,
        allowedLatenessMs: config.allowedLatenessMs,
        stateTtlMs: config.stateTtlMs,
        maxEventBytes: config.maxEventBytes,
        dbRetryMaxMs: 100,
        openSource: (listener) =>
          createEmbeddedSource(log, { group: "hook", topic, maxRecords: 500, maxWaitMs: 10, listener }),
        sink: createEmbeddedSink(log),
        store,
        scorer: fixedScorer(createProvisionalScorer()),
        rules: { current: servedRules(rules) },
        isTransientError: () => false,
        isTransientSinkError: () => false,
        logger,
      },
      stop.signal,
    );
    const deadline = Date.now() + 60_000;
    while (log.lag("hook", topic) > 0n && Date.now() < deadline) await sleep(20);
    assert.equal(log.lag("hook", topic), 0n, "the stream drained while every notification failed");
    stop.abort();
    assert.equal((await worker).scored, records.length);
    assert.ok(results.failed > 0, "posts to the closed port failed");
    assert.equal(results.sent, 0);
    await failing.stop();

    // The receiver comes up, failing its first 3 posts; two notifiers share the outbox.
    const up = await receiver(3);
    try {
      const a = startNotifier(notifierOpts(up.url));
      const b = startNotifier(notifierOpts(up.url));
      const until = Date.now() + 30_000;
      while (up.received.size < critical.length && Date.now() < until) await sleep(50);
      await sleep(500); // a duplicate would arrive now
      await Promise.all([a.stop(), b.stop()]);
      assert.deepEqual(new Set(up.received.keys()), new Set(critical), "every CRITICAL alert, nothing else");
      for (const [id, n] of up.received) assert.equal(n, 1, `${id} delivered ${n} times`);
      assert.equal(up.posts(), critical.length + 3, "the 3 refused posts were retried");
      const pending = await store.db.query<{ n: string }>(
        "SELECT count(*)::text AS n FROM alerts WHERE risk = 'CRITICAL' AND notified_at IS NULL",
      );
      assert.equal(pending.rows[0]?.n, "0");
    } finally {
      await up.close();
    }
  });

  it("a stopping notifier hands back the alerts it claimed but did not post", async () => {
    // Every CRITICAL alert of the first test is due again; the receiver hangs on the first post until
    // stop() is called, so the others of the claimed batch are never attempted.
    await store.db.query(
      "UPDATE alerts SET notified_at = NULL, notify_next_at = NULL, notify_attempts = 0 WHERE risk = 'CRITICAL'",
    );
    const due = await store.db.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM alerts WHERE risk = 'CRITICAL'",
    );
    assert.ok(Number(due.rows[0]?.n) > 1, "a batch of more than one alert");
    let posted!: () => void;
    const firstPost = new Promise<void>((resolve) => {
      posted = resolve;
    });
    let release!: () => void;
    const hang = new Promise<void>((resolve) => {
      release = resolve;
    });
    const notifier = startNotifier({
      outbox: createOutbox(store.db),
      post: async () => {
        posted();
        await hang;
        throw new Error("receiver went away");
      },
      risks: ["CRITICAL"],
      pollMs: 50,
      retryBaseMs: 100,
      maxRetryMs: 400,
      logger,
    });
    await firstPost;
    const stopping = notifier.stop();
    release();
    await stopping;
    const leased = await store.db.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM alerts
        WHERE risk = 'CRITICAL' AND notified_at IS NULL AND notify_next_at > now() + interval '2 seconds'`,
    );
    assert.equal(leased.rows[0]?.n, "0", "no alert left leased by a notifier that stopped");

    // A lease that ran out and went to another notifier is not given back by the first.
    const outbox = createOutbox(store.db);
    const [mine] = await outbox.claim(["CRITICAL"], 1, 60_000);
    assert.ok(mine);
    await store.db.query(
      "UPDATE alerts SET notify_next_at = now() + interval '1 hour' WHERE transaction_id = $1",
      [mine.transactionId],
    );
    await outbox.release([mine]);
    const taken = await store.db.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM alerts WHERE transaction_id = $1 AND notify_next_at IS NOT NULL",
      [mine.transactionId],
    );
    assert.equal(taken.rows[0]?.n, "1", "the other notifier's lease stands");
    const [again] = await outbox.claim(["CRITICAL"], 1, 60_000);
    assert.ok(again);
    await outbox.release([again]);
    const back = await store.db.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM alerts WHERE transaction_id = $1 AND notify_next_at IS NULL",
      [again.transactionId],
    );
    assert.equal(back.rows[0]?.n, "1", "its own lease is given back");
  });
});

/** Sets every CRITICAL alert due again, as if never notified. */
async function resetCritical(): Promise<string[]> {
  const r = await store.db.query<{ transaction_id: string }>(
    `UPDATE alerts SET notified_at = NULL, notify_next_at = NULL, notify_attempts = 0, notify_error = NULL
      WHERE risk = 'CRITICAL' RETURNING transaction_id`,
  );
  return r.rows.map((row) => row.transaction_id);
}

describe("webhook notifications under a slow, then failing receiver", () => {
  it("two replicas deliver every CRITICAL alert exactly once, with its id as Idempotency-Key", async () => {
    const critical = await resetCritical();
    assert.ok(critical.length >= 6, `more alerts than the two replicas claim at once (${critical.length})`);
    // 0–10 s: slow, not down: the first post is answered 200 only at 10 s, the others after 1.5 s (so
    // the other replica runs out of work and would take the first alert over if its lease ran out);
    // 10–13 s: 500; then every post is accepted at once.
    const t0 = Date.now();
    let posts = 0;
    const accepted = new Map<string, number>();
    const refused = { n: 0 };
    const keyMismatch: string[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        const at = Date.now() - t0;
        const msg = JSON.parse(body) as { alert: { transactionId: string } };
        const id = msg.alert.transactionId;
        if (req.headers["idempotency-key"] !== id) keyMismatch.push(id);
        const accept = () => {
          accepted.set(id, (accepted.get(id) ?? 0) + 1);
          res.writeHead(200).end("ok");
        };
        posts++;
        if (posts === 1) setTimeout(accept, 10_000 - at);
        else if (at < 10_000) setTimeout(accept, 1500);
        else if (at < 13_000) {
          refused.n++;
          res.writeHead(500).end("down for maintenance");
        } else accept();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}/hook`;
    try {
      const replica = () =>
        startNotifier({
          outbox: createOutbox(store.db),
          // The answer may take 10 s; a shorter timeout would be the at-least-once window (the receiver
          // got the post, the notifier did not get its answer) that no fencing can close.
          post: (payload, o) => postJson(url, payload, 20_000, o),
          risks: ["CRITICAL"],
          pollMs: 50,
          retryBaseMs: 200,
          maxRetryMs: 1000,
          // Far shorter than the receiver's 10 s: without the heartbeat the other replica would take
          // every alert over and post it again.
          leaseMs: 1000,
          batch: 2,
          logger,
        });
      const a = replica();
      const b = replica();
      const until = Date.now() + 90_000;
      while (accepted.size < critical.length && Date.now() < until) await sleep(100);
      await sleep(1500); // a duplicate (a lease run out, a lost mark) would arrive now
      await Promise.all([a.stop(), b.stop()]);
      assert.deepEqual(keyMismatch, [], "every post's Idempotency-Key is its alert's transaction id");
      assert.deepEqual(new Set(accepted.keys()), new Set(critical), "every CRITICAL alert, nothing else");
      for (const [id, n] of accepted) assert.equal(n, 1, `${id} received ${n} times`);
      assert.ok(refused.n > 0, "the failing phase refused posts, which were retried");

      // The delivery state as the API reads it.
      const alerts = createAlertStore(store.db);
      const states = await Promise.all(critical.map((id) => alerts.notification(id)));
      for (const [i, s] of states.entries()) {
        assert.ok(s, critical[i]);
        assert.equal(s.state, "delivered", critical[i]);
        assert.ok(s.deliveredAt !== null && s.nextAttemptAt === null && s.lastError === null);
        assert.ok(s.attempts >= 1);
      }
      const retried = states.filter((s) => (s?.attempts ?? 0) > 1).length;
      assert.ok(retried > 0, "some alerts needed more than one attempt");
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("a lease taken over fences the first holder: no mark, no failure record, its post aborted", async () => {
    await resetCritical();
    const outbox = createOutbox(store.db);
    const [mine] = await outbox.claim(["CRITICAL"], 1, 60_000);
    assert.ok(mine);
    // The lease runs out (stalled holder) and another notifier claims the alert.
    await store.db.query(
      "UPDATE alerts SET notify_next_at = now() - interval '1 second' WHERE transaction_id = $1",
      [mine.transactionId],
    );
    const [theirs] = await outbox.claim(["CRITICAL"], 1, 60_000);
    assert.equal(theirs?.transactionId, mine.transactionId);
    assert.ok(theirs && theirs.lease !== mine.lease, "a new claim, a new token");
    assert.equal((await outbox.extend([mine], 60_000)).size, 0, "the old holder cannot extend");
    assert.equal(await outbox.sent(mine), false, "nor mark it sent");
    assert.equal(await outbox.failed(mine, "x", 10), false, "nor record a failure");
    const renewed = await outbox.extend([theirs], 60_000);
    const lease = renewed.get(theirs.transactionId);
    assert.ok(lease !== undefined && lease > theirs.lease, "the holder extends; the token grows");
    assert.equal(await outbox.sent({ transactionId: theirs.transactionId, lease }), true);
    const n = await createAlertStore(store.db).notification(theirs.transactionId);
    assert.equal(n?.state, "delivered");
    assert.equal(n?.attempts, 1, "the fenced writes left no trace");

    // A notifier whose lease is taken over mid-post: the heartbeat finds it gone and aborts the post.
    await resetCritical();
    let aborted!: () => void;
    const abortSeen = new Promise<void>((resolve) => {
      aborted = resolve;
    });
    let target = "";
    const notifier = startNotifier({
      outbox: createOutbox(store.db),
      post: async (_payload, o) => {
        if (target !== "") throw new Error("only the first post matters here");
        target = o.idempotencyKey;
        // Another notifier's claim, as after this one stalled: a new token.
        await store.db.query(
          "UPDATE alerts SET notify_next_at = now() + interval '1 hour' WHERE transaction_id = $1",
          [target],
        );
        await new Promise<void>((resolve) => o.signal.addEventListener("abort", () => resolve()));
        aborted();
        throw new Error("aborted");
      },
      risks: ["CRITICAL"],
      pollMs: 50,
      retryBaseMs: 100,
      maxRetryMs: 400,
      leaseMs: 600,
      batch: 1,
      logger,
    });
    await abortSeen;
    await notifier.stop();
    const row = await store.db.query<{ attempts: number; error: string | null; done: boolean }>(
      `SELECT notify_attempts AS attempts, notify_error AS error, notified_at IS NOT NULL AS done
         FROM alerts WHERE transaction_id = $1`,
      [target],
    );
    assert.deepEqual(
      row.rows[0],
      { attempts: 0, error: null, done: false },
      "the other holder's row untouched",
    );
  });
});
