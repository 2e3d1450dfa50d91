// Waiting out an outage: retry while the error is transient, with capped exponential backoff and
// jitter, until it succeeds or the signal aborts. Nothing is skipped while waiting.
import { setTimeout as sleep } from "node:timers/promises";

export interface RetryOptions {
  isTransient(err: unknown): boolean;
  signal: AbortSignal;
  initialDelayMs?: number;
  maxDelayMs: number;
  /** Called before each wait, e.g. to log and count the retry. */
  onRetry?(err: unknown, attempt: number, delayMs: number): void;
}

export async function retryTransient<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  let delay = opts.initialDelayMs ?? 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!opts.isTransient(err) || opts.signal.aborted) throw err;
      const wait = Math.min(opts.maxDelayMs, delay) * (0.75 + Math.random() * 0.5);
      opts.onRetry?.(err, attempt, wait);
      await sleep(wait, undefined, { signal: opts.signal });
      delay = Math.min(opts.maxDelayMs, delay * 2);
    }
  }
}
