// The behavioural features recomputed from each user's full history, with strings instead of hashes and
// no windows, caps or running totals: the executable definition FeatureEngine is tested against
// (engine.property.test.ts). Slow on purpose; never used on the hot path.
import type { Transaction } from "../contract/transaction.ts";
import { eventValues, haversineKm } from "./engine.ts";
import { CLOCK_MIN_SAMPLES, CLOCK_WINDOW } from "./event-clock.ts";
import { BEHAVIOURAL_FEATURES } from "./registry.ts";

interface Past {
  t: number;
  amount: number;
  lat: number;
  lon: number;
  country: string | undefined;
  device: string | undefined;
  merchant: string | undefined;
  category: string | undefined;
  card: string | undefined;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * Same contract as FeatureEngine without its bounds: an event is late when its time is before the
 * user's newest accepted event time minus the lateness; otherwise its prior events are the user's
 * accepted events with event time ≤ its own, in arrival order (so among equal times, earlier arrivals
 * are prior and the last of them is the previous transaction).
 */
export class NaiveReference {
  readonly allowedLatenessMs: number;
  readonly stateTtlMs: number;
  private readonly history = new Map<string, Past[]>();
  /** Every accepted event time, in arrival order. */
  private readonly accepted: number[] = [];

  readonly maxFutureSkewMs: number;
  readonly maxEventAgeMs: number;
  /** Why process() last returned undefined. */
  lastRejection: "late" | "future" | "too_old" | undefined;

  /**
   * `stateTtlMs`: a user idle longer than this behind the watermark starts afresh; the bounds as
   * FeatureEngine's options (no wall time: no quiet-spell widening).
   */
  constructor(
    allowedLatenessMs: number,
    stateTtlMs = Number.POSITIVE_INFINITY,
    bounds: { maxFutureSkewMs?: number; maxEventAgeMs?: number } = {},
  ) {
    this.allowedLatenessMs = allowedLatenessMs;
    this.stateTtlMs = stateTtlMs;
    this.maxFutureSkewMs = bounds.maxFutureSkewMs ?? Number.POSITIVE_INFINITY;
    this.maxEventAgeMs = bounds.maxEventAgeMs ?? Number.POSITIVE_INFINITY;
  }

  /** Quantile q of the last CLOCK_WINDOW accepted times (the element at floor(q·(n − 1)) sorted). */
  private quantile(q: number): number {
    const recent = this.accepted.slice(-CLOCK_WINDOW).sort((a, b) => a - b);
    return recent[Math.floor(q * (recent.length - 1))] as number;
  }

  /** median + 2 × (median − lower quartile), +∞ before CLOCK_MIN_SAMPLES were accepted. */
  get head(): number {
    if (this.accepted.length < CLOCK_MIN_SAMPLES) return Number.POSITIVE_INFINITY;
    const median = this.quantile(0.5);
    return median + 2 * (median - this.quantile(0.25));
  }

  /**
   * The median of the last CLOCK_WINDOW accepted event times (the lower one of an even count), −∞
   * before CLOCK_MIN_SAMPLES were accepted: the rule EventClock implements with a sorted ring.
   */
  get watermark(): number {
    if (this.accepted.length < CLOCK_MIN_SAMPLES) return Number.NEGATIVE_INFINITY;
    return this.quantile(0.5);
  }

  /** Forgets users whose newest event time is before `before`; returns them. */
  expire(before: number): string[] {
    const dropped: string[] = [];
    for (const [user, events] of this.history) {
      if (events.every((e) => e.t < before)) {
        this.history.delete(user);
        dropped.push(user);
      }
    }
    return dropped;
  }

  /** The behavioural features (BEHAVIOURAL_FEATURES order) of the event, or undefined when rejected. */
  process(ev: Transaction, t: number): number[] | undefined {
    this.lastRejection = undefined;
    if (t > this.head + this.maxFutureSkewMs) {
      this.lastRejection = "future";
      return undefined;
    }
    if (t < this.watermark - this.maxEventAgeMs) {
      this.lastRejection = "too_old";
      return undefined;
    }
    const before = this.history.get(ev.user_id);
    if (before?.every((e) => e.t < this.watermark - this.stateTtlMs)) this.history.delete(ev.user_id);
    const all = this.history.get(ev.user_id) ?? [];
    const maxSeen = all.reduce((m, e) => Math.max(m, e.t), Number.NEGATIVE_INFINITY);
    if (t < maxSeen - this.allowedLatenessMs) {
      this.lastRejection = "late";
      return undefined;
    }
    const prior = all.filter((e) => e.t <= t);
    const inWindow = (w: number) => prior.filter((e) => e.t > t - w);
    const sum = (es: Past[]) => es.reduce((s, e) => s + e.amount, 0);
    const distinct = (es: Past[], f: (e: Past) => string | undefined) =>
      new Set(es.map(f).filter((x) => x !== undefined)).size;
    const w1m = inWindow(MINUTE);
    const w1h = inWindow(HOUR);
    const w24h = inWindow(DAY);
    const v = eventValues(ev);
    const n = prior.length;
    const mean = n > 0 ? sum(prior) / n : 0;
    const std = n > 0 ? Math.sqrt(prior.reduce((s, e) => s + (e.amount - mean) ** 2, 0) / n) : 0;
    const z = n >= 2 ? (ev.amount - mean) / Math.max(std, 0.01 * mean) : 0;
    // prior is in arrival order: the previous transaction is the last one with the greatest time.
    let prev: Past | undefined;
    for (const e of prior) if (prev === undefined || e.t >= prev.t) prev = e;
    const lat = ev.latitude ?? Number.NaN;
    const lon = ev.longitude ?? Number.NaN;
    let distance = 0;
    let speed = 0;
    if (prev !== undefined && !Number.isNaN(lat + lon + prev.lat + prev.lon)) {
      distance = haversineKm(prev.lat, prev.lon, lat, lon);
      speed = distance / (Math.max(t - prev.t, MINUTE) / HOUR);
    }
    const isNew = (value: string | undefined, f: (e: Past) => string | undefined) =>
      value !== undefined && !prior.some((e) => f(e) === value) ? 1 : 0;
    const total = sum(prior);
    const share =
      v.category !== undefined && total > 0 ? sum(prior.filter((e) => e.category === v.category)) / total : 0;
    const values: Record<string, number> = {
      txn_count_1m: w1m.length,
      txn_sum_1m: sum(w1m),
      txn_count_1h: w1h.length,
      txn_sum_1h: sum(w1h),
      txn_count_24h: w24h.length,
      txn_sum_24h: sum(w24h),
      amount_max_1h: w1h.reduce((m, e) => Math.max(m, e.amount), 0),
      distinct_countries_24h: distinct(w24h, (e) => e.country),
      distinct_devices_24h: distinct(w24h, (e) => e.device),
      distinct_merchants_24h: distinct(w24h, (e) => e.merchant),
      user_txn_count: n,
      amount_mean: mean,
      amount_std: std,
      amount_zscore: z,
      seconds_since_prev: prev === undefined ? -1 : (t - prev.t) / 1000,
      distance_from_prev_km: distance,
      speed_from_prev_kmh: speed,
      is_new_device: isNew(v.device, (e) => e.device),
      is_new_merchant: isNew(v.merchant, (e) => e.merchant),
      is_new_country: isNew(v.country, (e) => e.country),
      category_spend_share: share,
      distinct_cards: distinct(prior, (e) => e.card),
    };
    all.push({ t, amount: ev.amount, lat, lon, ...v });
    this.history.set(ev.user_id, all);
    this.accepted.push(t);
    return BEHAVIOURAL_FEATURES.map((f) => {
      const x = values[f.name];
      if (x === undefined) throw new Error(`reference lacks feature ${f.name}`);
      return x;
    });
  }
}
