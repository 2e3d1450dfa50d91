// The scoring layouts and traversals tried for IsolationForest before choosing the one in
// src/model/iforest.ts; every variant must give the same path-length sums as the reference walk.
// Figures are recorded in docs/model.md ("Speed").
//
//   node bench/iforest-layouts.ts [--rows N] [--trees N] [--samples N] [--rounds N] [--data features|gauss]
//                                 [--only 1,6,8]
import { parseArgs } from "node:util";
import {
  averagePathLength,
  type ForestState,
  IsolationForest,
  leafPathLength,
  pathLengthSums,
} from "../src/model/iforest.ts";
import { Sfc32 } from "../src/model/rng.ts";
import { DATA_COLUMNS, featureLikeData } from "./iforest-data.ts";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "100000" },
    trees: { type: "string", default: "100" },
    samples: { type: "string", default: "256" },
    rounds: { type: "string", default: "7" },
    only: { type: "string" },
    data: { type: "string", default: "features" },
  },
});
const ROWS = Number(values.rows);
const TREES = Number(values.trees);
const PSI = Number(values.samples);
const ROUNDS = Number(values.rounds);
const W = DATA_COLUMNS;

type Kernel = (X: Float64Array, n: number, sums: Float64Array) => void;

// 1. A plain port of scikit-learn's walk: per row, per tree, follow left/right until a leaf, count the
//    depth, add c(n) at the leaf.
function naive(s: ForestState): Kernel {
  const { nodeOffsets, feature, threshold, left, right, nodeSamples } = s;
  const trees = nodeOffsets.length - 1;
  return (X, n, sums) => {
    for (let i = 0; i < n; i++) {
      const r = i * W;
      let acc = 0;
      for (let t = 0; t < trees; t++) {
        const base = nodeOffsets[t] as number;
        let k = 0;
        let depth = 0;
        while ((left[base + k] as number) !== -1) {
          const g = base + k;
          k =
            (X[r + (feature[g] as number)] as number) <= (threshold[g] as number)
              ? (left[g] as number)
              : (right[g] as number);
          depth++;
        }
        acc += depth + 1 + averagePathLength(nodeSamples[base + k] as number) - 1;
      }
      sums[i] = acc;
    }
  };
}

// 2. The same walk with leaf path lengths precomputed.
function naiveLeaf(s: ForestState): Kernel {
  const { nodeOffsets, feature, threshold, left, right } = s;
  const trees = nodeOffsets.length - 1;
  const value = leafValues(s);
  return (X, n, sums) => {
    for (let i = 0; i < n; i++) {
      const r = i * W;
      let acc = 0;
      for (let t = 0; t < trees; t++) {
        const base = nodeOffsets[t] as number;
        let g = base;
        while ((left[g] as number) !== -1) {
          g =
            base +
            ((X[r + (feature[g] as number)] as number) <= (threshold[g] as number)
              ? (left[g] as number)
              : (right[g] as number));
        }
        acc += value[g] as number;
      }
      sums[i] = acc;
    }
  };
}

function leafValues(s: ForestState): Float64Array {
  const v = new Float64Array(s.feature.length);
  const trees = s.nodeOffsets.length - 1;
  for (let t = 0; t < trees; t++) {
    const from = s.nodeOffsets[t] as number;
    const to = s.nodeOffsets[t + 1] as number;
    const depth = new Int32Array(to - from);
    for (let k = 0; k < to - from; k++) {
      const l = s.left[from + k] as number;
      if (l === -1) v[from + k] = leafPathLength(depth[k] as number, s.nodeSamples[from + k] as number);
      else {
        depth[l] = (depth[k] as number) + 1;
        depth[s.right[from + k] as number] = (depth[k] as number) + 1;
      }
    }
  }
  return v;
}

// 3/4. Breadth-first packed trees with adjacent children, walking until a leaf (feature −1, value in the
//      threshold slot): row-outer, and tree-outer over blocks of rows.
interface Packed {
  feature: Int32Array;
  threshold: Float64Array;
  child: Int32Array;
  roots: Int32Array;
}
function packed(s: ForestState): Packed {
  const n = s.feature.length;
  const trees = s.nodeOffsets.length - 1;
  const feature = new Int32Array(n);
  const threshold = new Float64Array(n);
  const child = new Int32Array(n);
  const roots = new Int32Array(trees);
  const value = leafValues(s);
  for (let t = 0; t < trees; t++) {
    const from = s.nodeOffsets[t] as number;
    const size = (s.nodeOffsets[t + 1] as number) - from;
    const order = new Int32Array(size);
    roots[t] = from;
    let next = 1;
    for (let slot = 0; slot < size; slot++) {
      const g = from + (order[slot] as number);
      const l = s.left[g] as number;
      if (l === -1) {
        feature[from + slot] = -1;
        threshold[from + slot] = value[g] as number;
        continue;
      }
      feature[from + slot] = s.feature[g] as number;
      threshold[from + slot] = s.threshold[g] as number;
      child[from + slot] = from + next;
      order[next++] = l;
      order[next++] = s.right[g] as number;
    }
  }
  return { feature, threshold, child, roots };
}
function packedRowOuter(s: ForestState): Kernel {
  const { feature, threshold, child, roots } = packed(s);
  const trees = roots.length;
  return (X, n, sums) => {
    for (let i = 0; i < n; i++) {
      const r = i * W;
      let acc = 0;
      for (let t = 0; t < trees; t++) {
        let k = roots[t] as number;
        let f = feature[k] as number;
        while (f >= 0) {
          k = (child[k] as number) + +((X[r + f] as number) > (threshold[k] as number));
          f = feature[k] as number;
        }
        acc += threshold[k] as number;
      }
      sums[i] = acc;
    }
  };
}
function packedTreeOuter(s: ForestState, block: number): Kernel {
  const { feature, threshold, child, roots } = packed(s);
  const trees = roots.length;
  return (X, n, sums) => {
    sums.fill(0, 0, n);
    for (let start = 0; start < n; start += block) {
      const end = Math.min(n, start + block);
      for (let t = 0; t < trees; t++) {
        const root = roots[t] as number;
        for (let i = start; i < end; i++) {
          const r = i * W;
          let k = root;
          let f = feature[k] as number;
          while (f >= 0) {
            k = (child[k] as number) + +((X[r + f] as number) > (threshold[k] as number));
            f = feature[k] as number;
          }
          sums[i] = (sums[i] as number) + (threshold[k] as number);
        }
      }
    }
  };
}

// Fixed-depth layouts: every walk runs `depth` steps and never tests for a leaf (padding below early
// leaves keeps it in place), so there is no branch per step.
//
// "Complete": each tree is a complete binary tree of depth D in breadth-first order, children of slot s
// at 2s+1 and 2s+2, leaves at slots 2^D − 1 … 2^(D+1) − 2; an early leaf is padded below with
// pass-through slots (threshold +∞) whose leaves all carry its value.
interface Complete {
  trees: number;
  depth: number;
  stride: number;
  leafStride: number;
  feature: Int32Array;
  threshold: Float64Array;
  leaf: Float64Array;
}
function depthsOf(s: ForestState, t: number): Int32Array {
  const from = s.nodeOffsets[t] as number;
  const to = s.nodeOffsets[t + 1] as number;
  const depths = new Int32Array(to - from);
  for (let k = 0; k < to - from; k++) {
    const l = s.left[from + k] as number;
    if (l === -1) continue;
    depths[l] = (depths[k] as number) + 1;
    depths[s.right[from + k] as number] = (depths[k] as number) + 1;
  }
  return depths;
}
function compileComplete(s: ForestState): Complete {
  const trees = s.nodeOffsets.length - 1;
  let depth = 0;
  for (let t = 0; t < trees; t++) depth = Math.max(depth, ...depthsOf(s, t));
  const stride = 2 ** depth - 1;
  const leafStride = 2 ** depth;
  const feature = new Int32Array(trees * stride);
  const threshold = new Float64Array(trees * stride).fill(Number.POSITIVE_INFINITY);
  const leaf = new Float64Array(trees * leafStride);
  for (let t = 0; t < trees; t++) {
    const from = s.nodeOffsets[t] as number;
    const depths = depthsOf(s, t);
    const place = (k: number, slot: number): void => {
      const g = from + k;
      const l = s.left[g] as number;
      if (l !== -1) {
        feature[t * stride + slot] = s.feature[g] as number;
        threshold[t * stride + slot] = s.threshold[g] as number;
        place(l, 2 * slot + 1);
        place(s.right[g] as number, 2 * slot + 2);
        return;
      }
      const below = depth - (depths[k] as number);
      const first = (slot + 1) * 2 ** below - 1 - stride;
      const value = leafPathLength(depths[k] as number, s.nodeSamples[g] as number);
      leaf.fill(value, t * leafStride + first, t * leafStride + first + 2 ** below);
    };
    place(0, 0);
  }
  return { trees, depth, stride, leafStride, feature, threshold, leaf };
}

// 6. Complete layout, four rows in lockstep, tree-outer over blocks; `branchy` converts the comparison
//    with `? 1 : 0`, which V8 compiles to a (mispredicted half the time) branch instead of setcc.
function completeFourRows(c: Complete, block: number, branchy = false): Kernel {
  const { feature, threshold, leaf, depth, stride, leafStride, trees } = c;
  return (X, n, sums) => {
    sums.fill(0, 0, n);
    for (let start = 0; start < n; start += block) {
      const end = Math.min(n, start + block);
      for (let t = 0, fb = 0, lb = -stride; t < trees; t++, fb += stride, lb += leafStride) {
        let i = start;
        for (; i + 4 <= end; i += 4) {
          const r0 = i * W;
          const r1 = r0 + W;
          const r2 = r1 + W;
          const r3 = r2 + W;
          let a = 0;
          let b = 0;
          let e = 0;
          let d = 0;
          for (let level = 0; level < depth; level++) {
            const ka = fb + a;
            const kb = fb + b;
            const ke = fb + e;
            const kd = fb + d;
            if (branchy) {
              a =
                2 * a + 1 + ((X[r0 + (feature[ka] as number)] as number) > (threshold[ka] as number) ? 1 : 0);
              b =
                2 * b + 1 + ((X[r1 + (feature[kb] as number)] as number) > (threshold[kb] as number) ? 1 : 0);
              e =
                2 * e + 1 + ((X[r2 + (feature[ke] as number)] as number) > (threshold[ke] as number) ? 1 : 0);
              d =
                2 * d + 1 + ((X[r3 + (feature[kd] as number)] as number) > (threshold[kd] as number) ? 1 : 0);
            } else {
              a = 2 * a + 1 + +((X[r0 + (feature[ka] as number)] as number) > (threshold[ka] as number));
              b = 2 * b + 1 + +((X[r1 + (feature[kb] as number)] as number) > (threshold[kb] as number));
              e = 2 * e + 1 + +((X[r2 + (feature[ke] as number)] as number) > (threshold[ke] as number));
              d = 2 * d + 1 + +((X[r3 + (feature[kd] as number)] as number) > (threshold[kd] as number));
            }
          }
          sums[i] = (sums[i] as number) + (leaf[lb + a] as number);
          sums[i + 1] = (sums[i + 1] as number) + (leaf[lb + b] as number);
          sums[i + 2] = (sums[i + 2] as number) + (leaf[lb + e] as number);
          sums[i + 3] = (sums[i + 3] as number) + (leaf[lb + d] as number);
        }
        for (; i < end; i++) {
          const r = i * W;
          let a = 0;
          for (let level = 0; level < depth; level++) {
            const k = fb + a;
            a = 2 * a + 1 + +((X[r + (feature[k] as number)] as number) > (threshold[k] as number));
          }
          sums[i] = (sums[i] as number) + (leaf[lb + a] as number);
        }
      }
    }
  };
}

// 8/12. Packed fixed depth: only real nodes, breadth-first, children adjacent, a leaf is its own child
//       behind a +∞ threshold (so 2ψ slots instead of 2^(D+1)); four rows in lockstep, row-major X.
//       `absolute`: child holds the slot's absolute index (one add fewer per step) instead of one
//       relative to the tree.
function fixedPacked(s: ForestState, absolute: boolean): Kernel {
  const trees = s.nodeOffsets.length - 1;
  let stride = 0;
  let depth = 0;
  for (let t = 0; t < trees; t++) {
    stride = Math.max(stride, (s.nodeOffsets[t + 1] as number) - (s.nodeOffsets[t] as number));
    depth = Math.max(depth, ...depthsOf(s, t));
  }
  const feature = new Int32Array(trees * stride);
  const threshold = new Float64Array(trees * stride).fill(Number.POSITIVE_INFINITY);
  const child = new Int32Array(trees * stride);
  const leaf = new Float64Array(trees * stride);
  for (let t = 0; t < trees; t++) {
    const from = s.nodeOffsets[t] as number;
    const size = (s.nodeOffsets[t + 1] as number) - from;
    const depths = depthsOf(s, t);
    const order = new Int32Array(size);
    const base = t * stride;
    let next = 1;
    for (let slot = 0; slot < size; slot++) {
      const g = from + (order[slot] as number);
      const l = s.left[g] as number;
      if (l === -1) {
        child[base + slot] = (absolute ? base : 0) + slot;
        leaf[base + slot] = leafPathLength(
          depths[order[slot] as number] as number,
          s.nodeSamples[g] as number,
        );
        continue;
      }
      feature[base + slot] = s.feature[g] as number;
      threshold[base + slot] = s.threshold[g] as number;
      child[base + slot] = (absolute ? base : 0) + next;
      order[next++] = l;
      order[next++] = s.right[g] as number;
    }
  }
  const rel = absolute ? 0 : 1;
  return (X, n, sums) => {
    sums.fill(0, 0, n);
    for (let start = 0; start < n; start += 256) {
      const end = Math.min(n, start + 256);
      for (let t = 0, fb = 0; t < trees; t++, fb += stride) {
        const add = fb * rel;
        let i = start;
        for (; i + 4 <= end; i += 4) {
          const r0 = i * W;
          const r1 = r0 + W;
          const r2 = r1 + W;
          const r3 = r2 + W;
          let a = fb;
          let b = fb;
          let e = fb;
          let d = fb;
          for (let level = 0; level < depth; level++) {
            a =
              add +
              (child[a] as number) +
              +((X[r0 + (feature[a] as number)] as number) > (threshold[a] as number));
            b =
              add +
              (child[b] as number) +
              +((X[r1 + (feature[b] as number)] as number) > (threshold[b] as number));
            e =
              add +
              (child[e] as number) +
              +((X[r2 + (feature[e] as number)] as number) > (threshold[e] as number));
            d =
              add +
              (child[d] as number) +
              +((X[r3 + (feature[d] as number)] as number) > (threshold[d] as number));
          }
          sums[i] = (sums[i] as number) + (leaf[a] as number);
          sums[i + 1] = (sums[i + 1] as number) + (leaf[b] as number);
          sums[i + 2] = (sums[i + 2] as number) + (leaf[e] as number);
          sums[i + 3] = (sums[i + 3] as number) + (leaf[d] as number);
        }
        for (; i < end; i++) {
          const r = i * W;
          let a = fb;
          for (let level = 0; level < depth; level++) {
            a =
              add +
              (child[a] as number) +
              +((X[r + (feature[a] as number)] as number) > (threshold[a] as number));
          }
          sums[i] = (sums[i] as number) + (leaf[a] as number);
        }
      }
    }
  };
}

// 5. Complete layout, fixed depth, one row at a time, tree-outer over blocks.
function completeOneRow(c: Complete, block: number): Kernel {
  const { feature, threshold, leaf, depth, stride, leafStride, trees } = c;
  return (X, n, sums) => {
    sums.fill(0, 0, n);
    for (let start = 0; start < n; start += block) {
      const end = Math.min(n, start + block);
      for (let t = 0, fb = 0, lb = -stride; t < trees; t++, fb += stride, lb += leafStride) {
        for (let i = start; i < end; i++) {
          const r = i * W;
          let a = 0;
          for (let level = 0; level < depth; level++) {
            const k = fb + a;
            a = 2 * a + 1 + +((X[r + (feature[k] as number)] as number) > (threshold[k] as number));
          }
          sums[i] = (sums[i] as number) + (leaf[lb + a] as number);
        }
      }
    }
  };
}

// 7. Complete layout, eight rows in lockstep.
function completeEightRows(c: Complete, block: number): Kernel {
  const { feature, threshold, leaf, depth, stride, leafStride, trees } = c;
  return (X, n, sums) => {
    sums.fill(0, 0, n);
    for (let start = 0; start < n; start += block) {
      const end = Math.min(n, start + block);
      for (let t = 0, fb = 0, lb = -stride; t < trees; t++, fb += stride, lb += leafStride) {
        let i = start;
        for (; i + 8 <= end; i += 8) {
          const r0 = i * W;
          let a0 = 0;
          let a1 = 0;
          let a2 = 0;
          let a3 = 0;
          let a4 = 0;
          let a5 = 0;
          let a6 = 0;
          let a7 = 0;
          for (let level = 0; level < depth; level++) {
            let k = fb + a0;
            a0 = 2 * a0 + 1 + +((X[r0 + (feature[k] as number)] as number) > (threshold[k] as number));
            k = fb + a1;
            a1 = 2 * a1 + 1 + +((X[r0 + W + (feature[k] as number)] as number) > (threshold[k] as number));
            k = fb + a2;
            a2 =
              2 * a2 + 1 + +((X[r0 + 2 * W + (feature[k] as number)] as number) > (threshold[k] as number));
            k = fb + a3;
            a3 =
              2 * a3 + 1 + +((X[r0 + 3 * W + (feature[k] as number)] as number) > (threshold[k] as number));
            k = fb + a4;
            a4 =
              2 * a4 + 1 + +((X[r0 + 4 * W + (feature[k] as number)] as number) > (threshold[k] as number));
            k = fb + a5;
            a5 =
              2 * a5 + 1 + +((X[r0 + 5 * W + (feature[k] as number)] as number) > (threshold[k] as number));
            k = fb + a6;
            a6 =
              2 * a6 + 1 + +((X[r0 + 6 * W + (feature[k] as number)] as number) > (threshold[k] as number));
            k = fb + a7;
            a7 =
              2 * a7 + 1 + +((X[r0 + 7 * W + (feature[k] as number)] as number) > (threshold[k] as number));
          }
          sums[i] = (sums[i] as number) + (leaf[lb + a0] as number);
          sums[i + 1] = (sums[i + 1] as number) + (leaf[lb + a1] as number);
          sums[i + 2] = (sums[i + 2] as number) + (leaf[lb + a2] as number);
          sums[i + 3] = (sums[i + 3] as number) + (leaf[lb + a3] as number);
          sums[i + 4] = (sums[i + 4] as number) + (leaf[lb + a4] as number);
          sums[i + 5] = (sums[i + 5] as number) + (leaf[lb + a5] as number);
          sums[i + 6] = (sums[i + 6] as number) + (leaf[lb + a6] as number);
          sums[i + 7] = (sums[i + 7] as number) + (leaf[lb + a7] as number);
        }
        for (; i < end; i++) {
          const r = i * W;
          let a = 0;
          for (let level = 0; level < depth; level++) {
            const k = fb + a;
            a = 2 * a + 1 + +((X[r + (feature[k] as number)] as number) > (threshold[k] as number));
          }
          sums[i] = (sums[i] as number) + (leaf[lb + a] as number);
        }
      }
    }
  };
}

// 9. Complete layout with threshold and feature interleaved in one Float64Array (one cache line per
//    four nodes instead of two arrays), four rows in lockstep.
function completeInterleaved(c: Complete, block: number): Kernel {
  const { feature, threshold, leaf, depth, stride, leafStride, trees } = c;
  const nodes = new Float64Array(2 * feature.length);
  for (let k = 0; k < feature.length; k++) {
    nodes[2 * k] = threshold[k] as number;
    nodes[2 * k + 1] = feature[k] as number;
  }
  return (X, n, sums) => {
    sums.fill(0, 0, n);
    for (let start = 0; start < n; start += block) {
      const end = Math.min(n, start + block);
      for (let t = 0, fb = 0, lb = -stride; t < trees; t++, fb += 2 * stride, lb += leafStride) {
        let i = start;
        for (; i + 4 <= end; i += 4) {
          const r0 = i * W;
          let a = 0;
          let b = 0;
          let e = 0;
          let d = 0;
          for (let level = 0; level < depth; level++) {
            let k = fb + 2 * a;
            a = 2 * a + 1 + +((X[r0 + (nodes[k + 1] as number)] as number) > (nodes[k] as number));
            k = fb + 2 * b;
            b = 2 * b + 1 + +((X[r0 + W + (nodes[k + 1] as number)] as number) > (nodes[k] as number));
            k = fb + 2 * e;
            e = 2 * e + 1 + +((X[r0 + 2 * W + (nodes[k + 1] as number)] as number) > (nodes[k] as number));
            k = fb + 2 * d;
            d = 2 * d + 1 + +((X[r0 + 3 * W + (nodes[k + 1] as number)] as number) > (nodes[k] as number));
          }
          sums[i] = (sums[i] as number) + (leaf[lb + a] as number);
          sums[i + 1] = (sums[i + 1] as number) + (leaf[lb + b] as number);
          sums[i + 2] = (sums[i + 2] as number) + (leaf[lb + e] as number);
          sums[i + 3] = (sums[i + 3] as number) + (leaf[lb + d] as number);
        }
        for (; i < end; i++) {
          const r = i * W;
          let a = 0;
          for (let level = 0; level < depth; level++) {
            const k = fb + 2 * a;
            a = 2 * a + 1 + +((X[r + (nodes[k + 1] as number)] as number) > (nodes[k] as number));
          }
          sums[i] = (sums[i] as number) + (leaf[lb + a] as number);
        }
      }
    }
  };
}

// 10. Complete layout, four rows, Uint8Array features (fewer bytes per node).
function completeUint8(c: Complete, block: number): Kernel {
  const { threshold, leaf, depth, stride, leafStride, trees } = c;
  const feature = Uint8Array.from(c.feature);
  return (X, n, sums) => {
    sums.fill(0, 0, n);
    for (let start = 0; start < n; start += block) {
      const end = Math.min(n, start + block);
      for (let t = 0, fb = 0, lb = -stride; t < trees; t++, fb += stride, lb += leafStride) {
        let i = start;
        for (; i + 4 <= end; i += 4) {
          const r0 = i * W;
          let a = 0;
          let b = 0;
          let e = 0;
          let d = 0;
          for (let level = 0; level < depth; level++) {
            let k = fb + a;
            a = 2 * a + 1 + +((X[r0 + (feature[k] as number)] as number) > (threshold[k] as number));
            k = fb + b;
            b = 2 * b + 1 + +((X[r0 + W + (feature[k] as number)] as number) > (threshold[k] as number));
            k = fb + e;
            e = 2 * e + 1 + +((X[r0 + 2 * W + (feature[k] as number)] as number) > (threshold[k] as number));
            k = fb + d;
            d = 2 * d + 1 + +((X[r0 + 3 * W + (feature[k] as number)] as number) > (threshold[k] as number));
          }
          sums[i] = (sums[i] as number) + (leaf[lb + a] as number);
          sums[i + 1] = (sums[i + 1] as number) + (leaf[lb + b] as number);
          sums[i + 2] = (sums[i + 2] as number) + (leaf[lb + e] as number);
          sums[i + 3] = (sums[i + 3] as number) + (leaf[lb + d] as number);
        }
        for (; i < end; i++) {
          const r = i * W;
          let a = 0;
          for (let level = 0; level < depth; level++) {
            const k = fb + a;
            a = 2 * a + 1 + +((X[r + (feature[k] as number)] as number) > (threshold[k] as number));
          }
          sums[i] = (sums[i] as number) + (leaf[lb + a] as number);
        }
      }
    }
  };
}

// 11. Level-synchronous: one tree level at a time over the whole block (no dependency between
//     consecutive iterations, so the CPU overlaps many rows), positions kept in a scratch array.
function levelSync(c: Complete, block: number): Kernel {
  const { feature, threshold, leaf, depth, stride, leafStride, trees } = c;
  const pos = new Int32Array(block);
  return (X, n, sums) => {
    sums.fill(0, 0, n);
    for (let start = 0; start < n; start += block) {
      const m = Math.min(block, n - start);
      const r0 = start * W;
      for (let t = 0, fb = 0, lb = -stride; t < trees; t++, fb += stride, lb += leafStride) {
        const f0 = feature[fb] as number;
        const t0 = threshold[fb] as number;
        for (let i = 0, r = r0 + f0; i < m; i++, r += W) pos[i] = 1 + +((X[r] as number) > t0);
        for (let level = 1; level < depth; level++) {
          for (let i = 0, r = r0; i < m; i++, r += W) {
            const k = fb + (pos[i] as number);
            pos[i] =
              2 * (pos[i] as number) +
              1 +
              +((X[r + (feature[k] as number)] as number) > (threshold[k] as number));
          }
        }
        for (let i = 0; i < m; i++)
          sums[start + i] = (sums[start + i] as number) + (leaf[lb + (pos[i] as number)] as number);
      }
    }
  };
}

// 13. The library (src/model/iforest.ts): packed fixed depth with absolute children, the block copied
//     column-major into a scratch buffer (feature offsets premultiplied, one row register for all
//     lanes), eight rows in lockstep, then four, then one.
function library(f: IsolationForest): Kernel {
  return (X, n, sums) => {
    sums.fill(0, 0, n);
    pathLengthSums(f.layout, X, n, sums);
  };
}

// "features": shaped like the worker's vectors (skewed, many discrete columns: sparse trees);
// "gauss": independent normals (balanced trees, close to 2ψ nodes each).
const X = values.data === "gauss" ? gaussian(ROWS * W, 7) : featureLikeData(ROWS, 7).X;

function gaussian(n: number, seed: number): Float64Array {
  const r = new Sfc32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++)
    out[i] = Math.sqrt(-2 * Math.log(1 - r.float())) * Math.cos(2 * Math.PI * r.float());
  return out;
}
const forest = new IsolationForest({ nEstimators: TREES, maxSamples: PSI, seed: 1 }).fit(X, ROWS, W);
const s = forest.state;
const complete = compileComplete(s);
console.log(
  `${ROWS.toLocaleString("en")} rows × ${W} columns (${values.data}), ${TREES} trees, ψ = ${PSI}, depth ${complete.depth}, ` +
    `${s.feature.length.toLocaleString("en")} nodes; complete layout ${((complete.feature.length * 12 + complete.leaf.length * 8) / 1024) | 0} KiB, ` +
    `library ${((s.feature.length * 24) / 1024) | 0} KiB`,
);

const variants: [string, Kernel][] = [
  ["1 naive port (row-outer, left/right, c(n) at run time)", naive(s)],
  ["2 naive port, leaf values precomputed", naiveLeaf(s)],
  ["3 packed BFS, adjacent children, walk to leaf, row-outer", packedRowOuter(s)],
  ["4 packed BFS, walk to leaf, tree-outer, block 256", packedTreeOuter(s, 256)],
  ["5 complete, fixed depth, 1 row, tree-outer, block 256", completeOneRow(complete, 256)],
  ["6t complete, 4 rows lockstep, `? 1 : 0` (a branch), block 256", completeFourRows(complete, 256, true)],
  ["6 complete, 4 rows lockstep, +(x > t) (setcc), block 256", completeFourRows(complete, 256)],
  ["6b same, block 64", completeFourRows(complete, 64)],
  ["6c same, block 1024", completeFourRows(complete, 1024)],
  ["6d same, block = all rows", completeFourRows(complete, ROWS)],
  ["7 complete, 8 rows lockstep, block 256", completeEightRows(complete, 256)],
  ["8 packed fixed depth, relative children, 4 rows", fixedPacked(s, false)],
  ["9 complete, threshold+feature interleaved, 4 rows", completeInterleaved(complete, 256)],
  ["10 complete, Uint8 features, 4 rows", completeUint8(complete, 256)],
  ["11 complete, level-synchronous over block 256", levelSync(complete, 256)],
  ["11b level-synchronous, block 64", levelSync(complete, 64)],
  ["11c level-synchronous, block 1024", levelSync(complete, 1024)],
  ["12 packed fixed depth, absolute children, 4 rows", fixedPacked(s, true)],
  [`13 library: 12 + column-major block of ${forest.layout.blockRows}, 8 rows`, library(forest)],
];

const reference = new Float64Array(ROWS);
naive(s)(X, ROWS, reference);
const sums = new Float64Array(ROWS);
const only = values.only?.split(",");
for (const [name, kernel] of variants) {
  if (only !== undefined && !only.some((o) => name.startsWith(`${o} `))) continue;
  kernel(X, ROWS, sums);
  let maxDiff = 0;
  for (let i = 0; i < ROWS; i++)
    maxDiff = Math.max(maxDiff, Math.abs((sums[i] as number) - (reference[i] as number)));
  if (maxDiff > 1e-9) throw new Error(`${name}: differs from the reference by ${maxDiff}`);
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // CPU time of this (single-threaded) process, not wall time: the figures should not depend on what
    // else the machine runs; the kernels allocate nothing, so no GC thread time is counted.
    const t = process.cpuUsage();
    kernel(X, ROWS, sums);
    const used = process.cpuUsage(t);
    rates.push(ROWS / ((used.user + used.system) / 1e6));
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(ROUNDS / 2)] as number;
  const best = rates[ROUNDS - 1] as number;
  const fmt = (v: number) => Math.round(v).toLocaleString("en").padStart(10);
  console.log(`${name.padEnd(70)} best ${fmt(best)}  median ${fmt(median)} rows/s (CPU time)`);
}
