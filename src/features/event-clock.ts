// A partition's event-time progress that one event, or a small minority of events, cannot drag.
// Pure: no I/O, no wall clock of its own (the caller hands in the wall time it read, which only widens
// the future bound while a partition is quiet). See docs/features.md, "Watermark and event-time bounds".
//
// The clock keeps the event times of the partition's last WINDOW accepted events, in arrival order (a
// ring) and sorted. Its watermark is their median; its head estimate extrapolates from the lower
// quartile to the median (median + 2 × (median − lower quartile), which is the newest time for steady
// arrivals). Both are order statistics: while fewer than half of the recent accepted events are hostile,
// the median is the time of a genuine event, and an accepted event is at most the bound ahead of the
// head; so hostile events can neither walk the watermark forward nor hold it back beyond the spread of
// the genuine ones. Until MIN_SAMPLES events have been accepted there is no robust estimate: the
// watermark is −∞ (nothing expires, nothing is too old) and the head +∞ (only the wall-clock bound of
// the caller applies).

/** Accepted event times the clock keeps. */
export const CLOCK_WINDOW = 256;
/** Accepted events before the clock has a watermark and a head. */
export const CLOCK_MIN_SAMPLES = 16;
/** Version of serialize()'s bytes; restore() refuses others. */
export const CLOCK_FORMAT_VERSION = 1;

export class EventClockError extends Error {
  override name = "EventClockError";
}

export class EventClock {
  /** Accepted times in arrival order: a ring of the last CLOCK_WINDOW. */
  readonly #ring = new Float64Array(CLOCK_WINDOW);
  /** The same times, ascending (the first `#n` slots). */
  readonly #sorted = new Float64Array(CLOCK_WINDOW);
  #n = 0;
  /** Ring slot of the oldest time once the ring is full. */
  #oldest = 0;
  /** Wall time (ms) handed in with the newest accepted event; −∞ when none was. */
  #lastWallMs = Number.NEGATIVE_INFINITY;

  /** Accepted times held (at most CLOCK_WINDOW). */
  get size(): number {
    return this.#n;
  }

  /** Whether the clock has enough accepted events for a watermark and a head. */
  get ready(): boolean {
    return this.#n >= CLOCK_MIN_SAMPLES;
  }

  /** The partition's watermark: the median of the recent accepted event times (−∞ until ready). */
  get watermark(): number {
    return this.ready ? this.#quantile(0.5) : Number.NEGATIVE_INFINITY;
  }

  /** Where the partition's newest events are, robustly: median + 2 × (median − lower quartile). */
  get head(): number {
    if (!this.ready) return Number.POSITIVE_INFINITY;
    const median = this.#quantile(0.5);
    return median + 2 * (median - this.#quantile(0.25));
  }

  /** Wall time handed in with the newest accepted event (−∞: none). */
  get lastWallMs(): number {
    return this.#lastWallMs;
  }

  /**
   * How far past the head the partition's events may legitimately be after a quiet spell: the wall time
   * elapsed since the newest accepted event (0 without a wall time). A partition that heard nothing for
   * an hour of real time may well receive an event an hour past its head.
   */
  quietMs(wallMs: number | undefined): number {
    if (wallMs === undefined || !Number.isFinite(this.#lastWallMs)) return 0;
    return Math.max(0, wallMs - this.#lastWallMs);
  }

  /** Records an accepted event time (and the wall time it was accepted at, when known). */
  add(t: number, wallMs?: number): void {
    const sorted = this.#sorted;
    if (this.#n === CLOCK_WINDOW) {
      const gone = this.#ring[this.#oldest] as number;
      this.#ring[this.#oldest] = t;
      this.#oldest = this.#oldest + 1 === CLOCK_WINDOW ? 0 : this.#oldest + 1;
      const at = lowerBound(sorted, this.#n, gone);
      sorted.copyWithin(at, at + 1, this.#n);
      this.#n--;
    } else {
      this.#ring[this.#n] = t;
    }
    const at = upperBound(sorted, this.#n, t);
    sorted.copyWithin(at + 1, at, this.#n);
    sorted[at] = t;
    this.#n++;
    if (wallMs !== undefined && wallMs > this.#lastWallMs) this.#lastWallMs = wallMs;
  }

  /** The state as bytes: little-endian doubles [version, n, lastWallMs, times oldest first…]. */
  serialize(): Uint8Array {
    const f = new Float64Array(3 + this.#n);
    f[0] = CLOCK_FORMAT_VERSION;
    f[1] = this.#n;
    f[2] = this.#lastWallMs;
    for (let i = 0; i < this.#n; i++)
      f[3 + i] = this.#ring[this.#n === CLOCK_WINDOW ? (this.#oldest + i) % CLOCK_WINDOW : i] as number;
    return new Uint8Array(f.buffer);
  }

  /** Replaces the state with serialize()'s bytes. */
  restore(bytes: Uint8Array): void {
    if (bytes.byteLength % 8 !== 0 || bytes.byteLength < 24)
      throw new EventClockError(`event clock: ${bytes.byteLength} bytes is not a valid state`);
    const f = new Float64Array(bytes.slice().buffer);
    if (f[0] !== CLOCK_FORMAT_VERSION)
      throw new EventClockError(`event clock has format ${f[0]}, this build reads ${CLOCK_FORMAT_VERSION}`);
    const n = f[1] as number;
    if (!Number.isInteger(n) || n < 0 || n > CLOCK_WINDOW || f.length !== 3 + n)
      throw new EventClockError("event clock state is truncated or corrupt");
    for (let i = 3; i < f.length; i++)
      if (!Number.isFinite(f[i])) throw new EventClockError("event clock state holds a non-finite time");
    this.#n = 0;
    this.#oldest = 0;
    this.#lastWallMs = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) this.add(f[3 + i] as number);
    this.#lastWallMs = f[2] as number;
  }

  #quantile(q: number): number {
    return this.#sorted[Math.floor(q * (this.#n - 1))] as number;
  }
}

/** First index in a[0..n) whose value is ≥ x. */
function lowerBound(a: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in a[0..n) whose value is > x. */
function upperBound(a: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
