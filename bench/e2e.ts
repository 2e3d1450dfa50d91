// End to end on this machine: simulated events → the real Kafka broker (started here, full JIT) →
// `fraudstream worker` processes → the real PostgreSQL (127.0.0.1:5432, a fresh database created here
// and dropped at the end). docs/benchmarks.md explains the method; in short:
//
//   1. capacity: a backlog of simulated events is produced before any worker runs, then the workers
//      drain it; the rate at which processed offsets are committed to the database, over `--duration`
//      seconds after a warm-up, is the drain throughput;
//   2. confirmation: fresh workers on a second topic; events produced paced at a share of that
//      throughput (stepping down) until the lag (produced − committed) stays flat: the highest such
//      rate is "sustained";
//   3. latency: paced production at fixed rates (1,000, 3,000, 10,000 events/s by default), latency
//      from the record's produce timestamp to the committed decision, p50/p95/p99;
//   4. with --cpu-prof DIR: workers under V8's profiler drain more of the first backlog, and the
//      summary names where their time goes.
//
//   node bench/e2e.ts [--workers N] [--duration S] [--backlog N] [--rates 1000,3000,10000] [--quick]
//                     [--partitions N] [--users N] [--model iforest|provisional] [--steps N]
//                     [--cpu-prof DIR] [--batch N] [--seed N]
//
// A readable summary goes to stdout, then one JSON line; progress goes to stderr. --quick (a smoke
// run) shortens every phase. The producer runs in this process and shares the machine's cores with
// the broker, PostgreSQL and the workers: it sends pre-serialized events in batches through the
// product's own Kafka sink. bench/baseline.ts reuses the parts exported here.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { createKafkaSink, ensureTopics } from "../src/io/kafka/index.ts";
import type { OutboundMessage, Sink } from "../src/pipeline/ports.ts";
import { createSimulator, type Simulator } from "../src/simulate/index.ts";
import { type KafkaCluster, startKafka } from "../test/helpers/kafka.ts";
import { createTestDatabase } from "../test/helpers/pg.ts";
import { freePort, type PipelineEnv, workerEnv } from "../test/helpers/pipeline.ts";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();
// Workers die with this process however it dies, like the brokers of test/helpers/kafka.ts.
const PDEATHSIG = existsSync("/usr/bin/setpriv") ? ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--"] : [];

export function log(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

// ---------------------------------------------------------------------------------------------------
// The rig: broker, database, topics, producer.

/** One pipeline's topics and consumer group (names prefixed, so that several share the broker). */
export interface Pipeline {
  env: PipelineEnv;
  /** The input topic. */
  topic: string;
  group: string;
}

export interface Rig {
  kafka: KafkaCluster;
  databaseUrl: string;
  /** Creates the topics of a pipeline named `prefix`. */
  pipeline(prefix: string): Promise<Pipeline>;
  /** The product's Kafka sink (idempotent producer, acks=all), used as the benchmark's producer. */
  sink: Sink;
  /** Pid of the broker's JVM (for CPU accounting), if found. */
  brokerPid: number | null;
  /** A connection for sampling progress (kept open: one round trip per sample). */
  db: pg.Client;
  close(): Promise<void>;
}

export async function openRig(opts: { partitions: number }): Promise<Rig> {
  log("starting the Kafka broker (full JIT) and creating a database");
  const [k, d] = await Promise.allSettled([startKafka({ jit: "full" }), createTestDatabase()]);
  if (k.status === "rejected" || d.status === "rejected") {
    // Whichever did start must not outlive the failure (the broker's temporary data dir included).
    if (k.status === "fulfilled") await k.value.stop();
    if (d.status === "fulfilled") await d.value.drop().catch(() => undefined);
    throw k.status === "rejected" ? k.reason : (d as PromiseRejectedResult).reason;
  }
  const kafka = k.value;
  const database = d.value;
  const sink = await createKafkaSink({ brokers: kafka.brokers, clientId: "bench-producer" });
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  return {
    kafka,
    databaseUrl: database.url,
    async pipeline(prefix) {
      const env: PipelineEnv = {
        brokers: kafka.bootstrap,
        databaseUrl: database.url,
        prefix,
        partitions: opts.partitions,
      };
      const names = workerEnv(env);
      const topic = String(names.FRAUDSTREAM_TOPIC_RAW);
      await ensureTopics({
        brokers: kafka.brokers,
        clientId: "bench-setup",
        topics: [
          topic,
          names.FRAUDSTREAM_TOPIC_DLQ,
          names.FRAUDSTREAM_TOPIC_ANOMALIES,
          names.FRAUDSTREAM_TOPIC_FEATURES,
        ].map(String),
        partitions: opts.partitions,
        replication: 1,
      });
      return { env, topic, group: String(names.FRAUDSTREAM_CONSUMER_GROUP) };
    },
    sink,
    brokerPid: findPid(kafka.dataDir),
    db,
    async close() {
      await sink.close().catch(() => undefined);
      await db.end().catch(() => undefined);
      await database.drop().catch((err: unknown) => log(`dropping the database failed: ${String(err)}`));
      await kafka.stop();
    },
  };
}

/** The pid of the JVM whose command line mentions `needle` (the broker's names its data dir). */
function findPid(needle: string): number | null {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (/(^|\/)java$/.test(argv[0] ?? "") && argv.some((a) => a.includes(needle))) return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// Events.

const encoder = new TextEncoder();

/**
 * Simulated events, serialized ahead of sending. One simulator serves the whole run so that event
 * times keep increasing from phase to phase (a fresh one would restart the clock and its events would
 * be late for the users the workers already know).
 */
export interface EventSource {
  readonly simulator: Simulator;
  /** The next `n` events as messages for `topic` (key = user_id, value = JSON bytes). */
  take(topic: string, n: number): OutboundMessage[];
  /** The next `n` events as JSON Lines (for training files). */
  lines(n: number): string;
}

export function eventSource(opts: { users: number; seed: number }): EventSource {
  const simulator = createSimulator({ users: opts.users, seed: opts.seed });
  return {
    simulator,
    take(topic, n) {
      const out: OutboundMessage[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const e = simulator.next();
        out[i] = { topic, key: e.user_id, value: encoder.encode(JSON.stringify(e)) };
      }
      return out;
    },
    lines(n) {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(JSON.stringify(simulator.next()));
      return `${out.join("\n")}\n`;
    },
  };
}

/**
 * Produces `count` events as fast as the broker takes them, generating the next chunk while the
 * previous one is being sent. One send at a time: two concurrent sends interleave their requests
 * within a partition, and events would reach the workers out of order (late, for their users).
 * Resolves with the wall time spent.
 */
export async function produceBacklog(
  rig: Rig,
  topic: string,
  source: EventSource,
  count: number,
): Promise<number> {
  const started = performance.now();
  const chunk = 4000;
  let pending: Promise<void> = Promise.resolve();
  let sent = 0;
  let lastLog = started;
  while (sent < count) {
    const n = Math.min(chunk, count - sent);
    const messages = source.take(topic, n);
    await pending;
    pending = rig.sink.send(messages);
    sent += n;
    if (performance.now() - lastLog > 5000) {
      lastLog = performance.now();
      log(`backlog: ${sent.toLocaleString("en")} of ${count.toLocaleString("en")} produced`);
    }
  }
  await pending;
  return performance.now() - started;
}

// ---------------------------------------------------------------------------------------------------
// Workers.

export interface BenchWorker {
  child: ChildProcess;
  pid: number;
  metricsPort: number;
  logFile: string;
  exited: Promise<number | null>;
}

export interface WorkerOptions {
  /** FRAUDSTREAM_BATCH_MAX_RECORDS; default: the product's default. */
  batchMaxRecords?: number;
  /** Directory for V8 CPU profiles (--cpu-prof), written when the worker exits. */
  cpuProfDir?: string;
  logDir: string;
}

let workerSeq = 0;

/** Starts `n` `fraudstream worker` processes with the product's defaults, metrics on free ports. */
export async function startWorkers(p: Pipeline, n: number, opts: WorkerOptions): Promise<BenchWorker[]> {
  const out: BenchWorker[] = [];
  for (let i = 0; i < n; i++) {
    const metricsPort = await freePort();
    const env: Record<string, string | undefined> = {
      ...process.env,
      ...workerEnv({ ...p.env, metricsPort }),
    };
    // workerEnv is tuned for tests (small batches); the benchmark measures the shipped defaults.
    delete env.FRAUDSTREAM_BATCH_MAX_RECORDS;
    delete env.FRAUDSTREAM_DB_RETRY_MAX_MS;
    if (opts.batchMaxRecords !== undefined) env.FRAUDSTREAM_BATCH_MAX_RECORDS = String(opts.batchMaxRecords);
    const nodeArgs = opts.cpuProfDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}`];
    const logFile = join(opts.logDir, `worker-${++workerSeq}.log`);
    const file = createWriteStream(logFile);
    const argv = [...PDEATHSIG, process.execPath, ...nodeArgs, join(ROOT, "src/cli/main.ts"), "worker"];
    const child = spawn(argv[0] as string, argv.slice(1), {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(file, { end: false });
    child.stderr?.pipe(file, { end: false });
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => {
        file.end();
        resolve(code);
      }),
    );
    process.once("exit", () => child.kill("SIGKILL"));
    // With setpriv in front, the node process is setpriv's exec image: same pid.
    out.push({ child, pid: child.pid ?? -1, metricsPort, logFile, exited });
  }
  return out;
}

/** SIGTERM (the worker finishes its batch, commits, leaves the group, writes its profile); SIGKILL after 30 s. */
export async function stopWorkers(workers: BenchWorker[]): Promise<void> {
  await Promise.all(
    workers.map(async (w) => {
      if (w.child.exitCode !== null || w.child.signalCode !== null) return;
      w.child.kill("SIGTERM");
      const timer = setTimeout(() => w.child.kill("SIGKILL"), 30_000);
      await w.exited;
      clearTimeout(timer);
    }),
  );
}

function assertAlive(workers: BenchWorker[]): void {
  for (const w of workers)
    if (w.child.exitCode !== null || w.child.signalCode !== null)
      throw new Error(
        `worker ${w.pid} exited (${w.child.exitCode ?? w.child.signalCode}); log tail:\n${readFileSync(
          w.logFile,
          "utf8",
        ).slice(-3000)}`,
      );
}

// ---------------------------------------------------------------------------------------------------
// Measuring: processed offsets, CPU, metrics.

/** Records processed by `group` (scored, dead-lettered or late): its checkpoints' next offsets, summed. */
export async function processed(rig: Rig, p: Pipeline): Promise<number> {
  try {
    const r = await rig.db.query<{ n: string }>(
      "SELECT coalesce(sum(next_offset), 0)::text AS n FROM checkpoints WHERE consumer_group = $1 AND topic = $2",
      [p.group, p.topic],
    );
    return Number(r.rows[0]?.n ?? 0);
  } catch (err) {
    if ((err as { code?: string }).code === "42P01") return 0; // before the workers' first migration
    throw err;
  }
}

function procTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15)
  } catch {
    return null;
  }
}

/** Machine-wide busy and total jiffies (all cores) from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

interface CpuSnapshot {
  t: number;
  bench: number;
  workers: number;
  broker: number;
  pg: Map<number, number>;
  machine: { busy: number; total: number };
}

export interface CpuShare {
  /** Cores in use on average (1.0 = one core fully busy), per process group. */
  workers: number;
  broker: number;
  postgres: number;
  producer: number;
  /** Everything else on the machine (other users' processes, PostgreSQL's background processes). */
  other: number;
  /** Share of the machine's cores that were idle. */
  idleShare: number;
}

export class CpuMeter {
  private pgPids: number[] = [];
  private readonly rig: Rig;
  private readonly workers: BenchWorker[];
  constructor(rig: Rig, workers: BenchWorker[]) {
    this.rig = rig;
    this.workers = workers;
  }

  async refreshPgPids(): Promise<void> {
    const r = await this.rig.db.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    this.pgPids = r.rows.map((row) => Number(row.pid));
  }

  snapshot(): CpuSnapshot {
    const u = process.cpuUsage();
    let workers = 0;
    for (const w of this.workers) workers += procTicks(w.pid) ?? 0;
    const pgTicks = new Map<number, number>();
    for (const pid of this.pgPids) {
      const t = procTicks(pid);
      if (t !== null) pgTicks.set(pid, t);
    }
    return {
      t: performance.now(),
      bench: ((u.user + u.system) / 1e6) * CLK_TCK,
      workers,
      broker: this.rig.brokerPid === null ? 0 : (procTicks(this.rig.brokerPid) ?? 0),
      pg: pgTicks,
      machine: machineTicks(),
    };
  }

  static share(a: CpuSnapshot, b: CpuSnapshot): CpuShare {
    const seconds = (b.t - a.t) / 1000;
    const cores = (ticks: number) => Math.max(0, ticks) / CLK_TCK / seconds;
    let pgTicks = 0;
    for (const [pid, t] of b.pg) pgTicks += t - (a.pg.get(pid) ?? t);
    const workers = cores(b.workers - a.workers);
    const broker = cores(b.broker - a.broker);
    const postgres = cores(pgTicks);
    const producer = cores(b.bench - a.bench);
    const busy = cores(b.machine.busy - a.machine.busy);
    const total = b.machine.total - a.machine.total;
    return {
      workers: round2(workers),
      broker: round2(broker),
      postgres: round2(postgres),
      producer: round2(producer),
      other: round2(Math.max(0, busy - workers - broker - postgres - producer)),
      idleShare: round2(total > 0 ? 1 - (b.machine.busy - a.machine.busy) / total : 0),
    };
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

export interface WorkerScrape {
  /** Cumulative bucket counts of the end-to-end latency histogram, summed over the workers. */
  latency: Map<number, number>;
  batches: number;
  records: number;
  batchSeconds: number;
  /** Seconds summed per stage of the batches (fraudstream_batch_stage_seconds). */
  stageSeconds: Map<string, number>;
}

/** Reads the workers' /metrics: the latency histogram and the batch counters, summed over the workers. */
export async function scrapeWorkers(workers: BenchWorker[]): Promise<WorkerScrape> {
  const out: WorkerScrape = {
    latency: new Map(),
    batches: 0,
    records: 0,
    batchSeconds: 0,
    stageSeconds: new Map(),
  };
  for (const w of workers) {
    let text: string;
    try {
      text = await (await fetch(`http://127.0.0.1:${w.metricsPort}/metrics`)).text();
    } catch {
      continue; // a worker that has not served yet has observed nothing
    }
    for (const m of text.matchAll(
      /^fraudstream_end_to_end_latency_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm,
    )) {
      const le = m[1] === "+Inf" ? Number.POSITIVE_INFINITY : Number(m[1]);
      out.latency.set(le, (out.latency.get(le) ?? 0) + Number(m[2]));
    }
    const one = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
    out.batches += one("fraudstream_batch_records_count");
    out.records += one("fraudstream_batch_records_sum");
    out.batchSeconds += one("fraudstream_batch_duration_seconds_sum");
    for (const m of text.matchAll(/^fraudstream_batch_stage_seconds_sum\{stage="([^"]+)"\} (\S+)$/gm)) {
      const stage = m[1] as string;
      out.stageSeconds.set(stage, (out.stageSeconds.get(stage) ?? 0) + Number(m[2]));
    }
  }
  return out;
}

export interface BatchSummary {
  batches: number;
  meanRecords: number;
  /** Mean time to process and commit one batch (the workers' fraudstream_batch_duration_seconds). */
  meanMs: number;
  /** Share of the wall time the workers spent inside batches (summed over workers). */
  busyShare: number;
  /** Mean ms per batch in each stage (dedupe, compute, send, write, commit). */
  stageMeanMs: Record<string, number>;
}

function batchSummary(a: WorkerScrape, b: WorkerScrape, seconds: number): BatchSummary {
  const batches = b.batches - a.batches;
  return {
    batches,
    meanRecords: batches > 0 ? Math.round((b.records - a.records) / batches) : 0,
    meanMs: batches > 0 ? round2(((b.batchSeconds - a.batchSeconds) / batches) * 1000) : 0,
    busyShare: seconds > 0 ? round2((b.batchSeconds - a.batchSeconds) / seconds) : 0,
    stageMeanMs: Object.fromEntries(
      [...b.stageSeconds].map(([stage, sum]) => [
        stage,
        batches > 0 ? round2(((sum - (a.stageSeconds.get(stage) ?? 0)) / batches) * 1000) : 0,
      ]),
    ),
  };
}

export interface HistogramSummary {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Share of events committed within 150 ms of being produced (a bucket bound: exact). */
  within150ms: number;
}

/** Quantiles of the difference of two cumulative histograms, interpolated inside buckets as Prometheus does. */
export function histogramSummary(before: Map<number, number>, after: Map<number, number>): HistogramSummary {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const cum = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const count = cum[cum.length - 1] ?? 0;
  const q = (p: number): number => {
    if (count === 0) return Number.NaN;
    const rank = p * count;
    for (let i = 0; i < bounds.length; i++) {
      const c = cum[i] as number;
      if (c >= rank) {
        const hi = bounds[i] as number;
        const lo = i === 0 ? 0 : (bounds[i - 1] as number);
        const below = i === 0 ? 0 : (cum[i - 1] as number);
        if (!Number.isFinite(hi)) return lo * 1000; // beyond the last bound: report that bound
        return (lo + ((hi - lo) * (rank - below)) / Math.max(1, c - below)) * 1000;
      }
    }
    return Number.NaN;
  };
  const i150 = bounds.indexOf(0.15);
  return {
    count,
    p50Ms: Math.round(q(0.5)),
    p95Ms: Math.round(q(0.95)),
    p99Ms: Math.round(q(0.99)),
    within150ms: i150 >= 0 && count > 0 ? round4((cum[i150] as number) / count) : Number.NaN,
  };
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

// ---------------------------------------------------------------------------------------------------
// Phases.

export interface DrainResult {
  /** Events processed by the last sample (the whole backlog unless stopped after the window). */
  events: number;
  /** From the first committed batch to the last sample. */
  drainSeconds: number;
  /** Events/s over the measured window (after the warm-up). */
  eventsPerSecond: number;
  windowSeconds: number;
  /** Whether the backlog lasted the whole requested window. */
  fullWindow: boolean;
  /** Slowest and fastest 5-second slice inside the window. */
  minSliceEventsPerSecond: number;
  maxSliceEventsPerSecond: number;
  cpu: CpuShare | null;
  /** The window on the monotonic clock V8's profiles use (µs), to cut profiles to it. */
  windowMonoUs: [number, number];
}

/**
 * Waits while the workers drain `total` events (counted from `from`), sampling the committed offsets
 * every 500 ms; the rate is taken over `windowS` seconds after `warmupS` seconds from the first commit.
 */
export async function measureDrain(
  rig: Rig,
  workers: BenchWorker[],
  opts: {
    pipeline: Pipeline;
    from: number;
    total: number;
    warmupS: number;
    windowS: number;
    /** Return once the window is measured rather than when the backlog is drained. */
    stopAfterWindow?: boolean;
  },
): Promise<DrainResult> {
  const meter = new CpuMeter(rig, workers);
  const samples: { t: number; mono: number; n: number; cpu: CpuSnapshot }[] = [];
  let lastProgress = performance.now();
  let lastN = -1;
  let lastLog = 0;
  for (;;) {
    assertAlive(workers);
    const n = (await processed(rig, opts.pipeline)) - opts.from;
    const t = performance.now();
    if (n > 0 && samples.length % 10 === 0) await meter.refreshPgPids();
    if (n > 0) samples.push({ t, mono: Number(process.hrtime.bigint() / 1000n), n, cpu: meter.snapshot() });
    if (n !== lastN) {
      lastN = n;
      lastProgress = t;
    } else if (t - lastProgress > 120_000) {
      throw new Error(`no progress for 2 minutes at ${n} of ${opts.total} events`);
    }
    if (t - lastLog > 5000) {
      lastLog = t;
      log(`drain: ${n.toLocaleString("en")} of ${opts.total.toLocaleString("en")} processed`);
    }
    if (n >= opts.total) break;
    const first = samples[0];
    if (
      opts.stopAfterWindow &&
      first !== undefined &&
      t >= first.t + (opts.warmupS + opts.windowS) * 1000 + 500
    )
      break;
    await sleep(500);
  }
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first === undefined || last === undefined) throw new Error("no samples");
  const startT = first.t + opts.warmupS * 1000;
  const wanted = startT + opts.windowS * 1000;
  // Samples at or after the warm-up (or the first one, when the backlog ran out before it ended).
  const inWindow = samples.filter((s) => s.t >= startT && s.t <= Math.max(wanted, startT));
  const a = inWindow[0] ?? first;
  const endCandidates = samples.filter((s) => s.t <= wanted && s.n < opts.total);
  // The last sample before the backlog ran out: its final partial interval would understate the rate.
  const b = endCandidates.length > 0 ? (endCandidates[endCandidates.length - 1] as typeof first) : last;
  const seconds = (b.t - a.t) / 1000;
  const rate = seconds > 0 ? (b.n - a.n) / seconds : Number.NaN;
  const slices: number[] = [];
  for (let s = a; ; ) {
    const next = samples.find((x) => x.t >= s.t + 5000 && x.t <= b.t);
    if (next === undefined) break;
    slices.push((next.n - s.n) / ((next.t - s.t) / 1000));
    s = next;
  }
  return {
    events: last.n,
    drainSeconds: round2((last.t - first.t) / 1000),
    eventsPerSecond: Math.round(rate),
    windowSeconds: round2(seconds),
    fullWindow: seconds >= opts.windowS - 1,
    minSliceEventsPerSecond: slices.length > 0 ? Math.round(Math.min(...slices)) : Math.round(rate),
    maxSliceEventsPerSecond: slices.length > 0 ? Math.round(Math.max(...slices)) : Math.round(rate),
    cpu: seconds > 0 ? CpuMeter.share(a.cpu, b.cpu) : null,
    windowMonoUs: [a.mono, b.mono],
  };
}

interface PacedResult {
  rate: number;
  produced: number;
  /** Events/s the producer achieved (it shares the cores: below `rate` means the run is producer-bound). */
  producedPerSecond: number;
  /** Wall clock (epoch ms) of the start and end of producing. */
  startedAt: number;
  endedAt: number;
  /** Lag (produced and acknowledged − committed to the database) sampled every 500 ms after the warm-up. */
  lagSlopePerSecond: number;
  lagMax: number;
  lagMean: number;
  lagFlat: boolean;
  /** Seconds after the producer stopped until every event was committed. */
  catchUpSeconds: number;
  cpu: CpuShare | null;
}

const LINGER_MS = 5;

/**
 * Produces `messages` at `rate` events/s (every LINGER_MS what is due goes out in one send, as a
 * producer with linger.ms=5 batches), samples the lag, then waits until the workers caught up.
 */
async function runPaced(
  rig: Rig,
  workers: BenchWorker[],
  messages: OutboundMessage[],
  opts: { rate: number; pipeline: Pipeline; base: number; warmupS: number },
): Promise<PacedResult> {
  const meter = new CpuMeter(rig, workers);
  await meter.refreshPgPids();
  let sent = 0;
  const lag: { t: number; lag: number }[] = [];
  let cpuA: CpuSnapshot | null = null;
  let cpuB: CpuSnapshot | null = null;
  const started = performance.now();
  const startedAt = Date.now();
  let producing = true;
  let sampleError: unknown = null;
  const sampler = (async () => {
    while (producing) {
      await sleep(500);
      try {
        const done = (await processed(rig, opts.pipeline)) - opts.base;
        const t = performance.now() - started;
        if (t >= opts.warmupS * 1000) {
          cpuA ??= meter.snapshot();
          lag.push({ t: t / 1000, lag: sent - done });
        }
      } catch (err) {
        sampleError = err;
      }
    }
    cpuB = meter.snapshot();
  })();
  while (sent < messages.length) {
    const due = Math.min(messages.length, Math.floor(((performance.now() - started) / 1000) * opts.rate));
    if (due > sent) {
      await rig.sink.send(messages.slice(sent, due));
      sent = due;
    }
    const elapsed = performance.now() - started;
    await sleep(Math.max(1, LINGER_MS - (elapsed % LINGER_MS)));
  }
  const endedAt = Date.now();
  const produceSeconds = (performance.now() - started) / 1000;
  producing = false;
  await sampler;
  if (sampleError !== null) throw sampleError;
  const stopped = performance.now();
  const target = opts.base + messages.length;
  for (;;) {
    assertAlive(workers);
    if ((await processed(rig, opts.pipeline)) >= target) break;
    if (performance.now() - stopped > 600_000) throw new Error("workers did not catch up in 10 minutes");
    await sleep(200);
  }
  const slope = lagSlope(lag);
  const mean = lag.length > 0 ? lag.reduce((s, x) => s + x.lag, 0) / lag.length : 0;
  return {
    rate: opts.rate,
    produced: messages.length,
    producedPerSecond: Math.round(messages.length / produceSeconds),
    startedAt,
    endedAt,
    lagSlopePerSecond: Math.round(slope),
    lagMax: lag.reduce((m, x) => Math.max(m, x.lag), 0),
    lagMean: Math.round(mean),
    // Growing by more than 2 % of the rate every second means the workers fall behind for good; a flat
    // lag wobbles by a batch or two around its mean.
    lagFlat: slope <= 0.02 * opts.rate,
    catchUpSeconds: round2((performance.now() - stopped) / 1000),
    cpu: cpuA !== null && cpuB !== null ? CpuMeter.share(cpuA, cpuB) : null,
  };
}

/** Least-squares slope of lag over time, events per second. */
function lagSlope(points: { t: number; lag: number }[]): number {
  const n = points.length;
  if (n < 3) return 0;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const ml = points.reduce((s, p) => s + p.lag, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.lag - ml);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export interface LatencyResult extends PacedResult {
  /** From transactions_scored: processed_at (start of the batch's database transaction) − produced_at. */
  db: { count: number; p50Ms: number; p95Ms: number; p99Ms: number; maxMs: number };
  /** The workers' histogram: from the produce timestamp to after the batch's commit. */
  histogram: HistogramSummary;
  /** The workers' batches over the same span as the histogram. */
  batches: BatchSummary;
}

async function dbLatency(rig: Rig, from: number, to: number): Promise<LatencyResult["db"]> {
  const r = await rig.db.query<{ n: string; p50: number; p95: number; p99: number; max: number }>(
    `WITH l AS (SELECT extract(epoch FROM processed_at - produced_at) * 1000 AS ms FROM transactions_scored
                 WHERE produced_at >= to_timestamp($1 / 1000.0) AND produced_at < to_timestamp($2 / 1000.0))
     SELECT count(*)::text AS n,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY ms)::float8 AS p50,
            percentile_disc(0.95) WITHIN GROUP (ORDER BY ms)::float8 AS p95,
            percentile_disc(0.99) WITHIN GROUP (ORDER BY ms)::float8 AS p99,
            max(ms)::float8 AS max FROM l`,
    [from, to],
  );
  const row = r.rows[0];
  return {
    count: Number(row?.n ?? 0),
    p50Ms: Math.round(row?.p50 ?? Number.NaN),
    p95Ms: Math.round(row?.p95 ?? Number.NaN),
    p99Ms: Math.round(row?.p99 ?? Number.NaN),
    maxMs: Math.round(row?.max ?? Number.NaN),
  };
}

/** Paced production at `rate` for `durationS`, latency over the events produced after the warm-up. */
async function measureLatency(
  rig: Rig,
  workers: BenchWorker[],
  source: EventSource,
  opts: { rate: number; durationS: number; warmupS: number; pipeline: Pipeline; base: number },
): Promise<LatencyResult> {
  const messages = source.take(opts.pipeline.topic, Math.round(opts.rate * opts.durationS));
  let before: WorkerScrape | null = null;
  let beforeT = 0;
  // The histogram is read when the warm-up ends, so that it holds (almost) only the measured events.
  const scrape = sleep(opts.warmupS * 1000).then(async () => {
    beforeT = performance.now();
    before = await scrapeWorkers(workers);
  });
  const paced = await runPaced(rig, workers, messages, opts);
  await scrape;
  const after = await scrapeWorkers(workers);
  const from: WorkerScrape = before ?? {
    latency: new Map(),
    batches: 0,
    records: 0,
    batchSeconds: 0,
    stageSeconds: new Map(),
  };
  return {
    ...paced,
    db: await dbLatency(rig, paced.startedAt + opts.warmupS * 1000, paced.endedAt),
    histogram: histogramSummary(from.latency, after.latency),
    batches: batchSummary(from, after, (performance.now() - beforeT) / 1000),
  };
}

// ---------------------------------------------------------------------------------------------------
// The model the workers score with.

/**
 * Trains an isolation forest (100 trees) with the product's CLI on `trainFile`, registers and promotes
 * it, so that the workers score with it rather than the provisional heuristic. Returns its version, or
 * the reason it could not (the run then goes on with the provisional scorer, and says so).
 */
export function installModel(
  rig: Rig,
  trainFile: string,
  dir: string,
): { model: string; ok: boolean; note?: string } {
  const env = { ...process.env, DATABASE_URL: rig.databaseUrl, KAFKA_BROKERS: rig.kafka.bootstrap };
  const cli = (...args: string[]) =>
    execFileSync(process.execPath, [join(ROOT, "src/cli/main.ts"), ...args], {
      cwd: ROOT,
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  const id = "bench-iforest-100";
  try {
    const file = join(dir, "model.json");
    cli("model", "train", "--input", trainFile, "--out", file, "--trees", "100", "--seed", "1", "--id", id);
    cli("model", "register", file);
    cli("model", "promote", id, "--note", "end-to-end benchmark");
    return { model: id, ok: true };
  } catch (err) {
    const e = err as { stderr?: string; message?: string };
    return {
      model: "provisional",
      ok: false,
      note: `isolation forest not installed (${(e.stderr ?? e.message ?? String(err)).trim().split("\n").slice(-3).join(" ")})`,
    };
  }
}

// ---------------------------------------------------------------------------------------------------
// CPU profiles of the workers.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function category(url: string, fn: string): string {
  if (url === "") return fn === "" ? "(anonymous native)" : fn;
  const src = /\/src\/(.+)$/.exec(url);
  if (src !== null && !url.includes("node_modules")) return `src/${src[1]}`;
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (mod !== null) return mod[1] === "pg" || mod[1] === "pg-protocol" ? "pg (driver)" : (mod[1] as string);
  if (url.startsWith("node:")) return "node internals";
  return url;
}

export interface ProfileSummary {
  samplesMs: number;
  /** Self time by where the code lives (src file, package, GC, …): % of the non-idle time. */
  selfByPlace: { place: string; share: number }[];
  /** Time by the innermost src/ file on the stack (library calls counted to their caller): %. */
  bySrcCaller: { place: string; share: number }[];
  /** Hottest functions by self time: %. */
  topFunctions: { fn: string; share: number }[];
}

/** Summarizes the profiles in `dir`, counting only samples inside `window` (monotonic µs) when given. */
export function summarizeProfiles(dir: string, window?: [number, number]): ProfileSummary | null {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")) : [];
  if (files.length === 0) return null;
  const self = new Map<string, number>();
  const caller = new Map<string, number>();
  const fns = new Map<string, number>();
  let busy = 0;
  for (const f of files) {
    const p = JSON.parse(readFileSync(join(dir, f), "utf8")) as CpuProfile;
    const byId = new Map<number, ProfileNode>();
    const parent = new Map<number, number>();
    for (const n of p.nodes) {
      byId.set(n.id, n);
      for (const c of n.children ?? []) parent.set(c, n.id);
    }
    let at = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      at += p.timeDeltas[i] ?? 0;
      if (window !== undefined && (at < window[0] || at > window[1])) continue;
      const node = byId.get(p.samples[i] as number);
      if (node === undefined) continue;
      const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === "(idle)") continue;
      busy += dt;
      const place = category(url, functionName);
      self.set(place, (self.get(place) ?? 0) + dt);
      const fnKey = `${functionName || "(anonymous)"} ${url === "" ? "" : `${category(url, functionName)}:${lineNumber + 1}`}`;
      fns.set(fnKey, (fns.get(fnKey) ?? 0) + dt);
      let who: string | null = null;
      for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
        const u = byId.get(id)?.callFrame.url ?? "";
        if (/\/src\//.test(u) && !u.includes("node_modules")) {
          who = category(u, "");
          break;
        }
      }
      const key = who ?? `(no src caller) ${place}`;
      caller.set(key, (caller.get(key) ?? 0) + dt);
    }
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([place, ms]) => ({ place, share: round2((ms / busy) * 100) }));
  return {
    samplesMs: Math.round(busy),
    selfByPlace: top(self, 14),
    bySrcCaller: top(caller, 14),
    topFunctions: top(fns, 15).map(({ place, share }) => ({ fn: place, share })),
  };
}

// ---------------------------------------------------------------------------------------------------
// Reporting.

export function machine(): { cores: number; cpu: string; memGiB: number; node: string; load: number[] } {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? "unknown",
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    load: loadavg().map((x) => round2(x)),
  };
}

export function fmt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en") : "n/a";
}

export interface CpuPerEvent {
  /** CPU microseconds per event, per process group. */
  workersUs: number;
  brokerUs: number;
  postgresUs: number;
  producerUs: number;
  /**
   * Events/s the machine's cores could carry if workers, broker and PostgreSQL had them to themselves
   * at these costs (the producer left out: in production it runs elsewhere). A projection, not a
   * measurement: it ignores PostgreSQL's background processes (WAL writer, checkpointer) and assumes the
   * work spreads over the cores.
   */
  ceilingEventsPerSecond: number;
}

/**
 * CPU time per event from the cores each group kept busy at a known event rate. Unlike the rate
 * itself, this barely depends on what else runs on the machine, so it says something even on a
 * loaded one (contention inflates it a little: cache misses, context switches).
 */
export function cpuPerEvent(c: CpuShare | null, eventsPerSecond: number): CpuPerEvent | null {
  if (c === null || !(eventsPerSecond > 0)) return null;
  const us = (cores: number) => Math.round((cores * 1e6) / eventsPerSecond);
  const pipeline = us(c.workers) + us(c.broker) + us(c.postgres);
  return {
    workersUs: us(c.workers),
    brokerUs: us(c.broker),
    postgresUs: us(c.postgres),
    producerUs: us(c.producer),
    ceilingEventsPerSecond: pipeline > 0 ? Math.round((cpus().length * 1e6) / pipeline) : Number.NaN,
  };
}

export function cpuText(c: CpuShare | null, eventsPerSecond?: number): string {
  if (c === null) return "cpu n/a";
  const text = `cores busy: workers ${c.workers}, broker ${c.broker}, postgres ${c.postgres}, producer ${c.producer}, other ${c.other}; idle ${Math.round(c.idleShare * 100)} %`;
  const per = eventsPerSecond === undefined ? null : cpuPerEvent(c, eventsPerSecond);
  if (per === null) return text;
  return `${text}\n    CPU per event: workers ${per.workersUs} µs, broker ${per.brokerUs} µs, postgres ${per.postgresUs} µs, producer ${per.producerUs} µs → ceiling ≈ ${fmt(per.ceilingEventsPerSecond)} events/s on ${cpus().length} cores with nothing else running`;
}

// ---------------------------------------------------------------------------------------------------
// main

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workers: { type: "string", default: "1" },
      partitions: { type: "string", default: "4" },
      users: { type: "string", default: "10000" },
      seed: { type: "string", default: "7" },
      backlog: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      rates: { type: "string", default: "1000,3000,10000" },
      steps: { type: "string" },
      model: { type: "string", default: "iforest" },
      batch: { type: "string" },
      "cpu-prof": { type: "string" },
      "train-events": { type: "string", default: "20000" },
      quick: { type: "boolean", default: false },
    },
  });
  const quick = values.quick;
  const workersN = Number(values.workers);
  const partitions = Number(values.partitions);
  const durationS = Number(values.duration ?? (quick ? 10 : 60));
  const warmupS = Number(values.warmup ?? (quick ? 2 : 5));
  const backlog = Number(values.backlog ?? (quick ? 100_000 : 2_000_000));
  const steps = Number(values.steps ?? (quick ? 1 : 3));
  const rates = values.rates
    .split(",")
    .map((s) => Number(s.trim()))
    .filter((r) => r > 0);
  const batch = values.batch === undefined ? undefined : Number(values.batch);
  for (const [name, v] of Object.entries({ workersN, partitions, durationS, backlog }))
    if (!(v > 0)) throw new Error(`--${name} must be a positive number`);
  if (values.model !== "iforest" && values.model !== "provisional")
    throw new Error("--model must be iforest or provisional");

  const startLoad = machine();
  const work = await mkdtemp(join(tmpdir(), "fraudstream-bench-e2e-"));
  // A directory of this run's own, so that profiles of earlier runs are not summed in.
  const profDir =
    values["cpu-prof"] === undefined
      ? undefined
      : join(values["cpu-prof"], new Date().toISOString().replace(/[:.]/g, "-"));
  if (profDir !== undefined) mkdirSync(profDir, { recursive: true });
  const rig = await openRig({ partitions }).catch(async (err: unknown) => {
    await rm(work, { recursive: true, force: true });
    throw err;
  });
  let workers: BenchWorker[] = [];
  try {
    // Two pipelines (topics + consumer group) on the one broker and database: the drain leaves part of
    // its backlog behind (it stops measuring after the window), which the paced phases must not see.
    const drainP = await rig.pipeline(`bench-${process.pid}-drain`);
    const pacedP = await rig.pipeline(`bench-${process.pid}-paced`);
    const source = eventSource({ users: Number(values.users), seed: Number(values.seed) });
    // The first events are the model's history; the stream continues after them in event time.
    const trainFile = join(work, "train.jsonl");
    writeFileSync(trainFile, source.lines(Number(values["train-events"])));
    const model =
      values.model === "iforest"
        ? installModel(rig, trainFile, work)
        : { model: "provisional", ok: true, note: "provisional scorer by request" };
    log(`scoring with ${model.model}${model.note === undefined ? "" : `: ${model.note}`}`);

    // 1. Capacity: drain a backlog.
    log(`producing a backlog of ${fmt(backlog)} events`);
    const backlogMs = await produceBacklog(rig, drainP.topic, source, backlog);
    log(`backlog produced in ${(backlogMs / 1000).toFixed(1)} s; starting ${workersN} worker(s)`);
    const workerOpts = { logDir: work, ...(batch === undefined ? {} : { batchMaxRecords: batch }) };
    workers = await startWorkers(drainP, workersN, workerOpts);
    const drain = await measureDrain(rig, workers, {
      pipeline: drainP,
      from: 0,
      total: backlog,
      warmupS,
      windowS: durationS,
      stopAfterWindow: true,
    });
    await stopWorkers(workers);
    log(`drain: ${fmt(drain.eventsPerSecond)} events/s over ${drain.windowSeconds} s`);

    // Fresh workers for the paced phases, past their start-up (group join, model load) before any
    // figure is taken.
    workers = await startWorkers(pacedP, workersN, workerOpts);
    let base = 2000;
    await produceBacklog(rig, pacedP.topic, source, base);
    await measureDrain(rig, workers, { pipeline: pacedP, from: 0, total: base, warmupS: 0, windowS: 3600 });

    // 2. Confirmation: paced at a share of the drain rate, stepping down until the lag stays flat.
    const confirm: PacedResult[] = [];
    for (let i = 0; i < steps; i++) {
      const share = [0.9, 0.75, 0.6, 0.45][i] ?? 0.45;
      const rate = Math.max(500, Math.round((drain.eventsPerSecond * share) / 500) * 500);
      log(`confirm: ${fmt(rate)} events/s for ${durationS} s`);
      const messages = source.take(pacedP.topic, Math.round(rate * durationS));
      const r = await runPaced(rig, workers, messages, { rate, pipeline: pacedP, base, warmupS });
      base += r.produced;
      confirm.push(r);
      log(
        `confirm: ${fmt(rate)}/s, lag ${r.lagFlat ? "flat" : "growing"} (slope ${fmt(r.lagSlopePerSecond)}/s, max ${fmt(r.lagMax)})`,
      );
      if (r.lagFlat && r.producedPerSecond >= rate * 0.98) break;
    }
    const sustained = confirm.find((r) => r.lagFlat && r.producedPerSecond >= r.rate * 0.98);

    // 3. Latency at fixed rates.
    const latency: LatencyResult[] = [];
    for (const rate of rates) {
      log(`latency: ${fmt(rate)} events/s for ${durationS} s`);
      const r = await measureLatency(rig, workers, source, {
        rate,
        durationS,
        warmupS,
        pipeline: pacedP,
        base,
      });
      base += r.produced;
      latency.push(r);
      log(
        `latency at ${fmt(rate)}/s: p50 ${r.histogram.p50Ms} ms, p99 ${r.histogram.p99Ms} ms (db p99 ${r.db.p99Ms} ms)`,
      );
    }
    const deadLetters = await rig.db.query<{ reason: string; n: string }>(
      "SELECT reason, count(*)::text AS n FROM dead_letters GROUP BY 1 ORDER BY 2 DESC",
    );
    await stopWorkers(workers);

    // 4. Profile: fresh workers under --cpu-prof go on draining the first backlog. A phase of its own,
    // so that the profiler's overhead touches none of the figures above.
    let profile: ProfileSummary | null = null;
    let profileDrain: DrainResult | null = null;
    if (profDir !== undefined) {
      const wanted = Math.max(50_000, Math.round(drain.eventsPerSecond * Math.min(durationS, 30)));
      const done = await processed(rig, drainP);
      const extra = Math.max(0, wanted - (backlog - done));
      if (extra > 0) await produceBacklog(rig, drainP.topic, source, extra);
      const left = backlog + extra - done;
      log(`profile: worker(s) under --cpu-prof drain the rest of the first backlog (${fmt(left)} events)`);
      workers = await startWorkers(drainP, workersN, { ...workerOpts, cpuProfDir: profDir });
      profileDrain = await measureDrain(rig, workers, {
        pipeline: drainP,
        from: done,
        total: left,
        warmupS,
        windowS: Math.min(durationS, 30),
        stopAfterWindow: true,
      });
      await stopWorkers(workers);
      // Only the measured window: start-up (module loading, group join, model load) is not the hot path.
      profile = summarizeProfiles(profDir, profileDrain.windowMonoUs);
    }
    const endLoad = machine();

    // Report.
    const lines: string[] = [];
    lines.push(
      `end to end on ${startLoad.cores} × ${startLoad.cpu}, Node ${startLoad.node}; broker (Kafka, 1 node, full JIT), PostgreSQL and the producer on the same machine`,
    );
    lines.push(
      `${workersN} worker(s), ${partitions} partitions, ${fmt(Number(values.users))} users, model ${model.model}${model.ok ? "" : ` (${model.note})`}, batch ${batch ?? "default"}`,
    );
    lines.push(
      `load average at start ${startLoad.load.join(" ")}, at end ${endLoad.load.join(" ")} (figures mean little when other processes use the cores)`,
    );
    lines.push("");
    lines.push(
      `capacity (drain of a ${fmt(backlog)}-event backlog): ${fmt(drain.eventsPerSecond)} events/s over ${drain.windowSeconds} s after ${warmupS} s warm-up${drain.fullWindow ? "" : ` (backlog ran out before ${durationS} s: increase --backlog)`}; 5-s slices ${fmt(drain.minSliceEventsPerSecond)}–${fmt(drain.maxSliceEventsPerSecond)}`,
    );
    lines.push(`  ${cpuText(drain.cpu, drain.eventsPerSecond)}`);
    for (const r of confirm)
      lines.push(
        `paced at ${fmt(r.rate)}/s for ${durationS} s: produced ${fmt(r.producedPerSecond)}/s, lag ${r.lagFlat ? "flat" : "GROWING"} (slope ${fmt(r.lagSlopePerSecond)}/s, mean ${fmt(r.lagMean)}, max ${fmt(r.lagMax)}), caught up ${r.catchUpSeconds} s after\n  ${cpuText(r.cpu, r.lagFlat ? r.producedPerSecond : undefined)}`,
      );
    lines.push(
      `sustained with flat lag: ${sustained === undefined ? (steps === 0 ? "not checked (--steps 0)" : "none of the rates tried") : `${fmt(sustained.rate)} events/s`}`,
    );
    lines.push("");
    lines.push(
      "latency, produce → committed decision (ms)   histogram p50 / p95 / p99   ≤150 ms   db p50 / p95 / p99 / max",
    );
    for (const r of latency)
      lines.push(
        `  ${fmt(r.rate).padStart(6)}/s (produced ${fmt(r.producedPerSecond)}/s, lag ${r.lagFlat ? "flat" : "GROWING"})   ${`${r.histogram.p50Ms} / ${r.histogram.p95Ms} / ${r.histogram.p99Ms}`.padStart(16)}   ${`${(r.histogram.within150ms * 100).toFixed(1)} %`.padStart(7)}   ${r.db.p50Ms} / ${r.db.p95Ms} / ${r.db.p99Ms} / ${r.db.maxMs}`,
      );
    lines.push(
      "  (histogram: the workers' fraudstream_end_to_end_latency_seconds, to after the commit; db: processed_at − produced_at, to the start of the batch's transaction)",
    );
    for (const r of latency)
      lines.push(
        `  at ${fmt(r.rate)}/s: ${fmt(r.batches.batches)} batches of ${fmt(r.batches.meanRecords)} records on average, ${r.batches.meanMs} ms each (${Object.entries(
          r.batches.stageMeanMs,
        )
          .map(([stage, ms]) => `${stage} ${ms}`)
          .join(
            ", ",
          )}); batch time per wall-clock second ${r.batches.busyShare} (summed over workers: 1.0 per worker = never idle)`,
      );
    if (latency.some((r) => !r.lagFlat))
      lines.push(
        "  where the lag grew, the rate is above what the workers sustain here and the latency is mostly queueing",
      );
    if (deadLetters.rows.length > 0)
      lines.push(`dead letters: ${deadLetters.rows.map((r) => `${r.reason} ${r.n}`).join(", ")}`);
    if (profile !== null && profileDrain !== null) {
      lines.push("");
      lines.push(
        `worker CPU profile (${profDir}): ${fmt(profileDrain.events)} events drained at ${fmt(profileDrain.eventsPerSecond)} events/s under the profiler, ${fmt(profile.samplesMs)} ms of non-idle samples\n  ${cpuText(profileDrain.cpu, profileDrain.eventsPerSecond)}`,
      );
      lines.push("  by innermost src/ caller (library time counted to the src file that called it):");
      for (const p of profile.bySrcCaller.slice(0, 10))
        lines.push(`    ${p.share.toFixed(1).padStart(5)} %  ${p.place}`);
      lines.push("  self time by place:");
      for (const p of profile.selfByPlace.slice(0, 10))
        lines.push(`    ${p.share.toFixed(1).padStart(5)} %  ${p.place}`);
      lines.push("  hottest functions (self):");
      for (const p of profile.topFunctions.slice(0, 10))
        lines.push(`    ${p.share.toFixed(1).padStart(5)} %  ${p.fn}`);
    }
    process.stdout.write(`${lines.join("\n")}\n`);
    process.stdout.write(
      `${JSON.stringify({
        bench: "e2e",
        date: new Date().toISOString(),
        machine: { ...startLoad, loadAtEnd: endLoad.load },
        settings: {
          workers: workersN,
          partitions,
          users: Number(values.users),
          backlog,
          durationS,
          warmupS,
          batch: batch ?? "default",
          model: model.model,
          modelNote: model.note ?? null,
          quick,
        },
        drain: { ...drain, cpuPerEvent: cpuPerEvent(drain.cpu, drain.eventsPerSecond) },
        confirm: confirm.map((r) => ({
          ...r,
          cpuPerEvent: r.lagFlat ? cpuPerEvent(r.cpu, r.producedPerSecond) : null,
        })),
        sustainedEventsPerSecond: sustained?.rate ?? null,
        latency,
        deadLetters: Object.fromEntries(deadLetters.rows.map((r) => [r.reason, Number(r.n)])),
        profile: profile === null ? null : { dir: profDir, drain: profileDrain, ...profile },
        goals: {
          sustained25k: sustained === undefined ? null : sustained.rate >= 25_000,
          p99At3000Within150ms: (() => {
            const r = latency.find((x) => x.rate === 3000);
            return r === undefined ? null : r.histogram.within150ms >= 0.99;
          })(),
        },
      })}\n`,
    );
  } finally {
    await stopWorkers(workers);
    await rig.close();
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
