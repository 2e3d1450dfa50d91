// Drives the real thing for the end-to-end tests: `fraudstream worker` processes against a real
// Kafka broker and a real PostgreSQL database, fed through the product's own Kafka sink.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { Consumer, MessagesStreamModes } from "@platformatic/kafka";
import pg from "pg";
import { createKafkaSink, ensureTopics } from "../../src/io/kafka/index.ts";
import type { TestRecord } from "./events.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const NODE = process.execPath;

export interface PipelineEnv {
  brokers: string;
  databaseUrl: string;
  /** Prefix of this test's topics and consumer group, so tests sharing a broker stay apart. */
  prefix: string;
  partitions?: number;
  /** Replication factor of the topics (default 1; 3 on a three-broker cluster). */
  replication?: number;
  /** Consumer group; default `${prefix}.workers`. */
  group?: string;
  /** Port of the worker's /metrics; default 0 (off). */
  metricsPort?: number;
}

export function workerEnv(p: PipelineEnv): Record<string, string> {
  return {
    KAFKA_BROKERS: p.brokers,
    DATABASE_URL: p.databaseUrl,
    FRAUDSTREAM_TOPIC_RAW: `${p.prefix}.raw`,
    FRAUDSTREAM_TOPIC_FEATURES: `${p.prefix}.features`,
    FRAUDSTREAM_TOPIC_ANOMALIES: `${p.prefix}.anomalies`,
    FRAUDSTREAM_TOPIC_DLQ: `${p.prefix}.dlq`,
    FRAUDSTREAM_CONSUMER_GROUP: p.group ?? `${p.prefix}.workers`,
    FRAUDSTREAM_TOPIC_PARTITIONS: String(p.partitions ?? 4),
    FRAUDSTREAM_TOPIC_REPLICATION: String(p.replication ?? 1),
    FRAUDSTREAM_BATCH_MAX_RECORDS: "2000",
    FRAUDSTREAM_DB_RETRY_MAX_MS: "1000",
    FRAUDSTREAM_LOG_LEVEL: "info",
    FRAUDSTREAM_METRICS_PORT: String(p.metricsPort ?? 0),
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  logFile: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The worker's log so far (for assertion messages). */
  log(): string;
}

let workers = 0;
const running = new Set<ChildProcess>();

/** Kills every worker a test started that is still running (for after() hooks: a failed test's). */
export async function killAllWorkers(): Promise<void> {
  const exits = [...running].map(
    (c) =>
      new Promise<void>((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) return resolve();
        c.once("exit", () => resolve());
        c.kill("SIGKILL");
      }),
  );
  await Promise.all(exits);
}

/** Starts `fraudstream worker` as a separate process, its stderr (JSON logs) in a temp file. */
export function startWorker(p: PipelineEnv): WorkerProcess {
  const logFile = join(tmpdir(), `fraudstream-worker-${process.pid}-${++workers}.log`);
  const out = createWriteStream(logFile);
  const child = spawn(NODE, [join(ROOT, "src/cli/main.ts"), "worker"], {
    cwd: ROOT,
    env: { ...process.env, ...workerEnv(p) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(out, { end: false });
  child.stderr?.pipe(out, { end: false });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      out.end();
      resolve({ code, signal });
    }),
  );
  running.add(child);
  child.once("exit", () => running.delete(child));
  process.once("exit", () => child.kill("SIGKILL"));
  return { child, logFile, exited, log: () => readFileSync(logFile, "utf8") };
}

/** Creates the topics and produces the records (key = user id) in batches through the product's sink. */
export async function produce(p: PipelineEnv, records: TestRecord[], batch = 5000): Promise<void> {
  const env = workerEnv(p);
  const brokers = p.brokers.split(",");
  await ensureTopics({
    brokers,
    clientId: "test-setup",
    topics: [
      env.FRAUDSTREAM_TOPIC_RAW,
      env.FRAUDSTREAM_TOPIC_DLQ,
      env.FRAUDSTREAM_TOPIC_ANOMALIES,
      env.FRAUDSTREAM_TOPIC_FEATURES,
    ].map(String),
    partitions: p.partitions ?? 4,
    replication: p.replication ?? 1,
  });
  const sink = await createKafkaSink({ brokers, clientId: "test-producer" });
  try {
    for (let i = 0; i < records.length; i += batch) {
      await sink.send(
        records
          .slice(i, i + batch)
          .map((r) => ({ topic: String(env.FRAUDSTREAM_TOPIC_RAW), key: r.key, value: r.value })),
      );
    }
  } finally {
    await sink.close();
  }
}

export interface DbCounts {
  scored: number;
  distinct: number;
  dead: number;
}

export async function dbCounts(url: string): Promise<DbCounts> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ scored: string; distinct: string; dead: string }>(
      `SELECT (SELECT count(*) FROM transactions_scored) AS scored,
              (SELECT count(DISTINCT transaction_id) FROM transactions_scored) AS distinct,
              (SELECT count(*) FROM dead_letters) AS dead`,
    );
    const r = rows[0];
    return { scored: Number(r?.scored), distinct: Number(r?.distinct), dead: Number(r?.dead) };
  } catch (err) {
    // Before the worker's first migration the tables do not exist yet.
    if ((err as { code?: string }).code === "42P01") return { scored: 0, distinct: 0, dead: 0 };
    throw err;
  } finally {
    await client.end();
  }
}

export async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Polls until `done` holds for the counts, the worker dies, or the time runs out. */
export async function waitForCounts(
  url: string,
  done: (c: DbCounts) => boolean,
  opts: { timeoutMs: number; worker?: WorkerProcess; what: string },
): Promise<DbCounts> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: DbCounts = { scored: 0, distinct: 0, dead: 0 };
  let exited = false;
  opts.worker?.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    try {
      last = await dbCounts(url);
      if (done(last)) return last;
    } catch {
      // The database may be down on purpose (outage test); keep polling.
    }
    if (exited)
      throw new Error(
        `worker exited while waiting for ${opts.what}; log:\n${opts.worker?.log().slice(-4000)}`,
      );
    await sleep(200);
  }
  throw new Error(
    `timed out waiting for ${opts.what}; last counts ${JSON.stringify(last)}${
      opts.worker ? `; worker log:\n${opts.worker.log().slice(-4000)}` : ""
    }`,
  );
}

export interface TopicMessage {
  partition: number;
  offset: bigint;
  value: Buffer;
  headers: Map<string, string>;
}

/** Reads a topic from the beginning until `expected` messages arrived (or the time runs out). */
export async function readTopic(
  brokers: string,
  topic: string,
  expected: number,
  timeoutMs = 30_000,
): Promise<TopicMessage[]> {
  const consumer = new Consumer({
    clientId: "test-reader",
    groupId: `test-reader-${process.pid}-${Date.now()}`,
    bootstrapBrokers: brokers.split(","),
    maxWaitTime: 200,
    autocommit: false,
  });
  const out: TopicMessage[] = [];
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
    });
    const timer = setTimeout(() => void stream.close(), timeoutMs);
    try {
      for await (const m of stream) {
        const headers = new Map<string, string>();
        for (const [k, v] of m.headers) headers.set(k.toString(), v.toString());
        out.push({ partition: m.partition, offset: m.offset, value: m.value ?? Buffer.alloc(0), headers });
        if (out.length >= expected) break;
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

/**
 * Waits until the group's stored checkpoints cover `total` records (offsets start at 0 in every
 * partition, so the next offsets add up to the records processed): the worker has caught up.
 */
export async function waitForCheckpoints(
  p: PipelineEnv,
  total: number,
  opts: { timeoutMs: number; worker?: WorkerProcess },
): Promise<void> {
  const group = workerEnv(p).FRAUDSTREAM_CONSUMER_GROUP;
  const deadline = Date.now() + opts.timeoutMs;
  let covered = -1;
  while (Date.now() < deadline) {
    try {
      const rows = await query<{ n: string | null }>(
        p.databaseUrl,
        `SELECT sum(next_offset)::text AS n FROM checkpoints WHERE consumer_group = '${group}'`,
      );
      covered = Number(rows[0]?.n ?? 0);
      if (covered >= total) return;
    } catch {
      // Tables not there yet, or the database is down on purpose.
    }
    if (opts.worker !== undefined && opts.worker.child.exitCode !== null)
      throw new Error(`worker exited while catching up; log:\n${opts.worker.log().slice(-4000)}`);
    await sleep(200);
  }
  throw new Error(`timed out: group ${group} covers ${covered} of ${total} records`);
}

/** A free loopback port (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
