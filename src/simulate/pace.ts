// Real-time pacing at a fixed rate against the wall clock, shared by `simulate --rate` and
// `replay --rate`: how many events are due now, and how long to sleep until the next one is.
import { setTimeout as sleep } from "node:timers/promises";

export interface Pacer {
  /** Events that may go out now, given that `sent` went out since the start (≤ 0: none yet). */
  due(sent: number): number;
  /** Sleeps until the next event is due, at most `maxMs` (to notice deadlines and signals). */
  wait(sent: number, maxMs?: number): Promise<void>;
  /** Wall time since the start, ms. */
  elapsed(): number;
}

export interface PacerOptions {
  /** Wall clock (ms); injectable for tests. */
  now?: () => number;
  wait?: (ms: number) => Promise<unknown>;
}

export function createPacer(rate: number, opts: PacerOptions = {}): Pacer {
  if (!(rate > 0)) throw new RangeError(`rate must be > 0, got ${rate}`);
  const now = opts.now ?? (() => performance.now());
  const wait = opts.wait ?? sleep;
  const started = now();
  return {
    due: (sent) => Math.floor(((now() - started) / 1000) * rate) - sent,
    async wait(sent, maxMs = 50) {
      const nextDueMs = ((sent + 1) / rate) * 1000 - (now() - started);
      await wait(Math.max(1, Math.min(maxMs, Math.ceil(nextDueMs))));
    },
    elapsed: () => now() - started,
  };
}
