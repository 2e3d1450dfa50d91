// Simulator throughput on one core, the way `fraudstream simulate --out FILE` produces it: events
// generated, serialized and written to a temporary JSON Lines file by the command's own driver
// (runSimulation) and file writer (fileOutput), and, for comparison, generation alone (`next()`).
//   node bench/simulate.ts [--users N] [--events N]
// Median of 3 rounds of each, interleaved; the file's size gives bytes per event. `npm run bench`
// records the output in BENCHMARKS.md.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileOutput, STREAM_BATCH_SIZE } from "../src/cli/output.ts";
import { createSimulator } from "../src/simulate/index.ts";
import { runSimulation } from "../src/simulate/run.ts";

const { values } = parseArgs({
  options: { users: { type: "string", default: "10000" }, events: { type: "string", default: "500000" } },
});
const users = Number(values.users);
const events = Number(values.events);
const built = performance.now();
const sim = createSimulator({ users, seed: 1 });
const buildMs = performance.now() - built;
const dir = mkdtempSync(join(tmpdir(), "fraudstream-bench-simulate-"));
const fileRates: number[] = [];
const fileCpuRates: number[] = [];
const genRates: number[] = [];
let bytes = 0;
let written = 0;
try {
  for (let round = 0; round < 3; round++) {
    const path = join(dir, `round-${round}.jsonl`);
    const output = fileOutput(path);
    const t = performance.now();
    const cpu = process.cpuUsage();
    const result = await runSimulation(sim, output, { count: events, batchSize: STREAM_BATCH_SIZE });
    await output.close();
    fileRates.push(result.produced / ((performance.now() - t) / 1000));
    const used = process.cpuUsage(cpu);
    fileCpuRates.push(result.produced / ((used.user + used.system) / 1e6));
    bytes += statSync(path).size;
    written += result.produced;

    const g = performance.now();
    // The same simulator, going on: a second population in the heap would slow every major GC.
    for (let i = 0; i < events; i++) sim.next();
    genRates.push(events / ((performance.now() - g) / 1000));
  }
} finally {
  // Only now: deleting a few hundred MB between rounds slowed the next round down (ext4, discard).
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] as number;
console.log(
  JSON.stringify({
    users,
    populationBuildMs: Math.round(buildMs),
    eventsPerSecond: Math.round(median(fileRates)),
    // Per second of this process's CPU time (the writer's I/O thread included): on a loaded machine
    // the wall-clock rate also counts the time other processes had the core.
    eventsPerCpuSecond: Math.round(median(fileCpuRates)),
    bytesPerEvent: Math.round(bytes / written),
    generatedPerSecond: Math.round(median(genRates)),
    fraudShare: Math.round((sim.stats().fraud / sim.stats().produced) * 1e4) / 1e4,
  }),
);
