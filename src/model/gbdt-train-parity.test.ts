// Parity of our boosted-trees trainer with scikit-learn's HistGradientBoostingClassifier
// (/usr/bin/python3 + Debian's python3-sklearn, which .ci/run installs), same hyperparameters, early
// stopping off, on three labelled sets:
// - load_breast_cancer (569 rows × 30): malignant vs benign, shuffled (RandomState(0)), 70 % to train;
// - load_digits (1,797 × 64) as a binary task, digits 0–4 vs 5–9, shuffled, 70 % to train;
// - 250,000 simulated transactions (seed 7, 2 % fraud) through the worker's FeatureEngine, the way
//   src/offline/starter.ts builds its training set: the first 75 % (in time order) to train, the
//   last 25 % held out.
// On each: the bin thresholds must equal scikit-learn's (no set has more than its 200,000-row binning
// subsample), and our ROC-AUC on the held-out rows must be within 0.005 of scikit-learn's. The margins
// themselves are compared too: the algorithm is scikit-learn's operation for operation, and the trees
// come out the same (max |Δ margin| 0 on all three sets when this was written).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isFraudLabel, parseEventTime, type Transaction } from "../contract/transaction.ts";
import { FeatureEngine } from "../features/engine.ts";
import { FEATURE_NAMES } from "../features/registry.ts";
import { createSimulator } from "../simulate/index.ts";
import { rocAuc } from "./evaluate.ts";
import { fitGbdt, type GbdtHyperparametersInput } from "./gbdt-train.ts";
import { predictMargin } from "./trees.ts";

const PYTHON = "/usr/bin/python3";
const SIM_EVENTS = 250_000;

interface Case {
  name: string;
  ours: GbdtHyperparametersInput;
  sklearn: Record<string, number>;
}

const CASES: Case[] = [
  {
    name: "breast_cancer",
    ours: { maxIter: 100, learningRate: 0.1, maxLeafNodes: 31, minSamplesLeaf: 20, l2Regularization: 0 },
    sklearn: {
      max_iter: 100,
      learning_rate: 0.1,
      max_leaf_nodes: 31,
      min_samples_leaf: 20,
      l2_regularization: 0,
    },
  },
  {
    name: "digits",
    ours: { maxIter: 60, learningRate: 0.2, maxLeafNodes: 15, minSamplesLeaf: 10, l2Regularization: 1 },
    sklearn: {
      max_iter: 60,
      learning_rate: 0.2,
      max_leaf_nodes: 15,
      min_samples_leaf: 10,
      l2_regularization: 1,
    },
  },
  {
    name: "simulator",
    ours: { maxIter: 100, learningRate: 0.1, maxLeafNodes: 31, minSamplesLeaf: 20, l2Regularization: 0 },
    sklearn: {
      max_iter: 100,
      learning_rate: 0.1,
      max_leaf_nodes: 31,
      min_samples_leaf: 20,
      l2_regularization: 0,
    },
  },
];

const SCRIPT = `
import json, os, sys
import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

out, cases = sys.argv[1], json.loads(sys.argv[2])

def shuffled(X, y, share):
    idx = np.random.RandomState(0).permutation(len(y))
    return X[idx].astype(np.float64), y[idx].astype(np.uint8), int(share * len(y))

sim = json.load(open(os.path.join(out, "simulator", "meta.json")))
data = {
    "breast_cancer": shuffled(*load_breast_cancer(return_X_y=True), 0.7),
    "digits": (lambda X, y: shuffled(X, (y >= 5).astype(int), 0.7))(*load_digits(return_X_y=True)),
    "simulator": (
        np.fromfile(os.path.join(out, "simulator", "X.bin"), dtype="<f8").reshape(sim["rows"], sim["cols"]),
        np.fromfile(os.path.join(out, "simulator", "y.bin"), dtype=np.uint8),
        sim["train"],
    ),
}
for c in cases:
    X, y, n = data[c["name"]]
    d = os.path.join(out, c["name"])
    os.makedirs(d, exist_ok=True)
    m = HistGradientBoostingClassifier(early_stopping=False, random_state=0, **c["sklearn"]).fit(X[:n], y[:n])
    margin = m.decision_function(X[n:])
    np.ascontiguousarray(X).tofile(os.path.join(d, "X.bin"))
    y.tofile(os.path.join(d, "y.bin"))
    margin.astype("<f8").tofile(os.path.join(d, "margin.bin"))
    json.dump({"rows": X.shape[0], "cols": X.shape[1], "train": n, "auc": roc_auc_score(y[n:], margin),
               "thresholds": [t.tolist() for t in m._bin_mapper.bin_thresholds_],
               "leaves": int(sum(p[0].get_n_leaf_nodes() for p in m._predictors))},
              open(os.path.join(d, "meta.json"), "w"))
`;

/** Simulated transactions → the worker's feature vectors and labels, as the starter model's trainer. */
function simulatorSet(events: number): { X: Float64Array; labels: Uint8Array; rows: number } {
  const sim = createSimulator({ users: 5000, seed: 7, fraudRate: 0.02 });
  const engine = new FeatureEngine({ allowedLatenessMs: 300_000, stateTtlMs: 30 * 86_400_000 });
  const width = FEATURE_NAMES.length;
  const X = new Float64Array(events * width);
  const labels = new Uint8Array(events);
  let rows = 0;
  const batch = 10_000;
  const out = new Float64Array(batch * width);
  const status = new Uint8Array(batch);
  for (let done = 0; done < events; done += batch) {
    const evs: Transaction[] = Array.from({ length: Math.min(batch, events - done) }, () => sim.next());
    const times = Float64Array.from(evs, (e) => parseEventTime(e.timestamp));
    engine.processBatch(evs, times, out, status);
    for (let i = 0; i < evs.length; i++) {
      if (status[i] !== 0) continue; // late: no features, as in training and serving
      X.set(out.subarray(i * width, (i + 1) * width), rows * width);
      labels[rows++] = isFraudLabel(evs[i] as Transaction) ? 1 : 0;
    }
  }
  return { X: X.subarray(0, rows * width), labels: labels.subarray(0, rows), rows };
}

function floats(path: string): Float64Array {
  const b = readFileSync(path);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

let prepared: { dir: string } | { error: Error } | undefined;
function workDir(): string {
  if (prepared === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "fraudstream-gbdt-parity-"));
    try {
      const sim = simulatorSet(SIM_EVENTS);
      const simDir = join(dir, "simulator");
      mkdirSync(simDir);
      writeFileSync(join(simDir, "X.bin"), new Uint8Array(sim.X.buffer, sim.X.byteOffset, sim.X.byteLength));
      writeFileSync(join(simDir, "y.bin"), sim.labels);
      const meta = { rows: sim.rows, cols: FEATURE_NAMES.length, train: Math.floor(sim.rows * 0.75) };
      writeFileSync(join(simDir, "meta.json"), JSON.stringify(meta));
      const r = spawnSync(PYTHON, ["-c", SCRIPT, dir, JSON.stringify(CASES)], {
        encoding: "utf8",
        timeout: 300_000,
        // One thread: deterministic sums, and the machine is shared.
        env: { ...process.env, OMP_NUM_THREADS: "1" },
      });
      if (r.error !== undefined || r.status !== 0)
        throw new Error(
          `the boosted-trees parity tests need ${PYTHON} with scikit-learn (Debian: apt-get install -y python3-sklearn; ` +
            `.ci/run installs it): ${r.error?.message ?? r.stderr.trim()}`,
        );
      prepared = { dir };
    } catch (e) {
      prepared = { error: e as Error };
    }
  }
  if ("error" in prepared) throw prepared.error;
  return prepared.dir;
}

describe("boosted trees: parity with scikit-learn's HistGradientBoostingClassifier", {
  timeout: 300_000,
}, () => {
  after(() => {
    if (prepared !== undefined && "dir" in prepared) rmSync(prepared.dir, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(`${c.name}: same bins, held-out ROC-AUC within 0.005 ${JSON.stringify(c.ours)}`, (t) => {
      const d = join(workDir(), c.name);
      const meta = JSON.parse(readFileSync(join(d, "meta.json"), "utf8")) as {
        rows: number;
        cols: number;
        train: number;
        auc: number;
        thresholds: number[][];
        leaves: number;
      };
      const X = floats(join(d, "X.bin"));
      const labels = new Uint8Array(readFileSync(join(d, "y.bin")));
      const { rows, cols, train } = meta;
      const fit = fitGbdt(
        { X: X.subarray(0, train * cols), rows: train, cols, labels: labels.subarray(0, train) },
        { ...c.ours, earlyStopping: false },
      );
      assert.equal(fit.report.iterationsRun, c.ours.maxIter);
      assert.deepEqual(
        fit.report.bins,
        meta.thresholds.map((th) => th.length + 1),
      );
      for (let f = 0; f < cols; f++) {
        // The thresholds of our trees' splits are scikit-learn's bin thresholds: compare them all.
        const theirs = meta.thresholds[f] as number[];
        for (const tree of fit.ensemble.trees) {
          for (let k = 0; k < tree.feature.length; k++) {
            if (tree.feature[k] !== f) continue;
            const th = tree.threshold[k] as number;
            assert.ok(
              th === Number.POSITIVE_INFINITY || theirs.includes(th),
              `feature ${f}: threshold ${th}`,
            );
          }
        }
      }
      const theirMargin = floats(join(d, "margin.bin"));
      const held = rows - train;
      const margin = new Float64Array(held);
      let maxDiff = 0;
      for (let i = 0; i < held; i++) {
        margin[i] = predictMargin(fit.ensemble, X.subarray((train + i) * cols, (train + i + 1) * cols));
        maxDiff = Math.max(maxDiff, Math.abs((margin[i] as number) - (theirMargin[i] as number)));
      }
      const heldLabels = labels.subarray(train);
      const ours = rocAuc(margin, heldLabels);
      let leaves = 0;
      for (const tree of fit.ensemble.trees) for (const f of tree.feature) if (f < 0) leaves++;
      let positives = 0;
      for (const y of heldLabels) positives += y;
      t.diagnostic(
        `${train} training rows, ${held} held out (${positives} positive), ${cols} features: ROC-AUC ours ${ours.toFixed(6)}, ` +
          `scikit-learn ${meta.auc.toFixed(6)}; leaves ours ${leaves}, scikit-learn ${meta.leaves}; max |Δ margin| ${maxDiff.toExponential(2)}`,
      );
      assert.ok(meta.auc > 0.8, `scikit-learn's ROC-AUC ${meta.auc}: the task should be learnable`);
      assert.ok(Math.abs(ours - meta.auc) <= 0.005, `ROC-AUC ours ${ours} vs scikit-learn ${meta.auc}`);
      // Stronger than the AUC bound, and true with Debian's scikit-learn 1.2 / numpy 1.24: the same
      // trees, to the bit. A failure here with the AUC bound met means the arithmetic drifted apart (a
      // scikit-learn upgrade, say), not that our trainer got worse.
      assert.equal(leaves, meta.leaves);
      assert.ok(maxDiff <= 1e-9, `margins differ from scikit-learn's by up to ${maxDiff}`);
    });
  }
});
