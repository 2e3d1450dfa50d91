// Which batch runs when. Batches of different partitions run concurrently, up to `maxInFlight` at once,
// so that while one waits for the database or the broker another computes; each partition's batches
// form a chain, each starting when the one before it ended, so a partition stays in offset order. A
// batch waiting on its partition does not hold up the others': the intake goes on taking batches until
// `2 × maxInFlight` are taken and not yet done.

export class PartitionScheduler {
  readonly #maxInFlight: number;
  readonly #maxQueued: number;
  /** Each partition's last batch taken (the tail of its chain). */
  readonly #tails = new Map<number, Promise<void>>();
  /** Every batch taken and not yet done. */
  readonly #taken = new Set<Promise<void>>();
  #running = 0;
  readonly #turns: (() => void)[] = [];

  constructor(maxInFlight: number) {
    this.#maxInFlight = Math.max(1, maxInFlight);
    this.#maxQueued = 2 * this.#maxInFlight;
  }

  /** Resolves once there is room to take another batch. */
  async room(): Promise<void> {
    while (this.#taken.size >= this.#maxQueued) await Promise.race(this.#taken);
  }

  /**
   * Runs `job` after the partition's previous job has ended, once one of the `maxInFlight` turns is
   * free. `job` must not reject (the caller handles its own failures).
   */
  submit(partition: number, job: () => Promise<void>): void {
    const previous = this.#tails.get(partition);
    const run: Promise<void> = (async () => {
      if (previous !== undefined) await previous;
      await this.#acquire();
      try {
        await job();
      } finally {
        this.#release();
      }
    })().finally(() => {
      if (this.#tails.get(partition) === run) this.#tails.delete(partition);
      this.#taken.delete(run);
    });
    this.#tails.set(partition, run);
    this.#taken.add(run);
  }

  /** Partitions with a batch taken and not yet done. */
  busy(): number[] {
    return [...this.#tails.keys()];
  }

  /** Resolves when the batches taken so far of these partitions (default: all) are done. */
  async idle(partitions?: readonly number[]): Promise<void> {
    const tails =
      partitions === undefined ? [...this.#tails.values()] : partitions.map((p) => this.#tails.get(p));
    await Promise.all(tails);
  }

  async #acquire(): Promise<void> {
    if (this.#running < this.#maxInFlight) {
      this.#running++;
      return;
    }
    await new Promise<void>((resolve) => this.#turns.push(resolve));
  }

  #release(): void {
    const next = this.#turns.shift();
    if (next === undefined) this.#running--;
    else next(); // the turn passes on: the running count stays the same
  }
}
