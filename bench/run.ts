// `npm run bench`: runs the benchmarks one after another and appends their output, with the date and
// the machine, to BENCHMARKS.md (the record the README and docs quote).
//
//   npm run bench [-- --only parse,features] [--no-record]
//
// Each benchmark is a plain script that prints its own figures; this runner only sequences them on an
// otherwise idle machine. Benchmarks needing services (PostgreSQL, a Kafka broker) start or expect
// them as their own headers say.
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

interface Bench {
  name: string;
  script: string;
  args: string[];
  nodeArgs?: string[];
  what: string;
}

const BENCHES: Bench[] = [
  {
    name: "parse",
    script: "bench/parse.ts",
    args: [],
    what: "contract parse + validate, records/s, one core",
  },
  {
    name: "features",
    script: "bench/features.ts",
    args: [],
    nodeArgs: ["--expose-gc"],
    what: "feature engine events/s on one core; state bytes per user",
  },
  {
    name: "decide",
    script: "bench/decide.ts",
    args: [],
    nodeArgs: ["--expose-gc"],
    what: "rule engine events/s on one core (default, classic, model-only rule sets), 100,000 simulated events",
  },
  {
    name: "simulate",
    script: "bench/simulate.ts",
    args: [],
    what: "simulator events/s written to a JSONL file through the CLI's writer (and generated only), 10,000 users, one core",
  },
  {
    name: "iforest",
    script: "bench/iforest.ts",
    args: [],
    what: "isolation forest fit, scoreSamples rows/s (100k rows, 100 trees, ψ 256) and single-row latency vs scikit-learn",
  },
  {
    name: "gbdt-fit",
    script: "bench/gbdt-fit.ts",
    args: [],
    what: "boosted-trees fit, 1,000,000 rows × 40 columns, 100 iterations, one thread, against scikit-learn HistGradientBoosting and XGBoost hist (~3 min of CPU; bench/gbdt-fit.ts --rows N for another size)",
  },
  {
    name: "gbdt-score",
    script: "bench/gbdt-score.ts",
    args: [],
    what: "boosted trees: compiled batch rows/s and single-row latency, 200 trees of depth 6, 30 features; one TreeSHAP explanation",
  },
  {
    name: "pg-write",
    script: "bench/pg-write.ts",
    args: [],
    what: "Store.writeBatch rows/s on PostgreSQL 127.0.0.1:5432",
  },
  {
    name: "pglite-write",
    script: "bench/pg-write.ts",
    args: ["--pglite"],
    what: "Store.writeBatch rows/s on in-memory PGlite",
  },
  {
    name: "e2e",
    script: "bench/e2e.ts",
    args: ["--cpu-prof", ".cache/bench-profiles/e2e"],
    what: "end to end: simulated events → Kafka → 1 fraudstream worker → PostgreSQL, all on this machine; drain capacity, paced confirmation with flat lag, latency at 1,000 / 3,000 / 10,000 events/s (~10-15 min)",
  },
  {
    name: "baseline",
    script: "bench/baseline.ts",
    args: [],
    what: "the Python per-event baseline (kafka-python, scikit-learn IsolationForest, psycopg2) against 1 fraudstream worker on the same events, broker and database (~3 min)",
  },
];

const { values } = parseArgs({
  options: { only: { type: "string" }, "no-record": { type: "boolean", default: false } },
});
const only = values.only?.split(",").map((s) => s.trim());
const unknown = only?.filter((n) => !BENCHES.some((b) => b.name === n)) ?? [];
if (unknown.length > 0) {
  console.error(
    `unknown benchmark(s): ${unknown.join(", ")}; known: ${BENCHES.map((b) => b.name).join(", ")}`,
  );
  process.exit(2);
}
const root = fileURLToPath(new URL("..", import.meta.url));
const selected = BENCHES.filter((b) => only === undefined || only.includes(b.name));
const cpu = cpus()[0]?.model ?? "unknown CPU";
const header = `## ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC — ${cpus().length} × ${cpu}, ${Math.round(
  totalmem() / 2 ** 30,
)} GiB, Node ${process.version}, ${revision()}`;
const sections: string[] = [header];

/** The commit measured, and whether the working tree differed from it (then the record says so). */
function revision(): string {
  const git = (...args: string[]) =>
    spawnSync("git", args, { cwd: root, encoding: "utf8" }).stdout?.trim() ?? "";
  const commit = git("rev-parse", "--short", "HEAD");
  if (commit === "") return "not a git checkout";
  // BENCHMARKS.md itself is not the code measured (a run of several benchmarks appends to it once).
  const changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!BENCHMARKS.md") !== "";
  return changed ? `commit ${commit} with uncommitted changes` : `commit ${commit}`;
}
let failed = false;
for (const b of selected) {
  if (!existsSync(`${root}/${b.script}`)) throw new Error(`benchmark script ${b.script} is missing`);
  console.error(`\n== ${b.name}: ${b.what}`);
  const started = performance.now();
  const r = spawnSync(process.execPath, [...(b.nodeArgs ?? []), b.script, ...b.args], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  process.stdout.write(r.stdout);
  const secs = ((performance.now() - started) / 1000).toFixed(0);
  if (r.status !== 0) {
    failed = true;
    console.error(`${b.name} failed (exit ${r.status})`);
  }
  sections.push(
    `### ${b.name} (${b.what}; ${secs} s${r.status === 0 ? "" : `; FAILED, exit ${r.status}`})\n\n\`\`\`\n${r.stdout.trim()}\n\`\`\``,
  );
}
if (!values["no-record"]) {
  appendFileSync(`${root}/BENCHMARKS.md`, `\n${sections.join("\n\n")}\n`);
  console.error("\nappended to BENCHMARKS.md");
}
process.exit(failed ? 1 : 0);
