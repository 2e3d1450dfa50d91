// Seeded data for the model's unit tests (not used by the product).
import { Sfc32 } from "./rng.ts";

/** Standard normal draws (Box–Muller), deterministic for the generator's seed. */
export function normal(r: Sfc32): number {
  let u = r.float();
  while (u === 0) u = r.float();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.float());
}

/** n rows × cols columns of independent standard normals, row-major. */
export function gaussianRows(n: number, cols: number, seed: number): Float64Array {
  const r = new Sfc32(seed);
  const X = new Float64Array(n * cols);
  for (let i = 0; i < X.length; i++) X[i] = normal(r);
  return X;
}
