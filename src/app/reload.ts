// Hot reload of what the worker decides with: the active model and the active rule set. A registry
// (PostgreSQL) says which one is active; this holder polls the active id, and when it changes fetches the
// body, builds the object and swaps it into the slot the worker reads once per batch. One that fails to
// build (a corrupt file, other features, a bad rule) is refused and the current one stays, so a bad
// promotion can never stop the stream. Nothing active: the fallback serves.
import type { Logger } from "pino";
import type { Scorer } from "../model/scorer.ts";

/** A registry as the reloader sees it (src/io/pg/models.ts and rule-sets.ts implement it). */
export interface ActiveSource {
  activeId(): Promise<string | null>;
  active(): Promise<{ id: string; body: string } | null>;
}

export interface ReloaderOptions<T extends { readonly version: string }> {
  source: ActiveSource;
  /** Turns a body into the object served; throws when this worker cannot serve it. */
  build(id: string, body: string): T;
  /** Serves while nothing is active. */
  fallback: T;
  /** How often the active id is polled (ms). */
  intervalMs: number;
  logger: Logger;
  /** Called after every swap (metrics: the info gauge of versions). */
  onSwap?(current: T): void;
  /** Called when an activated body could not be built. */
  onRefused?(id: string, err: unknown): void;
  /** What is reloaded, for the logs ("model", "rule set"). */
  what?: string;
}

export interface Reloader<T> {
  readonly current: T;
  /** Polls once now; resolves when the slot reflects the registry (or the failure was logged). */
  refresh(): Promise<void>;
  /** Polls every intervalMs until stop(). */
  start(): void;
  stop(): void;
}

/** The active model, hot-reloaded (a ScorerSlot for the worker). */
export type ModelReloader = Reloader<Scorer>;
export function createModelReloader(opts: ReloaderOptions<Scorer>): ModelReloader {
  return createReloader({ what: "model", ...opts });
}

export function createReloader<T extends { readonly version: string }>(
  opts: ReloaderOptions<T>,
): Reloader<T> {
  const what = opts.what ?? "model";
  let current: T = opts.fallback;
  /** The active id the slot reflects (null: the fallback); a refused id is remembered so as not to retry it every poll. */
  let seen: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const poll = async (): Promise<void> => {
    let id: string | null;
    try {
      id = await opts.source.activeId();
    } catch (err) {
      opts.logger.warn({ err, what }, "could not ask the registry what is active; keeping the current one");
      return;
    }
    if (id === seen) return;
    if (id === null) {
      seen = null;
      current = opts.fallback;
      opts.logger.warn({ what, version: current.version }, "nothing active; serving the fallback");
      opts.onSwap?.(current);
      return;
    }
    try {
      const model = await opts.source.active();
      if (model === null) return; // demoted between the two queries: the next poll sees it
      const built = opts.build(model.id, model.body);
      seen = model.id;
      current = built;
      opts.logger.info({ what, version: built.version }, "activated version loaded");
      opts.onSwap?.(built);
    } catch (err) {
      seen = id;
      opts.logger.error(
        { err, what, id, keeping: current.version },
        "the activated version cannot be served by this worker; keeping the current one",
      );
      opts.onRefused?.(id, err);
    }
  };

  const refresh = (): Promise<void> => {
    // One poll at a time: a slow registry must not pile polls up.
    running ??= poll().finally(() => {
      running = undefined;
    });
    return running;
  };

  return {
    get current() {
      return current;
    },
    refresh,
    start() {
      timer ??= setInterval(() => void refresh(), opts.intervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
