// Daily partitions of transactions_scored, created on demand. Days are UTC days: the partition of day D
// holds event_time in [D 00:00Z, D+1 00:00Z).
//
// Partitions are created in a short transaction of their own, before the write transaction that needs
// them, not inside it: CREATE TABLE … PARTITION OF locks the parent table ACCESS EXCLUSIVE. Inside a
// batch transaction that lock would be held until commit, and two workers that each hold ROW EXCLUSIVE
// on the parent from their inserts while both asking for a new day would deadlock. A partition that
// outlives a rolled-back batch is harmless: it is the one the retry needs.
import type { Db } from "./db.ts";

export const DAY_MS = 86_400_000;
export const SCORED_TABLE = "transactions_scored";

/** Advisory-lock class for partition creation; the second key is the day number. */
const PARTITION_LOCK_CLASS = 0x66726176;

/** Days since 1970-01-01 (UTC) of an epoch-ms instant. */
export function dayOf(epochMs: number): number {
  return Math.floor(epochMs / DAY_MS);
}

/** transactions_scored_pYYYYMMDD */
export function partitionName(day: number): string {
  return `${SCORED_TABLE}_p${new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll("-", "")}`;
}

function bound(day: number): string {
  return new Date(day * DAY_MS).toISOString();
}

/**
 * Keeps track of the day partitions this process knows to exist and creates missing ones. Safe against
 * other processes creating the same day at the same moment: each day is created under an advisory lock
 * keyed by the day, with IF NOT EXISTS, so the second creator waits and then finds it.
 */
export class DayPartitions {
  readonly #db: Db;
  readonly #known = new Set<number>();

  constructor(db: Db) {
    this.#db = db;
  }

  /** Creates the partitions of `days` that this process has not seen yet. */
  async ensure(days: Iterable<number>): Promise<void> {
    const missing = [...new Set(days)].filter((d) => !this.#known.has(d)).sort((a, b) => a - b);
    if (missing.length === 0) return;
    // Ascending order: two processes that need overlapping sets take the day locks in the same order.
    await this.#db.transaction(async (tx) => {
      for (const day of missing) {
        if (!Number.isSafeInteger(day) || day < -2_147_483_648 || day > 2_147_483_647) {
          throw new RangeError(`event day ${day} is out of range`);
        }
        await tx.query("SELECT pg_advisory_xact_lock($1::int4, $2::int4)", [
          String(PARTITION_LOCK_CLASS),
          String(day),
        ]);
        // Identifiers and bounds come from integers formatted here, never from input text.
        await tx.exec(
          `CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF ${SCORED_TABLE} ` +
            `FOR VALUES FROM ('${bound(day)}') TO ('${bound(day + 1)}')`,
        );
      }
    });
    for (const day of missing) this.#known.add(day);
  }

  /** Creates today (UTC, by `now`) and the `daysAhead` days after it. */
  async ensureAhead(daysAhead: number, now: number = Date.now()): Promise<void> {
    const today = dayOf(now);
    await this.ensure(Array.from({ length: daysAhead + 1 }, (_, i) => today + i));
  }

  /** Forgets what is known, so the next ensure() checks again (after a failed write: a day may be gone). */
  forget(): void {
    this.#known.clear();
  }
}
