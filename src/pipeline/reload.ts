// Hot reload of the active model. The registry (PostgreSQL) says which model is active; this holder polls
// the active id, and when it changes fetches the file, builds a scorer and swaps it into the slot the
// worker reads once per batch. A model that fails to load (corrupt, other features) is refused and the
// current scorer stays, so a bad promotion can never stop scoring. No active model: the fallback scores.
import type { Logger } from "pino";
import type { Scorer, ScorerSlot } from "../model/scorer.ts";

/** The registry as the reloader sees it (src/io/pg/models.ts implements it). */
export interface ActiveModelSource {
  activeId(): Promise<string | null>;
  active(): Promise<{ id: string; body: string } | null>;
}

export interface ModelReloaderOptions {
  source: ActiveModelSource;
  /** Turns a model file into a scorer; throws when the file cannot serve this worker's features. */
  build(id: string, body: string): Scorer;
  /** Scores while no model is active. */
  fallback: Scorer;
  /** How often the active id is polled (ms). */
  intervalMs: number;
  logger: Logger;
  /** Called after every swap (metrics: the info gauge of versions). */
  onSwap?(scorer: Scorer): void;
  /** Called when a promoted model could not be loaded. */
  onRefused?(id: string, err: unknown): void;
}

export interface ModelReloader extends ScorerSlot {
  /** Polls once now; resolves when the slot reflects the registry (or the failure was logged). */
  refresh(): Promise<void>;
  /** Polls every intervalMs until stop(). */
  start(): void;
  stop(): void;
}

export function createModelReloader(opts: ModelReloaderOptions): ModelReloader {
  let current: Scorer = opts.fallback;
  /** The active id the slot reflects (null: the fallback); a refused id is remembered so as not to retry it every poll. */
  let seen: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const poll = async (): Promise<void> => {
    let id: string | null;
    try {
      id = await opts.source.activeId();
    } catch (err) {
      opts.logger.warn({ err }, "could not ask the registry for the active model; keeping the current one");
      return;
    }
    if (id === seen) return;
    if (id === null) {
      seen = null;
      current = opts.fallback;
      opts.logger.warn({ model: current.version }, "no active model; scoring with the fallback");
      opts.onSwap?.(current);
      return;
    }
    try {
      const model = await opts.source.active();
      if (model === null) return; // demoted between the two queries: the next poll sees it
      const scorer = opts.build(model.id, model.body);
      seen = model.id;
      current = scorer;
      opts.logger.info({ model: scorer.version }, "active model loaded");
      opts.onSwap?.(scorer);
    } catch (err) {
      seen = id;
      opts.logger.error(
        { err, model: id, keeping: current.version },
        "the active model cannot be served by this worker; keeping the current one",
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
