// Applying the migrations at a service's start, waiting for the database like everything else.
import { isTransientDbError } from "../io/pg/index.ts";
import type { Logger } from "../observe/logger.ts";
import type { Store } from "../pipeline/ports.ts";
import { retryTransient } from "../pipeline/retry.ts";

export interface MigrateRetryOptions {
  /** Stops waiting (the pending attempt's error, or the abort, is thrown). */
  signal: AbortSignal;
  /** Cap of the backoff between attempts (config.dbRetryMaxMs). */
  maxDelayMs: number;
  logger: Logger;
  /** Called on each retry (before it is logged), e.g. to count it. */
  onRetry?(err: unknown, attempt: number): void;
}

/** store.migrate(), retried while the database is unavailable (transient errors), each retry logged. */
export async function migrateWithRetry(
  store: Pick<Store, "migrate">,
  opts: MigrateRetryOptions,
): Promise<void> {
  await retryTransient(() => store.migrate(), {
    isTransient: isTransientDbError,
    signal: opts.signal,
    maxDelayMs: opts.maxDelayMs,
    onRetry: (err, attempt) => {
      opts.onRetry?.(err, attempt);
      opts.logger.warn({ err, attempt }, "database unavailable at start; retrying");
    },
  });
}
