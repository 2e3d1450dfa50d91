// `fraudstream replay` as a separate process against a real broker: 5,000 simulated events plus a few
// invalid rows in JSON Lines, CSV and Parquet files. Every valid event must arrive exactly once, keyed by
// user_id, each user's events in file order; every invalid row must be reported with its line (row)
// number and not sent. Also: --rate paces, SIGINT stops after flushing what was sent.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Consumer, MessagesStreamModes } from "@platformatic/kafka";
import { csvLine, EVENT_COLUMNS, writeEventsParquet } from "../src/io/files/fixtures.ts";
import { createSimulator } from "../src/simulate/index.ts";
import { type KafkaCluster, startKafka, uniqueName } from "./helpers/kafka.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PARTITIONS = 4;
const dir = mkdtempSync(join(tmpdir(), "fraudstream-replay-"));
let kafka: KafkaCluster;
before(async () => {
  kafka = await startKafka();
});
after(async () => {
  await kafka?.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Row = Record<string, unknown>;
const sim = createSimulator({ seed: 21, users: 150, fraudRate: 0.1 });
const EVENTS: Row[] = Array.from({ length: 5000 }, () => sim.next() as Row);
const good = (i: number): Row => EVENTS[i] as Row;

interface Result {
  code: number | null;
  stderr: string;
  summary: {
    sent: number;
    rejected: number;
    by_reason: Record<string, number>;
    seconds: number;
    interrupted: string | null;
  };
  rejects: string[];
}

function replay(
  args: string[],
  topic: string,
  onStart?: (kill: (s: NodeJS.Signals) => void) => void,
): Promise<Result> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("FRAUDSTREAM_") && k !== "KAFKA_BROKERS"),
  );
  const child = spawn(process.execPath, [join(ROOT, "src/cli/main.ts"), "replay", ...args], {
    cwd: ROOT,
    env: {
      ...env,
      KAFKA_BROKERS: kafka.bootstrap,
      FRAUDSTREAM_TOPIC_RAW: topic,
      FRAUDSTREAM_TOPIC_PARTITIONS: String(PARTITIONS),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  onStart?.((s) => child.kill(s));
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      const lines = stderr.trim().split("\n");
      let summary: Result["summary"];
      try {
        summary = JSON.parse(lines.at(-1) ?? "") as Result["summary"];
      } catch {
        throw new Error(`no JSON summary (exit ${code}):\n${stderr.slice(-3000)}`);
      }
      resolve({ code, stderr, summary, rejects: lines.filter((l) => /^(line|row) \d+: /.test(l)) });
    }),
  );
}

interface Received {
  key: string;
  partition: number;
  offset: bigint;
  event: Row;
}

/** The whole topic: waits for `expected` messages, then a little longer to catch any extra. */
async function readAll(topic: string, expected: number, timeoutMs = 30_000): Promise<Received[]> {
  const consumer = new Consumer({
    clientId: "test-reader",
    groupId: uniqueName("replay-reader"),
    bootstrapBrokers: kafka.brokers,
    maxWaitTime: 200,
    autocommit: false,
  });
  const out: Received[] = [];
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
    });
    let timer = setTimeout(() => void stream.close(), timeoutMs);
    try {
      for await (const m of stream) {
        out.push({
          key: m.key?.toString() ?? "",
          partition: m.partition,
          offset: m.offset,
          event: JSON.parse(m.value?.toString() ?? "null") as Row,
        });
        if (out.length === expected) {
          clearTimeout(timer);
          timer = setTimeout(() => void stream.close(), 1500);
        }
      }
    } finally {
      clearTimeout(timer);
      await stream.close();
    }
  } finally {
    await consumer.close(true);
  }
  return out;
}

/** Every sent event arrived once, keyed by user, each user's events in file order on one partition. */
function checkDelivery(received: Received[], sent: Row[]): void {
  assert.equal(received.length, sent.length, "messages on the topic");
  const ids = new Set(received.map((r) => r.event.transaction_id));
  assert.equal(ids.size, received.length, "no duplicates");
  assert.deepEqual(ids, new Set(sent.map((e) => e.transaction_id)), "every valid event arrived");
  const byId = new Map(sent.map((e) => [e.transaction_id, e]));
  for (const r of received) {
    assert.equal(r.key, r.event.user_id, "key = user_id");
    assert.deepEqual(r.event, byId.get(r.event.transaction_id), "the event as recorded");
  }
  const ordered = [...received].sort(
    (a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0),
  );
  const got = new Map<string, { partition: number; ids: unknown[] }>();
  for (const r of ordered) {
    const u = got.get(r.key) ?? { partition: r.partition, ids: [] };
    assert.equal(r.partition, u.partition, `user ${r.key} on one partition`);
    u.ids.push(r.event.transaction_id);
    got.set(r.key, u);
  }
  const want = new Map<unknown, unknown[]>();
  for (const e of sent) want.set(e.user_id, [...(want.get(e.user_id) ?? []), e.transaction_id]);
  assert.ok(got.size > 100, `${got.size} users`);
  for (const [user, u] of got) assert.deepEqual(u.ids, want.get(user), `order of user ${user}`);
}

function mutate(i: number, change: Row): Row {
  return { ...good(i), transaction_id: `bad-${i}`, ...change };
}

describe("fraudstream replay", () => {
  it("replays JSON Lines: all valid events once and in order per user, bad lines reported by number", async () => {
    // Bad rows go in before the events at these indexes; expected reports carry their line numbers.
    const bad: Record<number, string> = {
      0: '{"transaction_id": "t-broken", "amount": ',
      17: JSON.stringify(mutate(17, { amount: -5 })),
      1000: "[1, 2, 3]",
      2500: JSON.stringify(mutate(2500, { timestamp: "2026-11-01 10:00" })),
      4999: JSON.stringify({ ...mutate(4999, {}), user_id: undefined }),
    };
    const lines: string[] = [];
    const expected: string[] = [];
    EVENTS.forEach((e, i) => {
      const b = bad[i];
      if (b !== undefined) {
        lines.push(b);
        expected.push(`line ${lines.length}`);
      }
      if (i === 3000) lines.push(""); // a blank line is not a reject
      lines.push(JSON.stringify(e));
    });
    const path = join(dir, "events.jsonl");
    writeFileSync(path, `${lines.join("\n")}\n`);
    const topic = uniqueName("replay-jsonl");
    const r = await replay(["--input", path], topic);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.deepEqual(
      r.rejects.map((l) => l.split(":")[0]),
      expected,
    );
    assert.match(r.rejects[0] ?? "", /^line 1: not JSON: /);
    assert.equal(r.rejects[1], "line 19: amount: Too small: expected number to be >0 (got -5)");
    assert.equal(r.rejects[2], "line 1003: expected one JSON object per line, got an array");
    assert.match(r.rejects[3] ?? "", /^line 2504: timestamp: must be an RFC 3339 date-time/);
    assert.match(r.rejects[4] ?? "", /^line 5005: user_id: /);
    assert.equal(r.summary.sent, 5000);
    assert.equal(r.summary.rejected, 5);
    assert.deepEqual(r.summary.by_reason, { malformed_json: 1, schema: 3, not_an_object: 1 });
    assert.equal(r.summary.interrupted, null);
    checkDelivery(await readAll(topic, 5000), EVENTS);
  });

  it("replays CSV with quoted cells, typed numbers and bad rows reported by line", async () => {
    assert.ok(
      EVENTS.some((e) => String(e.merchant_name).includes(",")),
      "some merchant names need quoting",
    );
    const lines = [EVENT_COLUMNS.join(",")];
    const expected: string[] = [];
    EVENTS.forEach((e, i) => {
      if (i === 5) {
        lines.push(csvLine(EVENT_COLUMNS, mutate(5, { amount: "abc" })));
        expected.push(
          `line ${lines.length}: amount: Invalid input: expected number, received string (got "abc")`,
        );
      }
      if (i === 2000) {
        lines.push(`${csvLine(EVENT_COLUMNS, mutate(2000, {}))},surplus`);
        expected.push(
          `line ${lines.length}: has ${EVENT_COLUMNS.length + 1} cells but the header has ${EVENT_COLUMNS.length} columns`,
        );
      }
      if (i === 4000) {
        lines.push(csvLine(EVENT_COLUMNS, mutate(4000, { currency: "eur" })));
        expected.push(`line ${lines.length}: currency: must be an ISO 4217 code such as EUR (got "eur")`);
      }
      lines.push(csvLine(EVENT_COLUMNS, e));
    });
    const path = join(dir, "events.csv");
    writeFileSync(path, `${lines.join("\r\n")}\r\n`);
    const topic = uniqueName("replay-csv");
    const r = await replay(["--input", path], topic);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.deepEqual(r.rejects, expected);
    assert.equal(r.summary.sent, 5000);
    assert.deepEqual(r.summary.by_reason, { schema: 2, malformed_csv: 1 });
    checkDelivery(await readAll(topic, 5000), EVENTS);
  });

  it("replays Parquet, reporting invalid rows by row number", async () => {
    const rows: Row[] = [];
    const expected: string[] = [];
    EVENTS.forEach((e, i) => {
      if (i === 1) {
        rows.push(mutate(1, { amount: 0 }));
        expected.push(`row ${rows.length}: amount: Too small: expected number to be >0 (got 0)`);
      }
      if (i === 3333) {
        rows.push(mutate(3333, { user_id: null }));
        expected.push(
          `row ${rows.length}: user_id: Invalid input: expected string, received undefined (got nothing)`,
        );
      }
      rows.push(e);
    });
    const path = join(dir, "events.parquet");
    writeEventsParquet(path, rows, { rowGroupSize: 1500, codec: "ZSTD" });
    const topic = uniqueName("replay-parquet");
    const r = await replay(["--input", path], topic);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.deepEqual(r.rejects, expected);
    assert.equal(r.summary.sent, 5000);
    checkDelivery(await readAll(topic, 5000), EVENTS);
  });

  it("paces with --rate and stops on SIGINT after flushing what it sent", async () => {
    const path = join(dir, "paced.jsonl");
    writeFileSync(path, `${EVENTS.map((e) => JSON.stringify(e)).join("\n")}\n`);
    const topic = uniqueName("replay-paced");
    const t0 = Date.now();
    const r = await replay(["--input", path, "--rate", "1000"], topic, (kill) =>
      setTimeout(() => kill("SIGINT"), 4000),
    );
    const wall = Date.now() - t0;
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.equal(r.summary.interrupted, "SIGINT");
    // Stopped part way (start-up and connecting take a second or two of the 4 s), and never faster
    // than 1,000/s.
    assert.ok(r.summary.sent > 0 && r.summary.sent < EVENTS.length, `sent ${r.summary.sent} in ${wall} ms`);
    assert.ok(
      r.summary.sent <= (r.summary.seconds + 0.2) * 1000 + 1,
      `sent ${r.summary.sent} in ${r.summary.seconds} s`,
    );
    const received = await readAll(topic, r.summary.sent, 15_000);
    checkDelivery(received, EVENTS.slice(0, r.summary.sent));
  });
});
