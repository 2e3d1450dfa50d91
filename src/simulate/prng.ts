// The draws the simulator needs, over the project's one seeded generator (sfc32 seeded by splitmix32,
// src/model/rng.ts). Same seed, same sequence, on every platform: the simulator's output is
// byte-identical for the same options.
import { Sfc32 } from "../model/rng.ts";

export class Rng extends Sfc32 {
  private spare = Number.NaN;

  /** Uniform in [0, 1) from one 32-bit draw (the simulator's sequence; the model draws 53 bits). */
  override float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + this.float() * (max - min);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)] as T;
  }

  /** Standard normal (Marsaglia polar method, one spare kept). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = Number.NaN;
      return s;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = this.float() * 2 - 1;
      v = this.float() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * m;
    return u * m;
  }

  /** exp(N(mu, sigma)). */
  logNormal(mu: number, sigma: number): number {
    return Math.exp(mu + sigma * this.normal());
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** Index drawn with probability proportional to `cumulative` increments (a prefix-sum array). */
  weighted(cumulative: Float64Array | readonly number[]): number {
    const total = cumulative[cumulative.length - 1] as number;
    const x = this.float() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cumulative[mid] as number) > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** `weighted` of the `length` prefix sums from `offset` on: the same draw, index within the run. */
  weightedAt(cumulative: Float64Array, offset: number, length: number): number {
    const total = cumulative[offset + length - 1] as number;
    const x = this.float() * total;
    let lo = 0;
    let hi = length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cumulative[offset + mid] as number) > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** A random version-4 UUID (from this generator, so reproducible). */
  uuid(): string {
    const h = (n: number, len: number) => n.toString(16).padStart(len, "0");
    const a = this.u32();
    const b = this.u32();
    const c = this.u32();
    const d = this.u32();
    return `${h(a, 8)}-${h(b >>> 16, 4)}-4${h(b & 0xfff, 3)}-${h(0x8000 | ((c >>> 16) & 0x3fff), 4)}-${h(c & 0xffff, 4)}${h(d, 8)}`;
  }
}

/** Prefix sums of `weights`, for Rng.weighted. */
export function cumulative(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  for (let i = 0; i < weights.length; i++) {
    sum += weights[i] as number;
    out[i] = sum;
  }
  return out;
}
