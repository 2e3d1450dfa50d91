// The partitions a worker owns, and what it holds for each: where its stored checkpoint stands and the
// feature state of its users. On assignment the checkpoint and the state are loaded from the store
// (the state reflects exactly the records below the checkpoint); on revocation, once the partition's
// batch in progress has finished, they are let go.
import type { Logger } from "pino";
import { FeatureEngine, type FeatureEngineOptions } from "../features/engine.ts";
import type { AssignmentListener, Store, UserStateWrite } from "./ports.ts";

/** What the worker holds for a partition it owns. */
export interface Owned {
  /** Next offset in the stored checkpoint (null: never checkpointed). */
  from: bigint | null;
  engine: FeatureEngine;
  /** When (performance.now()) its idle users were last expired. */
  lastExpire: number;
}

export interface OwnershipOptions {
  group: string;
  topic: string;
  store: Store;
  engine: FeatureEngineOptions;
  /** Runs a store call, waiting out transient failures. */
  retry<T>(what: string, fn: () => Promise<T>): Promise<T>;
  logger: Logger;
}

export class Ownership {
  readonly #owned = new Map<number, Owned>();
  /** Partitions being revoked: a batch of theirs that gets fenced gives up instead of reloading. */
  readonly #revoking = new Set<number>();
  readonly #opts: OwnershipOptions;

  constructor(opts: OwnershipOptions) {
    this.#opts = opts;
  }

  get(partition: number): Owned | undefined {
    return this.#owned.get(partition);
  }

  has(partition: number): boolean {
    return this.#owned.has(partition);
  }

  isRevoking(partition: number): boolean {
    return this.#revoking.has(partition);
  }

  /** Loads (or reloads) partitions' checkpoints and feature state, replacing what was held. */
  async load(partitions: readonly number[]): Promise<void> {
    const { group, topic, store, retry, logger } = this.#opts;
    const stored = await retry("load checkpoints", () =>
      store.loadCheckpoints(group, topic, [...partitions]),
    );
    for (const p of partitions) {
      const state = await retry("load feature state", () => store.loadPartitionState(group, topic, p));
      const engine = new FeatureEngine(this.#opts.engine);
      for (const [userId, bytes] of state.users) engine.restoreUser(userId, bytes);
      // The clock holds the watermark; a checkpoint from before it (watermark_ms only) starts a fresh
      // clock rather than trusting a watermark that one event may have dragged.
      if (state.clock !== null) engine.restoreClock(state.clock);
      this.#owned.get(p)?.engine.clear();
      this.#owned.set(p, { from: stored.get(p) ?? null, engine, lastExpire: performance.now() });
      logger.debug(
        { partition: p, users: state.users.size, from: stored.get(p)?.toString() },
        "partition state restored",
      );
    }
  }

  /**
   * The consumer's assignment listener. A revoked partition's batch in progress finishes first
   * (`finishing`: its write is fenced by the checkpoint anyway), then the partition is let go.
   */
  listener(finishing: (partitions: readonly number[]) => Promise<void>): AssignmentListener {
    const { logger } = this.#opts;
    return {
      onAssigned: async (topic, partitions) => {
        logger.info({ topic, partitions }, "partitions assigned");
        await this.load(partitions);
      },
      onRevoked: async (topic, partitions) => {
        logger.info({ topic, partitions }, "partitions revoked");
        for (const p of partitions) this.#revoking.add(p);
        await finishing(partitions);
        for (const p of partitions) {
          this.#revoking.delete(p);
          this.#owned.get(p)?.engine.clear();
          this.#owned.delete(p);
        }
      },
    };
  }
}

/** The user states a batch changed, for the same transaction as the partition's checkpoint. */
export function userStateWrites(
  owned: Owned,
  group: string,
  topic: string,
  partition: number,
): UserStateWrite[] {
  const writes: UserStateWrite[] = [];
  for (const userId of owned.engine.dirtyUsers())
    writes.push({ group, topic, partition, userId, state: owned.engine.serializeUser(userId) ?? null });
  return writes;
}
