// A starter model for a fresh installation (the demo): an isolation forest trained on simulated traffic
// through the worker's own feature engine, so that decisions come from a real model from the first
// event. A real deployment trains on its own history (`fraudstream model train`) and promotes that.
import { parseEventTime, type Transaction } from "../contract/transaction.ts";
import { FeatureEngine } from "../features/engine.ts";
import { FEATURE_NAMES, FEATURE_SET_VERSION } from "../features/registry.ts";
import { evaluate } from "../model/evaluate.ts";
import { saveModel } from "../model/format.ts";
import { IsolationForest } from "../model/iforest.ts";
import { createSimulator } from "../simulate/index.ts";

export interface StarterOptions {
  events: number;
  users: number;
  seed: number;
  allowedLatenessMs: number;
  stateTtlMs: number;
  /** Stamped into the file (the core reads no clock). */
  trainedAt: string;
}

/** Returns the model file text; its version is `starter-<seed>-<events>`. */
export function trainStarterModel(opts: StarterOptions): string {
  const sim = createSimulator({ users: opts.users, seed: opts.seed, fraudRate: 0.05 });
  const engine = new FeatureEngine({
    allowedLatenessMs: opts.allowedLatenessMs,
    stateTtlMs: opts.stateTtlMs,
  });
  const width = FEATURE_NAMES.length;
  const events: Transaction[] = Array.from({ length: opts.events }, () => sim.next());
  const times = Float64Array.from(events, (e) => parseEventTime(e.timestamp));
  const all = new Float64Array(events.length * width);
  const status = new Uint8Array(events.length);
  engine.processBatch(events, times, all, status);
  // Late events carry no features; keep the rest (and their labels) only.
  const keep: number[] = [];
  for (let i = 0; i < events.length; i++) if (status[i] === 0) keep.push(i);
  const X = new Float64Array(keep.length * width);
  const labels = new Uint8Array(keep.length);
  keep.forEach((i, r) => {
    X.set(all.subarray(i * width, (i + 1) * width), r * width);
    labels[r] =
      (events[i] as Transaction).is_fraud === 1 || (events[i] as Transaction).is_fraud === true ? 1 : 0;
  });
  const forest = new IsolationForest({ nEstimators: 100, seed: opts.seed }).fit(X, keep.length, width);
  const scores = new Float64Array(keep.length);
  forest.anomalyScores(X, keep.length, scores);
  return saveModel(forest, {
    modelVersion: `starter-${opts.seed}-${opts.events}`,
    featureNames: FEATURE_NAMES,
    featureSetVersion: FEATURE_SET_VERSION,
    training: {
      rows: keep.length,
      timeRange: {
        from: new Date(times[0] as number).toISOString(),
        to: new Date(times[times.length - 1] as number).toISOString(),
      },
      trainedAt: opts.trainedAt,
      trainer: "fraudstream",
      source: `simulated traffic (seed ${opts.seed}, ${opts.users} users), in-sample metrics`,
    },
    metrics: evaluate(scores, labels, { threshold: -forest.offset }),
  });
}
