// fraudstream against the Python per-event baseline (bench/python_baseline.py), in one run on this
// machine: the same simulated events on the same Kafka broker (started here, full JIT), the same
// PostgreSQL database (fresh, dropped at the end), each side with its own consumer group.
//
//   node bench/baseline.ts [--duration S] [--events N] [--workers N] [--calls score|score+predict] [--quick]
//
// 1. A backlog of `--events` simulated events is produced once (the simulator's first events before
//    it are the training data of both models: 100-tree isolation forests).
// 2. The Python baseline consumes it one event at a time (parse, features, score_samples([x]), classic
//    rules, INSERT, COMMIT) for `--duration` seconds from its first event.
// 3. `fraudstream worker` drains the same backlog (the product's defaults); its rate is taken over
//    `--duration` seconds after a warm-up, as bench/e2e.ts does.
// The summary's last line is JSON with both rates and their ratio. Needs /usr/bin/python3 with Debian's
// python3-sklearn, python3-kafka and python3-psycopg2 (.ci/run installs them).
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type BenchWorker,
  cpuPerEvent,
  cpuText,
  eventSource,
  fmt,
  installModel,
  log,
  machine,
  measureDrain,
  openRig,
  produceBacklog,
  ROOT,
  startWorkers,
  stopWorkers,
} from "./e2e.ts";

const PYTHON = "/usr/bin/python3";

interface PythonResult {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  trees: number;
  trainRows: number;
  calls: string;
  commit: string;
  cores: number;
  msPerEvent: Record<string, number>;
  shareOfBusy: Record<string, number>;
  python: string;
  sklearn: string;
  kafkaPython: string;
  psycopg2: string;
}

function runPython(args: string[]): Promise<PythonResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [join(ROOT, "bench/python_baseline.py"), ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      const last = out.trim().split("\n").pop() ?? "";
      if (code !== 0) return reject(new Error(`python baseline exited with ${code}: ${out.slice(-2000)}`));
      try {
        resolve(JSON.parse(last) as PythonResult);
      } catch (err) {
        reject(new Error(`python baseline printed no JSON result: ${last}`, { cause: err }));
      }
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: "string" },
      events: { type: "string" },
      workers: { type: "string", default: "1" },
      users: { type: "string", default: "10000" },
      seed: { type: "string", default: "7" },
      calls: { type: "string", default: "score" },
      "train-events": { type: "string", default: "20000" },
      quick: { type: "boolean", default: false },
    },
  });
  const quick = values.quick;
  const durationS = Number(values.duration ?? (quick ? 15 : 60));
  const events = Number(values.events ?? (quick ? 60_000 : 400_000));
  const workersN = Number(values.workers);
  const users = Number(values.users);
  if (values.calls !== "score" && values.calls !== "score+predict")
    throw new Error("--calls must be score or score+predict");

  const startLoad = machine();
  const work = await mkdtemp(join(tmpdir(), "fraudstream-bench-baseline-"));
  const rig = await openRig({ partitions: 4 }).catch(async (err: unknown) => {
    await rm(work, { recursive: true, force: true });
    throw err;
  });
  let workers: BenchWorker[] = [];
  try {
    const p = await rig.pipeline(`baseline-${process.pid}`);
    const source = eventSource({ users, seed: Number(values.seed) });
    const trainFile = join(work, "train.jsonl");
    writeFileSync(trainFile, source.lines(Number(values["train-events"])));
    const model = installModel(rig, trainFile, work);
    log(`fraudstream scores with ${model.model}${model.note === undefined ? "" : `: ${model.note}`}`);
    log(`producing ${fmt(events)} events`);
    await produceBacklog(rig, p.topic, source, events);

    log(`python baseline: up to ${durationS} s`);
    const py = await runPython([
      "--brokers",
      rig.kafka.bootstrap,
      "--topic",
      p.topic,
      "--group",
      `${p.env.prefix}.python`,
      "--database-url",
      rig.databaseUrl,
      "--train",
      trainFile,
      "--duration",
      String(durationS),
      "--max-events",
      String(events),
      "--calls",
      values.calls,
    ]);
    log(`python baseline: ${py.eventsPerSecond} events/s`);

    log(`fraudstream: ${workersN} worker(s) drain the same ${fmt(events)} events`);
    workers = await startWorkers(p, workersN, { logDir: work });
    const drain = await measureDrain(rig, workers, {
      pipeline: p,
      from: 0,
      total: events,
      warmupS: quick ? 2 : 5,
      // As long as the Python side ran (or until the backlog runs out).
      windowS: durationS,
      stopAfterWindow: true,
    });
    await stopWorkers(workers);
    const ratio = drain.eventsPerSecond / py.eventsPerSecond;
    // Less sensitive to what else runs on the machine than the rates: CPU time per event of the
    // consuming process itself (the Python interpreter; the worker), broker and database left out.
    const pyCpuUs = (py.cores * 1e6) / py.eventsPerSecond;
    const fsCpuUs = cpuPerEvent(drain.cpu, drain.eventsPerSecond)?.workersUs ?? Number.NaN;
    const endLoad = machine();
    const ms = Object.entries(py.msPerEvent)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(", ");
    process.stdout.write(
      [
        `fraudstream vs the Python per-event baseline, same ${fmt(events)} simulated events (${fmt(users)} users), same broker and database, ${startLoad.cores} × ${startLoad.cpu}`,
        `load average at start ${startLoad.load.join(" ")}, at end ${endLoad.load.join(" ")}`,
        `python baseline (kafka-python ${py.kafkaPython}, scikit-learn ${py.sklearn} IsolationForest ${py.trees} trees, psycopg2 ${py.psycopg2}, Python ${py.python}; ${py.calls} per event, commit ${py.commit}):`,
        `  ${fmt(py.events)} events in ${py.seconds} s = ${py.eventsPerSecond} events/s, ${py.cores} cores busy in Python`,
        `  ms per event: ${ms}`,
        `fraudstream (${workersN} worker(s), model ${model.model}): ${fmt(drain.eventsPerSecond)} events/s over ${drain.windowSeconds} s after warm-up${drain.fullWindow ? "" : " (the backlog ran out first: raise --events)"}`,
        `  ${cpuText(drain.cpu, drain.eventsPerSecond)}`,
        `ratio fraudstream / python: ${ratio.toFixed(0)}× in events/s (goal ≥ 100×); CPU per event of the consuming process: python ${fmt(pyCpuUs)} µs, worker ${fmt(fsCpuUs)} µs (${(pyCpuUs / fsCpuUs).toFixed(0)}×)`,
        "",
      ].join("\n"),
    );
    process.stdout.write(
      `${JSON.stringify({
        bench: "baseline",
        date: new Date().toISOString(),
        machine: { ...startLoad, loadAtEnd: endLoad.load },
        events,
        users,
        python: py,
        fraudstream: {
          workers: workersN,
          model: model.model,
          modelNote: model.note ?? null,
          ...drain,
          cpuPerEvent: cpuPerEvent(drain.cpu, drain.eventsPerSecond),
        },
        ratio: Math.round(ratio * 10) / 10,
        cpuPerEventUs: { python: Math.round(pyCpuUs), worker: fsCpuUs },
        goal100x: ratio >= 100,
      })}\n`,
    );
  } finally {
    await stopWorkers(workers);
    await rig.close();
    await rm(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
