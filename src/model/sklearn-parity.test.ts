// Parity with scikit-learn (/usr/bin/python3 + Debian's python3-sklearn, which .ci/run installs):
// scikit-learn fits IsolationForests, tools/export_sklearn_iforest.py exports them, and our loaded
// models must reproduce score_samples, decision_function, predict and offset_ to 1e-9. Our own fit
// cannot grow the same trees (different PRNG), so it must match scikit-learn's detection quality on
// planted anomalies instead. Without python3 or scikit-learn these tests fail: they are the proof
// that imported models score as they did in Python.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { averagePrecision, rocAuc } from "./evaluate.ts";
import { loadModel } from "./format.ts";
import { IsolationForest, percentile } from "./iforest.ts";

const PYTHON = "/usr/bin/python3";
const TOOL = fileURLToPath(new URL("../../tools/export_sklearn_iforest.py", import.meta.url));
const FEATURES = ["gauss", "amount", "hour", "flag", "tenths", "narrow", "epoch_s"];

interface Case {
  name: string;
  seed: number;
  rows: number;
  params: Record<string, unknown>;
}

const CASES: Case[] = [
  { name: "defaults", seed: 1, rows: 3000, params: {} },
  {
    name: "feature-subsets-contamination",
    seed: 2,
    rows: 2500,
    params: { max_features: 0.5, contamination: 0.05 },
  },
  {
    name: "bootstrap-count",
    seed: 3,
    rows: 2000,
    params: { bootstrap: true, max_samples: 300, n_estimators: 60 },
  },
  {
    name: "deep-int-features-fraction",
    seed: 4,
    rows: 4000,
    params: { max_samples: 0.75, max_features: 3, contamination: 0.1, n_estimators: 40 },
  },
];

// Columns chosen to exercise the splits: amounts, integers, flags, 0.1 steps (not exact in float32), a
// column whose range is a few 1e-3, and Unix times in seconds, where float32 (which scikit-learn casts
// X to) only has a step of 128: there the cast decides most splits near a threshold.
const SCRIPT = `
import json, os, runpy, sys
import numpy as np, joblib
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score, average_precision_score

out, cases, tool, names = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]

def data(seed, n):
    rng = np.random.default_rng(seed)
    X = np.empty((n, 7))
    X[:, 0] = rng.normal(size=n)
    X[:, 1] = np.round(rng.lognormal(8, 1.5, size=n), 2)
    X[:, 2] = rng.integers(0, 24, size=n)
    X[:, 3] = (rng.random(n) < 0.2).astype(float)
    X[:, 4] = np.round(rng.random(n), 1)
    X[:, 5] = rng.normal(size=n) * 1e-3 + 0.5
    X[:, 6] = 1.7e9 + np.round(rng.uniform(0, 86400, size=n), 3)
    return X

def write(path, a, dtype):
    np.ascontiguousarray(a, dtype=dtype).tofile(path)

for c in cases:
    d = os.path.join(out, c["name"])
    os.makedirs(d)
    X = data(c["seed"], c["rows"])
    # Scored: the training rows, then new rows spread wider than training (beyond its min and max).
    Xs = np.vstack([X, data(c["seed"] + 100, 700) * np.array([2.5, 3, 1.5, 1, 2, 4, 1]) - np.array([0, 500, 5, 0, 0.5, 1, 0])])
    m = IsolationForest(random_state=c["seed"], **c["params"]).fit(X)
    joblib.dump(m, os.path.join(d, "model.joblib"))
    # The export tool's command line, run in this process (saves a Python start and a scikit-learn import).
    sys.argv = [tool, os.path.join(d, "model.joblib"), "--out", os.path.join(d, "model.json"),
                "--feature-names", names, "--rows", str(len(X)), "--trained-at", "2026-11-22T00:00:00Z"]
    runpy.run_path(tool, run_name="__main__")
    write(os.path.join(d, "X.bin"), Xs, "<f8")
    write(os.path.join(d, "score_samples.bin"), m.score_samples(Xs), "<f8")
    write(os.path.join(d, "decision_function.bin"), m.decision_function(Xs), "<f8")
    write(os.path.join(d, "predict.bin"), m.predict(Xs), "<i1")
    json.dump({"trainRows": len(X), "rows": len(Xs), "offset": float(m.offset_), "maxSamples": int(m.max_samples_)},
              open(os.path.join(d, "meta.json"), "w"))

# Detection quality: a 5-D Gaussian with 2 % of rows pushed out on one or two features.
rng = np.random.default_rng(7)
n = 4000
X = rng.normal(size=(n, 5))
y = np.zeros(n, dtype=np.int8)
idx = rng.choice(n, size=80, replace=False)
y[idx] = 1
for i in idx:
    cols = rng.choice(5, size=rng.integers(1, 3), replace=False)
    X[i, cols] += rng.choice([-1, 1], size=len(cols)) * rng.uniform(2.5, 5, size=len(cols))
aucs, aps = [], []
for seed in range(5):
    s = -IsolationForest(random_state=seed).fit(X).score_samples(X)
    aucs.append(roc_auc_score(y, s))
    aps.append(average_precision_score(y, s))
write(os.path.join(out, "quality_X.bin"), X, "<f8")
write(os.path.join(out, "quality_y.bin"), y, "<i1")
write(os.path.join(out, "quality_sklearn_scores.bin"), s, "<f8")
json.dump({"aucs": aucs, "aps": aps}, open(os.path.join(out, "quality.json"), "w"))
`;

function floats(path: string): Float64Array {
  const b = readFileSync(path);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function int8s(path: string): Int8Array {
  const b = readFileSync(path);
  return new Int8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function maxDiff(a: Float64Array, b: Float64Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

function run(args: string[]): string {
  const r = spawnSync(PYTHON, args, { encoding: "utf8", timeout: 120_000 });
  if (r.error !== undefined) throw new Error(`${PYTHON} ${args[0]}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${PYTHON} ${args[0]} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Runs the Python side once; every test that needs it fails with the same clear message without it. */
let prepared: { dir: string } | { error: Error } | undefined;
function workDir(): string {
  if (prepared === undefined) {
    const probe = spawnSync(PYTHON, ["-c", "import sklearn, joblib, numpy; print(sklearn.__version__)"], {
      encoding: "utf8",
    });
    if (probe.error !== undefined || probe.status !== 0) {
      prepared = {
        error: new Error(
          `the scikit-learn parity tests need ${PYTHON} with scikit-learn (Debian: apt-get install -y python3-sklearn; ` +
            `.ci/run installs it): ${probe.error?.message ?? probe.stderr.trim()}`,
        ),
      };
    } else {
      const dir = mkdtempSync(join(tmpdir(), "fraudstream-sklearn-parity-"));
      try {
        run(["-c", SCRIPT, dir, JSON.stringify(CASES), TOOL, FEATURES.join(",")]);
        prepared = { dir };
      } catch (e) {
        prepared = { error: e as Error };
      }
    }
  }
  if ("error" in prepared) throw prepared.error;
  return prepared.dir;
}

describe("scikit-learn parity", { timeout: 180_000 }, () => {
  after(() => {
    if (prepared !== undefined && "dir" in prepared) rmSync(prepared.dir, { recursive: true, force: true });
  });

  it(`has ${PYTHON} with scikit-learn`, () => {
    workDir();
  });

  for (const c of CASES) {
    it(`reproduces score_samples, decision_function, predict and offset_: ${c.name} ${JSON.stringify(c.params)}`, (t) => {
      const d = join(workDir(), c.name);
      const meta = JSON.parse(readFileSync(join(d, "meta.json"), "utf8")) as {
        trainRows: number;
        rows: number;
        offset: number;
        maxSamples: number;
      };
      const text = readFileSync(join(d, "model.json"), "utf8");
      const { model, meta: m } = loadModel(text, { expectFeatures: FEATURES });
      assert.match(m.training.trainer, /^scikit-learn /);
      assert.equal(m.training.rows, c.rows);
      assert.equal(model.state.samplesPerTree, meta.maxSamples);
      assert.equal(model.offset, meta.offset);

      const X = floats(join(d, "X.bin"));
      const n = meta.rows;
      const ours = new Float64Array(n);
      model.scoreSamples(X, n, ours);
      const scoreDiff = maxDiff(ours, floats(join(d, "score_samples.bin")));
      assert.ok(scoreDiff <= 1e-9, `score_samples differ by ${scoreDiff}`);
      const decision = new Float64Array(n);
      model.decisionFunction(X, n, decision);
      const decisionDiff = maxDiff(decision, floats(join(d, "decision_function.bin")));
      assert.ok(decisionDiff <= 1e-9, `decision_function differs by ${decisionDiff}`);
      t.diagnostic(
        `${n} rows, depth ${model.layout.depth}: max |Δ| score_samples ${scoreDiff}, decision_function ${decisionDiff}`,
      );
      const predicted = new Int8Array(n);
      model.predict(X, n, predicted);
      assert.deepEqual(predicted, int8s(join(d, "predict.bin")));

      if (c.params.contamination !== undefined) {
        // offset_ = numpy.percentile(score_samples(training X), 100 · contamination): recomputed from our scores.
        const offset = percentile(ours.slice(0, meta.trainRows), 100 * (c.params.contamination as number));
        assert.ok(Math.abs(offset - meta.offset) <= 1e-9, `offset ${offset} vs scikit-learn ${meta.offset}`);
      }

      if (c.name === "defaults") {
        // The float32 cast matters on this data: comparing float64 rows with scikit-learn's raw
        // thresholds sends some rows down other branches.
        const raw = JSON.parse(text);
        raw.forest.splitInput = "float64";
        const naive = new Float64Array(n);
        loadModel(JSON.stringify(raw)).model.scoreSamples(X, n, naive);
        const naiveDiff = maxDiff(naive, floats(join(d, "score_samples.bin")));
        assert.ok(naiveDiff > 1e-9, "the data should exercise float32 rounding");
        t.diagnostic(`without the float32 threshold adjustment: max |Δ| ${naiveDiff}`);
      }
    });
  }

  it("our own fit detects planted anomalies as well as scikit-learn (ROC AUC within 0.02)", (t) => {
    const dir = workDir();
    const X = floats(join(dir, "quality_X.bin"));
    const labels = int8s(join(dir, "quality_y.bin"));
    const n = labels.length;
    const q = JSON.parse(readFileSync(join(dir, "quality.json"), "utf8")) as {
      aucs: number[];
      aps: number[];
    };
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    const aucs: number[] = [];
    const aps: number[] = [];
    const scores = new Float64Array(n);
    for (let seed = 0; seed < 5; seed++) {
      new IsolationForest({ seed }).fit(X, n, 5).anomalyScores(X, n, scores);
      aucs.push(rocAuc(scores, labels));
      aps.push(averagePrecision(scores, labels));
    }
    const ours = mean(aucs);
    const theirs = mean(q.aucs);
    t.diagnostic(
      `mean of 5 seeds: ROC AUC ours ${ours.toFixed(4)}, scikit-learn ${theirs.toFixed(4)}; AP ours ${mean(aps).toFixed(4)}, scikit-learn ${mean(q.aps).toFixed(4)}`,
    );
    assert.ok(theirs > 0.9, `scikit-learn's ROC AUC ${theirs}: the planted anomalies should be detectable`);
    assert.ok(
      Math.abs(ours - theirs) <= 0.02,
      `ROC AUC ours ${ours.toFixed(4)} vs scikit-learn ${theirs.toFixed(4)}`,
    );
    assert.ok(
      Math.abs(mean(aps) - mean(q.aps)) <= 0.08,
      `AP ours ${mean(aps)} vs scikit-learn ${mean(q.aps)}`,
    );
  });

  it("computes ROC AUC and average precision as scikit-learn's metrics", () => {
    const dir = workDir();
    const labels = int8s(join(dir, "quality_y.bin"));
    const scores = floats(join(dir, "quality_sklearn_scores.bin"));
    const q = JSON.parse(readFileSync(join(dir, "quality.json"), "utf8")) as {
      aucs: number[];
      aps: number[];
    };
    assert.ok(Math.abs(rocAuc(scores, labels) - (q.aucs[4] as number)) < 1e-12);
    assert.ok(Math.abs(averagePrecision(scores, labels) - (q.aps[4] as number)) < 1e-12);
  });
});
