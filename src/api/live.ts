// The live alert feed behind the Server-Sent Events stream. One poller per API process reads new alerts
// by their `seq` and fans them out to every connected client.
//
// Gaps: alerts are inserted by several workers in concurrent transactions, so a higher seq can commit
// before a lower one. Reading "seq > last" would skip the lower one forever. The feed therefore keeps a
// low-water mark: the highest seq below which every seq has been delivered or has stayed missing for
// longer than any batch transaction lasts (a rolled-back insert or an ON CONFLICT re-insert burns seq
// values that never appear). Clients resume from the mark (SSE `id:`), so after a reconnect they may see
// an alert twice, never miss one: they deduplicate by transaction id.
import type { Alert, AlertStore } from "../io/pg/alerts.ts";

export interface FeedOptions {
  store: Pick<AlertStore, "since">;
  pollMs: number;
  /** How long a missing seq is waited for before it is given up as never to come (ms). */
  gapTimeoutMs: number;
  /** Most alerts read per poll. */
  batch?: number;
}

type Listener = (alerts: Alert[], mark: number) => void;

export class AlertFeed {
  readonly #opts: FeedOptions;
  readonly #listeners = new Set<Listener>();
  /** Every seq ≤ mark is settled (delivered or given up). */
  #mark = -1;
  /** Delivered seqs above the mark. */
  readonly #ahead = new Set<number>();
  /** When each missing seq between the mark and the highest delivered one was first noticed. */
  readonly #missingSince = new Map<number, number>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #started = false;

  constructor(opts: FeedOptions) {
    this.#opts = opts;
  }

  get mark(): number {
    return this.#mark;
  }

  /** Starts from the current end of the table: the feed delivers alerts that arrive from now on. */
  async start(latestSeq: number): Promise<void> {
    this.#mark = latestSeq;
    this.#started = true;
    this.#timer = setInterval(() => void this.poll(), this.#opts.pollMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** One poll (also called by tests to step the feed). */
  poll(): Promise<void> {
    if (!this.#started) return Promise.resolve();
    this.#polling ??= this.#pollOnce().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  async #pollOnce(): Promise<void> {
    const rows = await this.#opts.store.since(this.#mark, this.#opts.batch ?? 1000);
    const fresh = rows.filter((a) => !this.#ahead.has(a.seq));
    for (const a of fresh) this.#ahead.add(a.seq);
    this.#advance(Date.now());
    if (fresh.length > 0) for (const l of this.#listeners) l(fresh, this.#mark);
  }

  #advance(now: number): void {
    const highest = Math.max(this.#mark, ...this.#ahead);
    for (let s = this.#mark + 1; s <= highest; s++) {
      if (this.#ahead.has(s)) {
        this.#ahead.delete(s);
        this.#missingSince.delete(s);
        this.#mark = s;
        continue;
      }
      const first = this.#missingSince.get(s);
      if (first === undefined) {
        this.#missingSince.set(s, now);
        break;
      }
      if (now - first < this.#opts.gapTimeoutMs) break;
      this.#missingSince.delete(s);
      this.#mark = s; // never came: a burnt sequence value
    }
  }
}
