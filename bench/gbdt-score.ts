// Boosted-trees scoring benchmark: the compiled batch scorer (src/model/gbdt-score.ts) against the
// reference walk (predictMargin), and the single-row latency the worker pays for a lone event.
//
//   node bench/gbdt-score.ts [--rows N] [--trees N] [--depth N] [--features N] [--split le|lt-f32] [--json]
//
// The ensemble is random (src/model/gbdt-test-trees.ts): --trees complete trees of --depth (default
// 200 of depth 6, XGBoost's default depth), --features columns (default 30, as the worker's feature
// vector), rows drawn on and around the thresholds with 10 % NaN, so the walks go both ways at every
// level. Measures, on one core: batch rows/s over --rows rows (default 100,000) with probabilities
// out; the reference predictMargin loop on the same rows; single-row latency through GbdtScorer
// (scoreBatch with n = 1, mean, p50, p99) and the heap it allocates; and one TreeSHAP explanation.
// Times are CPU time (wall alongside): this machine is shared. Goals (docs/model.md, "Boosted trees"):
// ≥ 1,000,000 rows/s batch and ≤ 5 µs single row for 200 trees of depth 6.
import { parseArgs } from "node:util";
import { GbdtScorer } from "../src/model/gbdt-scorer.ts";
import { randomEnsemble, randomRows } from "../src/model/gbdt-test-trees.ts";
import { predictMargin, type SplitTest } from "../src/model/trees.ts";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "100000" },
    trees: { type: "string", default: "200" },
    depth: { type: "string", default: "6" },
    features: { type: "string", default: "30" },
    split: { type: "string", default: "lt-f32" },
    json: { type: "boolean", default: false },
  },
});
const ROWS = Number(values.rows);
const TREES = Number(values.trees);
const DEPTH = Number(values.depth);
const W = Number(values.features);
if (values.split !== "le" && values.split !== "lt-f32")
  throw new Error(`--split ${values.split}: le or lt-f32`);
const SPLIT: SplitTest = values.split;

interface Timing {
  cpuS: number;
  wallS: number;
}

function time(fn: () => void): Timing {
  const c = process.cpuUsage();
  const w = performance.now();
  fn();
  const used = process.cpuUsage(c);
  return { cpuS: (used.user + used.system) / 1e6, wallS: (performance.now() - w) / 1000 };
}

function best(rounds: number, fn: () => void): Timing {
  let b: Timing | undefined;
  for (let r = 0; r < rounds; r++) {
    const t = time(fn);
    if (b === undefined || t.cpuS < b.cpuS) b = t;
  }
  return b as Timing;
}

const ensemble = randomEnsemble(42, { trees: TREES, maxDepth: DEPTH, nFeatures: W, split: SPLIT });
const scorer = new GbdtScorer(ensemble, { modelVersion: "bench", scoreThreshold: null });
const X = randomRows(ensemble, ROWS, 7);
const out = new Float64Array(ROWS);

// Warm up both paths (the JIT compiles the hot loops), then measure.
scorer.scoreBatch(X, Math.min(ROWS, 20_000), out);
const batch = best(7, () => scorer.scoreBatch(X, ROWS, out));

const refRows = Math.min(ROWS, 20_000);
const ref = new Float64Array(refRows);
const reference = best(3, () => {
  for (let i = 0; i < refRows; i++) ref[i] = predictMargin(ensemble, X.subarray(i * W, (i + 1) * W));
});

const calls = 100_000;
const one = new Float64Array(1);
const rowsOf = Array.from({ length: 256 }, (_, i) => X.subarray(i * W, (i + 1) * W));
for (let i = 0; i < 20_000; i++) scorer.scoreBatch(rowsOf[i & 255] as Float64Array, 1, one);
const single = best(3, () => {
  for (let i = 0; i < calls; i++) scorer.scoreBatch(rowsOf[i & 255] as Float64Array, 1, one);
});
const lat = new Float64Array(20_000);
for (let i = 0; i < lat.length; i++) {
  const t0 = process.hrtime.bigint();
  scorer.scoreBatch(rowsOf[i & 255] as Float64Array, 1, one);
  lat[i] = Number(process.hrtime.bigint() - t0);
}
lat.sort();
const heapBefore = process.memoryUsage().heapUsed;
for (let i = 0; i < calls; i++) scorer.scoreBatch(rowsOf[i & 255] as Float64Array, 1, one);
const heapGrowth = process.memoryUsage().heapUsed - heapBefore;

scorer.explain(rowsOf[0] as Float64Array);
const explains = 200;
const shap = best(3, () => {
  for (let i = 0; i < explains; i++) scorer.explain(rowsOf[i & 255] as Float64Array);
});

const result = {
  trees: TREES,
  depth: DEPTH,
  features: W,
  split: SPLIT,
  rows: ROWS,
  batchRowsPerS: ROWS / batch.cpuS,
  batchRowsPerSWall: ROWS / batch.wallS,
  referenceRowsPerS: refRows / reference.cpuS,
  singleMeanUs: (single.cpuS / calls) * 1e6,
  singleP50Us: (lat[Math.floor(lat.length * 0.5)] as number) / 1000,
  singleP99Us: (lat[Math.floor(lat.length * 0.99)] as number) / 1000,
  singleHeapGrowthBytesPer100kCalls: heapGrowth,
  explainMeanUs: (shap.cpuS / explains) * 1e6,
};
const fmt = (x: number, d = 0) =>
  x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(
    `${TREES} trees of depth ${DEPTH}, ${W} features, split ${SPLIT}, ${ROWS.toLocaleString("en-US")} rows`,
  );
  console.log(
    `compiled batch     ${fmt(result.batchRowsPerS)} rows/s (wall ${fmt(result.batchRowsPerSWall)}); reference predictMargin ${fmt(result.referenceRowsPerS)} rows/s`,
  );
  console.log(
    `single row         mean ${fmt(result.singleMeanUs, 2)} µs, p50 ${fmt(result.singleP50Us, 2)} µs, p99 ${fmt(result.singleP99Us, 2)} µs; heap growth over 100,000 calls ${fmt(heapGrowth)} bytes`,
  );
  console.log(`TreeSHAP explain   mean ${fmt(result.explainMeanUs, 0)} µs per row`);
}
