// Boosted-trees training benchmark: our fitGbdt against scikit-learn's HistGradientBoostingClassifier
// and XGBoost's `hist` method, each on one thread, same rows and hyperparameters, in one run.
//
//   node bench/gbdt-fit.ts [--rows N] [--cols N] [--iters N] [--test-rows N] [--no-python] [--json]
//
// Data: bench/gbdt-data.ts (fraud-like columns, ~6 % positives, missing values in one column of
// eight), --rows training rows (default 1,000,000) × --cols (40), plus --test-rows (100,000) held out
// for ROC-AUC. Hyperparameters: --iters (100) iterations, learning rate 0.1, 31 leaves, 20 rows per
// leaf at least, no L2, 255 bins, early stopping off. XGBoost has no rows-per-leaf bound (its
// min_child_weight is a hessian sum, set to scikit-learn's min_hessian_to_split 1e-3), grows leaf-wise
// (grow_policy lossguide, max_leaves 31, max_depth 0), starts from the same prior (base_score) and
// builds its DMatrix inside the timed part (that is where it bins, as our fit does). Times are CPU
// seconds of the fitting process (wall alongside): the machine is shared. Python runs with
// OMP_NUM_THREADS=1 and XGBoost with nthread=1. Results are recorded in docs/model.md.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { rocAuc } from "../src/model/evaluate.ts";
import { fitGbdt } from "../src/model/gbdt-train.ts";
import { predictMargin } from "../src/model/trees.ts";
import { labelledData } from "./gbdt-data.ts";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    cols: { type: "string", default: "40" },
    iters: { type: "string", default: "100" },
    "test-rows": { type: "string", default: "100000" },
    "no-python": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const ROWS = Number(values.rows);
const COLS = Number(values.cols);
const ITERS = Number(values.iters);
const TEST = Number(values["test-rows"]);
for (const [name, v] of [
  ["--rows", ROWS],
  ["--cols", COLS],
  ["--iters", ITERS],
  ["--test-rows", TEST],
] as const) {
  if (!Number.isInteger(v) || v < 1) {
    console.error(`${name} must be a positive integer, not ${v}`);
    process.exit(2);
  }
}
const PYTHON = "/usr/bin/python3";

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const { X, labels } = labelledData(ROWS + TEST, COLS, 1);
let positives = 0;
for (let i = 0; i < ROWS; i++) positives += labels[i] as number;

// Ours.
const c0 = cpuMs();
const w0 = performance.now();
const fit = fitGbdt(
  { X: X.subarray(0, ROWS * COLS), rows: ROWS, cols: COLS, labels: labels.subarray(0, ROWS) },
  {
    maxIter: ITERS,
    learningRate: 0.1,
    maxLeafNodes: 31,
    minSamplesLeaf: 20,
    l2Regularization: 0,
    maxBins: 255,
    earlyStopping: false,
  },
  { clock: cpuMs },
);
const oursCpuS = (cpuMs() - c0) / 1000;
const oursWallS = (performance.now() - w0) / 1000;
const margins = new Float64Array(TEST);
for (let i = 0; i < TEST; i++)
  margins[i] = predictMargin(fit.ensemble, X.subarray((ROWS + i) * COLS, (ROWS + i + 1) * COLS));
const oursAuc = rocAuc(margins, labels.subarray(ROWS));

const SCRIPT = `
import json, sys, time
import numpy as np
path, ypath, rows, test, cols, iters, prior = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
X = np.fromfile(path, dtype="<f8").reshape(rows + test, cols)
y = np.fromfile(ypath, dtype=np.uint8)
Xt, yt, Xh, yh = X[:rows], y[:rows], X[rows:], y[rows:]
from sklearn.metrics import roc_auc_score
out = {}
def timed(fn):
    c, w = time.process_time(), time.perf_counter()
    r = fn()
    return time.process_time() - c, time.perf_counter() - w, r
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
cpu, wall, m = timed(lambda: HistGradientBoostingClassifier(max_iter=iters, learning_rate=0.1, max_leaf_nodes=31,
    min_samples_leaf=20, l2_regularization=0, max_bins=255, early_stopping=False, random_state=0).fit(Xt, yt))
out["sklearn"] = {"version": sklearn.__version__, "cpuS": cpu, "wallS": wall, "auc": roc_auc_score(yh, m.decision_function(Xh))}
try:
    import xgboost as xgb
    params = {"tree_method": "hist", "grow_policy": "lossguide", "max_leaves": 31, "max_depth": 0, "eta": 0.1,
              "lambda": 0, "alpha": 0, "min_child_weight": 1e-3, "max_bin": 256, "nthread": 1,
              "objective": "binary:logistic", "base_score": prior}
    cpu, wall, b = timed(lambda: xgb.train(params, xgb.DMatrix(Xt, label=yt, nthread=1), iters))
    out["xgboost"] = {"version": xgb.__version__, "cpuS": cpu, "wallS": wall,
                      "auc": roc_auc_score(yh, b.predict(xgb.DMatrix(Xh, nthread=1), output_margin=True))}
except ImportError as e:
    out["xgboost"] = {"error": f"not installed ({e}); Debian: apt-get install -y python3-xgboost"}
print(json.dumps(out))
`;

interface Other {
  version?: string;
  cpuS?: number;
  wallS?: number;
  auc?: number;
  error?: string;
}
let others: { sklearn?: Other; xgboost?: Other; error?: string } = {};
if (!values["no-python"]) {
  const dir = mkdtempSync(join(tmpdir(), "fraudstream-bench-gbdt-"));
  try {
    writeFileSync(join(dir, "X.bin"), new Uint8Array(X.buffer, X.byteOffset, X.byteLength));
    writeFileSync(join(dir, "y.bin"), labels);
    const prior = positives / ROWS;
    const r = spawnSync(
      PYTHON,
      [
        "-c",
        SCRIPT,
        join(dir, "X.bin"),
        join(dir, "y.bin"),
        String(ROWS),
        String(TEST),
        String(COLS),
        String(ITERS),
        String(prior),
      ],
      { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" }, maxBuffer: 1 << 24 },
    );
    if (r.status !== 0) throw new Error(`${PYTHON}: ${r.error?.message ?? r.stderr.trim()}`);
    others = JSON.parse(r.stdout.trim().split("\n").pop() as string);
  } catch (e) {
    others = { error: (e as Error).message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (v: number, d = 1) =>
  v.toLocaleString("en", { maximumFractionDigits: d, minimumFractionDigits: d });
const t = fit.report.timeMs as { binning: number; boosting: number };
let leaves = 0;
for (const tree of fit.ensemble.trees) for (const f of tree.feature) if (f < 0) leaves++;
console.log(
  `${ROWS.toLocaleString("en")} training rows × ${COLS} columns (${fmt((100 * positives) / ROWS)} % positive), ` +
    `${ITERS} iterations, 31 leaves, learning rate 0.1, min 20 rows per leaf, 255 bins; one thread; ` +
    `ROC-AUC on ${TEST.toLocaleString("en")} held-out rows`,
);
console.log(
  `ours          fit ${fmt(oursCpuS)} s CPU (wall ${fmt(oursWallS)} s; binning ${fmt(t.binning / 1000)} s, boosting ${fmt(t.boosting / 1000)} s), ` +
    `${leaves} leaves, AUC ${oursAuc.toFixed(5)}`,
);
const fastest: number[] = [];
for (const name of ["sklearn", "xgboost"] as const) {
  const o = others[name];
  if (o === undefined) continue;
  if (o.error !== undefined || o.cpuS === undefined) {
    console.log(`${name.padEnd(13)} not measured: ${o.error}`);
    continue;
  }
  fastest.push(o.cpuS);
  console.log(
    `${`${name} ${o.version}`.padEnd(13)} fit ${fmt(o.cpuS)} s CPU (wall ${fmt(o.wallS as number)} s), AUC ${(o.auc as number).toFixed(5)}; ` +
      `ours / ${name} ${fmt(oursCpuS / o.cpuS, 2)}×`,
  );
}
if (others.error !== undefined) console.log(`Python side not measured: ${others.error}`);
if (fastest.length > 0)
  console.log(`ours / the faster of the others: ${fmt(oursCpuS / Math.min(...fastest), 2)}× (goal: ≤ 2×)`);
if (values.json)
  console.log(
    JSON.stringify({
      rows: ROWS,
      cols: COLS,
      iters: ITERS,
      ours: { cpuS: oursCpuS, wallS: oursWallS, binningS: t.binning / 1000, auc: oursAuc },
      ...others,
    }),
  );
