// Decision stage benchmark: events/s of the rule engine (src/decide) on one core, over simulated events
// whose features the FeatureEngine computed and whose scores the provisional scorer gave, and whether
// the batch path allocates (it must not: zero garbage collections while it runs).
//
//   node --expose-gc bench/decide.ts [--events N] [--users N] [--reps N] [--json]
//
// Results are quoted in docs/rules.md ("Speed"). Generating, parsing and featurizing the events is not
// timed. "decide" is decide() (one Verdict object per event), "batch" is decideBatch() into a
// VerdictBuffer (typed arrays, no allocation: batchGcs must be 0). Rates are wall-clock, best and median
// of --reps runs; "per CPU second" divides by the process's CPU time instead, which is steadier on a
// machine shared with other work (it still includes what the shared caches cost).
import { PerformanceObserver } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { DEFAULT_MAX_EVENT_BYTES, parseRecord } from "../src/contract/parse.ts";
import { parseEventTime, type Transaction } from "../src/contract/transaction.ts";
import {
  classicRuleSet,
  compileRuleSet,
  decide,
  decideBatch,
  defaultRuleSet,
  modelOnlyRuleSet,
  RISK_LEVELS,
  type RuleSet,
  VerdictBuffer,
} from "../src/decide/index.ts";
import { FeatureEngine } from "../src/features/engine.ts";
import { FEATURES, featureIndex } from "../src/features/registry.ts";
import { createProvisionalScorer } from "../src/model/provisional-scorer.ts";
import { createSimulator } from "../src/simulate/index.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "100000" },
    users: { type: "string", default: "5000" },
    reps: { type: "string", default: "9" },
    json: { type: "boolean", default: false },
  },
});
const N = Number(values.events);
const REPS = Number(values.reps);
const W = FEATURES.length;

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error("run with node --expose-gc");
  g();
}

// Events, features, scores: what the worker hands to the decision stage. The events go through JSON
// and the contract parser as in the worker, so that they have the shapes (and fresh strings) the worker's
// events have; the simulator's own objects are laid out differently.
const sim = createSimulator({ users: Number(values.users), seed: 42, fraudRate: 0.05 });
const encoder = new TextEncoder();
const events: Transaction[] = [];
for (let i = 0; i < N; i++) {
  const parsed = parseRecord(encoder.encode(JSON.stringify(sim.next())), {
    maxBytes: DEFAULT_MAX_EVENT_BYTES,
  });
  if (!parsed.ok) throw new Error(`simulated event rejected: ${parsed.detail}`);
  events.push(parsed.event);
}
const engine = new FeatureEngine({ allowedLatenessMs: 15 * 60_000, stateTtlMs: 30 * 86_400_000 });
const features = new Float64Array(N * W);
const status = new Uint8Array(N);
engine.processBatch(
  events,
  Float64Array.from(events, (e) => parseEventTime(e.timestamp)),
  features,
  status,
);
const scorer = createProvisionalScorer();
const columns = scorer.featureNames.map((n) => featureIndex(n));
const rows = new Float64Array(N * columns.length);
for (let i = 0; i < N; i++)
  for (let c = 0; c < columns.length; c++)
    rows[i * columns.length + c] = features[i * W + (columns[c] as number)] as number;
const scores = new Float64Array(N);
scorer.scoreBatch(rows, N, scores);

let gcs = 0;
const observer = new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
});
observer.observe({ entryTypes: ["gc"] });
/** Lets the observer deliver the entries of the GCs so far. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function measure(rs: RuleSet) {
  const compiled = compileRuleSet(rs);
  const out = VerdictBuffer.for(compiled, N);
  // Warm-up, so that the timed runs measure optimized code.
  decideBatch(compiled, events, features, W, scores, out);
  let sink = 0;
  for (let i = 0; i < N; i++)
    sink += decide(compiled, events[i] as Transaction, features, i * W, scores[i] as number).points;

  const batchRates: number[] = [];
  gc();
  await settle();
  const gcsBefore = gcs;
  const batchCpuRates: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    decideBatch(compiled, events, features, W, scores, out);
    const cpu = process.cpuUsage(c0);
    batchRates.push(N / ((performance.now() - t0) / 1000));
    batchCpuRates.push(N / ((cpu.user + cpu.system) / 1e6));
  }
  await settle();
  const batchGcs = gcs - gcsBefore;

  const objectRates: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++)
      sink += decide(compiled, events[i] as Transaction, features, i * W, scores[i] as number).points;
    objectRates.push(N / ((performance.now() - t0) / 1000));
  }
  // Bytes per decide() call: heap growth over a run too short to trigger a collection.
  const k = Math.min(N, 20_000);
  const kept: unknown[] = new Array(k);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < k; i++)
    kept[i] = decide(compiled, events[i] as Transaction, features, i * W, scores[i] as number);
  const bytesPerVerdict = (process.memoryUsage().heapUsed - before) / k;

  const byRisk: Record<string, number> = {};
  for (let i = 0; i < N; i++) {
    const risk = RISK_LEVELS[out.risk[i] as number] as string;
    byRisk[risk] = (byRisk[risk] ?? 0) + 1;
  }
  if (Number.isNaN(sink) || kept.length !== k) throw new Error("unreachable");
  return {
    ruleSet: rs.version,
    rules: compiled.rules.length,
    batchEventsPerSecondBest: Math.round(Math.max(...batchRates)),
    batchEventsPerSecondMedian: Math.round(median(batchRates)),
    batchEventsPerCpuSecondMedian: Math.round(median(batchCpuRates)),
    batchGcs,
    decideEventsPerSecondBest: Math.round(Math.max(...objectRates)),
    decideEventsPerSecondMedian: Math.round(median(objectRates)),
    decideBytesPerVerdict: Math.round(bytesPerVerdict),
    byRisk,
  };
}

const results = [];
for (const rs of [defaultRuleSet(), classicRuleSet(), modelOnlyRuleSet()]) results.push(await measure(rs));
observer.disconnect();
const result = {
  events: N,
  late: status.reduce((a, s) => a + s, 0),
  results,
  node: process.version,
  date: new Date().toISOString(),
};
if (values.json) console.log(JSON.stringify(result));
else console.dir(result, { depth: 4 });
