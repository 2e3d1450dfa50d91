// Synthetic labelled data for the boosted-trees benchmark: columns of the kinds fraud features have
// (skewed amounts, counts, hours, 0/1 flags, small category codes, ratios with missing values) and a
// label drawn from a logistic model with interactions and thresholds, ~4 % positives, so that trees
// have real structure to find and every split path (missing values included) is exercised.
import { Sfc32 } from "../src/model/rng.ts";

function normal(r: Sfc32): number {
  let u = r.float();
  while (u === 0) u = r.float();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.float());
}

/** `rows` × `cols` values, row-major (NaN = missing), and a 0/1 label per row. */
export function labelledData(
  rows: number,
  cols: number,
  seed: number,
): { X: Float64Array; labels: Uint8Array } {
  const r = new Sfc32(seed);
  const X = new Float64Array(rows * cols);
  const labels = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) {
      let v: number;
      switch (j % 8) {
        case 0:
          v = Math.round(Math.exp(normal(r) * 1.2 + 3.5) * 100) / 100; // amount
          break;
        case 1:
          v = Math.floor(Math.exp(normal(r) * 0.9 + 1)); // count
          break;
        case 2:
          v = Math.floor(r.float() * 24); // hour
          break;
        case 3:
          v = r.float() < 0.15 ? 1 : 0; // flag
          break;
        case 4:
          v = Math.floor(r.float() * 7); // category code
          break;
        case 5:
          v = r.float() < 0.2 ? Number.NaN : normal(r); // ratio, often missing
          break;
        case 6:
          v = normal(r);
          break;
        default:
          v = r.float() * 1000;
      }
      X[o + j] = v;
    }
    // The label depends on a handful of columns, non-linearly.
    const amount = X[o] as number;
    const count = X[o + 1] as number;
    const hour = X[o + 2] as number;
    const flag = X[o + 3] as number;
    const ratio = X[o + 5] as number;
    const z = cols > 6 ? (X[o + 6] as number) : 0;
    let m = -4.2;
    m += amount > 150 ? 1.2 : 0;
    m += Math.min(count, 10) * 0.15;
    m += hour < 6 ? 0.9 : 0;
    m += flag * (amount > 80 ? 1.5 : 0.3);
    m += Number.isNaN(ratio) ? 0.6 : ratio * 0.4;
    m += z * z * 0.25 - 0.25;
    labels[i] = r.float() < 1 / (1 + Math.exp(-m)) ? 1 : 0;
  }
  return { X, labels };
}
