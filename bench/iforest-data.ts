// Synthetic data shaped like the worker's feature vectors, for the isolation forest benchmarks: one
// column per registered feature (30), drawn by the feature's type: 0/1 flags, small category codes,
// integer counts, skewed amounts. 1 % of rows are planted anomalies with a few columns far out.
import { FEATURES } from "../src/features/registry.ts";
import { Sfc32 } from "../src/model/rng.ts";

export const DATA_COLUMNS = FEATURES.length;
export const DATA_FEATURE_NAMES: readonly string[] = FEATURES.map((f) => f.name);

function normal(r: Sfc32): number {
  let u = r.float();
  while (u === 0) u = r.float();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.float());
}

/** `rows` × DATA_COLUMNS values, row-major, and a 0/1 label per row (1 = planted anomaly). */
export function featureLikeData(rows: number, seed: number): { X: Float64Array; labels: Uint8Array } {
  const r = new Sfc32(seed);
  const w = DATA_COLUMNS;
  const X = new Float64Array(rows * w);
  const labels = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const anomaly = r.float() < 0.01;
    labels[i] = anomaly ? 1 : 0;
    for (let j = 0; j < w; j++) {
      const f = FEATURES[j];
      let v: number;
      if (f === undefined) v = 0;
      else if (f.type === "boolean") v = r.float() < 0.1 + (j % 3) * 0.1 ? 1 : 0;
      else if (f.type === "category") v = Math.floor(r.float() * 6) - (r.float() < 0.05 ? 1 : 0);
      else if (f.unit === "count") v = Math.floor(Math.exp(normal(r) * 0.8 + (j % 4)));
      else if (f.unit === "hour 0-23") v = Math.floor(r.float() * 24);
      else if (f.unit === "day 0-6") v = Math.floor(r.float() * 7);
      else v = Math.exp(normal(r) + 3 + (j % 5) * 0.5);
      if (anomaly && j % 7 === i % 7) v = v * 20 + 1000;
      X[i * w + j] = v;
    }
  }
  return { X, labels };
}
