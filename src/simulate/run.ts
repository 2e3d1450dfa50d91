// Drives a simulator into a destination in batches: as fast as the destination takes them, or paced in
// real time. Shared by `fraudstream simulate` and the benchmark, so the benchmark measures the command's
// own path. The destination (file, stdout, Kafka) is the caller's.
import { setTimeout as sleep } from "node:timers/promises";
import { MAX_LINE_BYTES, type Simulator } from "./index.ts";
import { createPacer } from "./pace.ts";

/** Where serialized events go. `write` resolves when the destination can take more. */
export interface EventWriter {
  /** JSON lines (no newline) and their record keys (user_id), index for index. */
  write(lines: string[], keys: string[]): Promise<void>;
  /**
   * Lines as UTF-8, each ending in "\n" (files and stdout, which need no keys). The bytes are the
   * caller's again once the promise resolves: a writer that keeps them copies them. When present,
   * runSimulation writes through this and not `write`.
   */
  writeBytes?(bytes: Uint8Array): Promise<void>;
}

/**
 * Bytes gathered before a writeBytes call: one buffer for the whole run, written when this full. Small
 * enough to stay in the core's 2 MiB L2 cache with the population's hot data while the kernel copies
 * it out: 256 KiB wrote ~8 % more events/s to a file than 1 MiB (docs/simulator.md, "Performance").
 */
const BYTE_BUFFER = 256 * 1024;

export interface RunOptions {
  /** Stop after this many events. */
  count?: number;
  /**
   * Stop after this much time, ms. Without `rate`, simulated event time past the simulator's `start`
   * (deterministic: the same seed gives the same file); with `rate`, wall time.
   */
  durationMs?: number;
  /** Events per second, paced against the wall clock; undefined = as fast as possible. */
  rate?: number;
  /** Events per write (default 2000). */
  batchSize?: number;
  signal?: AbortSignal;
  /** Called after each batch with the events produced so far and the wall time spent. */
  onProgress?(produced: number, elapsedMs: number): void;
  /** Wall clock (ms); injectable for tests. */
  now?: () => number;
  wait?: (ms: number) => Promise<unknown>;
}

/** What was written (an event generated past the end of `durationMs` is not). */
export interface RunResult {
  produced: number;
  fraud: number;
  byScenario: Record<string, number>;
  elapsedMs: number;
}

export async function runSimulation(
  simulator: Simulator,
  writer: EventWriter,
  opts: RunOptions = {},
): Promise<RunResult> {
  const now = opts.now ?? (() => performance.now());
  const wait = opts.wait ?? sleep;
  const total = opts.count ?? Number.POSITIVE_INFINITY;
  const batchSize = opts.batchSize ?? 2000;
  const rate = opts.rate;
  const pacer = rate === undefined ? undefined : createPacer(rate, { now, wait });
  const started = now();
  const wallDeadline =
    rate !== undefined && opts.durationMs !== undefined
      ? started + opts.durationMs
      : Number.POSITIVE_INFINITY;
  const eventDeadline =
    rate === undefined && opts.durationMs !== undefined
      ? simulator.options.start + opts.durationMs
      : Number.POSITIVE_INFINITY;
  let produced = 0;
  let fraud = 0;
  const byScenario: Record<string, number> = {};
  let finished = false;
  const writeBytes = writer.writeBytes?.bind(writer);
  const bytes = writeBytes === undefined ? undefined : Buffer.allocUnsafeSlow(BYTE_BUFFER + MAX_LINE_BYTES);
  const flushAt = BYTE_BUFFER;
  let pos = 0;
  while (!finished && produced < total && !opts.signal?.aborted) {
    let n = Math.min(batchSize, total - produced);
    if (pacer !== undefined) {
      if (now() >= wallDeadline) break;
      const due = pacer.due(produced);
      if (due <= 0) {
        await pacer.wait(produced);
        continue;
      }
      n = Math.min(n, due);
    }
    if (bytes !== undefined && writeBytes !== undefined) {
      let i = 0;
      for (; i < n; i++) {
        if (pos > flushAt) {
          await writeBytes(bytes.subarray(0, pos));
          pos = 0;
        }
        const end = simulator.nextInto(bytes, pos);
        if (simulator.clock() >= eventDeadline) {
          finished = true;
          break;
        }
        pos = end;
        const fraudType = simulator.lastFraudType();
        if (fraudType !== null) {
          fraud++;
          byScenario[fraudType] = (byScenario[fraudType] ?? 0) + 1;
        }
      }
      // Paced events go out with their batch; unpaced ones when the buffer is full, or at the end.
      if (pos > 0 && pacer !== undefined) {
        await writeBytes(bytes.subarray(0, pos));
        pos = 0;
      }
      produced += i;
      opts.onProgress?.(produced, now() - started);
      continue;
    }
    const lines: string[] = [];
    const keys: string[] = [];
    for (let i = 0; i < n; i++) {
      const e = simulator.nextLine();
      if (simulator.clock() >= eventDeadline) {
        finished = true;
        break;
      }
      lines.push(e.line);
      keys.push(e.userId);
      if (e.fraudType !== null) {
        fraud++;
        byScenario[e.fraudType] = (byScenario[e.fraudType] ?? 0) + 1;
      }
    }
    if (lines.length > 0) await writer.write(lines, keys);
    produced += lines.length;
    opts.onProgress?.(produced, now() - started);
  }
  if (pos > 0 && writeBytes !== undefined && bytes !== undefined) await writeBytes(bytes.subarray(0, pos));
  return { produced, fraud, byScenario, elapsedMs: now() - started };
}
