// Per-user behavioural state and the features computed from it, for the users of one Kafka partition.
// Pure: no I/O, no wall clock; time is the events' own. See docs/features.md for the definitions this
// file implements (prior events, window edges, lateness, caps, TTL) and the naive reference in
// engine.property.test.ts, which is the executable form of those definitions.
//
// Layout. All users' state lives in one arena of Float64Array chunks: a user is a block of slots
//   header (HEADER slots) | value table (tabCap × TE) | event buffer (evCap × EV, a ring)
// so a user costs its slots plus one Map entry, with no object or typed array of its own, and the
// hot path reads and writes plain doubles.
//   value table entry: [first event time, kind × 2^32 + FNV-1a hash of the value, spend of retired
//                       events (categories)]
//   buffered event:    [event time, amount, latitude, longitude, table indices of country | device <<
//                       8 | merchant << 16 | category << 24 (255 = none)]
// Buffered events are kept sorted by (event time, arrival): an out-of-order event is inserted in place.
// Whole-history statistics are the retired events' aggregates (header) plus the buffered prior events,
// summed per event: nothing is ever subtracted, so an out-of-order event's statistics stay exact.
import type { Transaction } from "../contract/transaction.ts";
import { EventClock } from "./event-clock.ts";
import { FEATURES, featureIndex } from "./registry.ts";
import { writeStatelessFeatures } from "./stateless.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const WIDTH = FEATURES.length;

export interface FeatureEngineOptions {
  /** An event older than the user's newest event time minus this is late: no features, no state change. */
  allowedLatenessMs: number;
  /** A user whose newest event time is more than this before the watermark given to expire() is dropped. */
  stateTtlMs: number;
  /**
   * Most events kept per user for the windows (default 256). Beyond it the oldest are dropped early, so
   * windowed counts, sums and distinct counts saturate at this many events.
   */
  maxEventsPerUser?: number;
  /**
   * An event more than this past the partition's head (see EventClock), plus the wall time the
   * partition has been quiet, is from the future: status FUTURE, no state change (default: no bound).
   */
  maxFutureSkewMs?: number;
  /** An event more than this before the partition's watermark is too old: status TOO_OLD (default: no bound). */
  maxEventAgeMs?: number;
}

/** processBatch() status of an event: features computed, state updated. */
export const ACCEPTED = 0;
/** processBatch() status: older than its user's newest event minus the lateness. */
export const LATE = 1;
/** processBatch() status: beyond the partition's head by more than maxFutureSkewMs. */
export const FUTURE = 2;
/** processBatch() status: before the partition's watermark by more than maxEventAgeMs. */
export const TOO_OLD = 3;

export class FeatureStateError extends Error {
  override name = "FeatureStateError";
}

/** Version of the bytes of serializeUser(); restoreUser() refuses others. */
export const STATE_FORMAT_VERSION = 1;

export const DEFAULT_MAX_EVENTS_PER_USER = 256;

// Value kinds of the table and how many distinct values of each a user keeps (sum ≤ 255: the event
// buffer refers to entries by one byte, 255 meaning none).
const K_COUNTRY = 0;
const K_DEVICE = 1;
const K_MERCHANT = 2;
const K_CATEGORY = 3;
const K_CARD = 4;
/** Distinct values kept per kind: country, device, merchant, category, card. */
export const VALUE_CAPS: readonly number[] = [32, 32, 128, 32, 16];
const TABLE_MAX = 240;
const NONE = 255;
const TWO32 = 4_294_967_296;
/** Keys at or above this are cards (the last kind). */
const CARD_KEYS = K_CARD * TWO32;

// Header slots.
const H_SIZE = 0;
const H_TAB_CAP = 1;
const H_TAB_N = 2;
const H_EV_CAP = 3;
const H_EV_HEAD = 4;
const H_EV_N = 5;
const H_MAX_SEEN = 6;
// Events that left the buffer ("retired"): count, mean and sum of squared deviations (Welford), spend.
const H_OLD_N = 7;
const H_OLD_MEAN = 8;
const H_OLD_M2 = 9;
const H_OLD_TOTAL = 10;
// The newest retired event: the previous transaction of an event older than every buffered one.
const H_TAIL_T = 11;
const H_TAIL_LAT = 12;
const H_TAIL_LON = 13;
/** The checkpoint epoch in which the user last changed (0: restored, unchanged since). */
const H_DIRTY = 14;
const HEADER = 15;
const TE = 3;
const EV = 5;
const INITIAL_TAB_CAP = 6;
const INITIAL_EV_CAP = 4;

const C_COUNT_1M = featureIndex("txn_count_1m");
const C_SUM_1M = featureIndex("txn_sum_1m");
const C_COUNT_1H = featureIndex("txn_count_1h");
const C_SUM_1H = featureIndex("txn_sum_1h");
const C_COUNT_24H = featureIndex("txn_count_24h");
const C_SUM_24H = featureIndex("txn_sum_24h");
const C_MAX_1H = featureIndex("amount_max_1h");
const C_COUNTRIES_24H = featureIndex("distinct_countries_24h");
const C_DEVICES_24H = featureIndex("distinct_devices_24h");
const C_MERCHANTS_24H = featureIndex("distinct_merchants_24h");
const C_USER_COUNT = featureIndex("user_txn_count");
const C_MEAN = featureIndex("amount_mean");
const C_STD = featureIndex("amount_std");
const C_ZSCORE = featureIndex("amount_zscore");
const C_SINCE_PREV = featureIndex("seconds_since_prev");
const C_DISTANCE = featureIndex("distance_from_prev_km");
const C_SPEED = featureIndex("speed_from_prev_kmh");
const C_NEW_DEVICE = featureIndex("is_new_device");
const C_NEW_MERCHANT = featureIndex("is_new_merchant");
const C_NEW_COUNTRY = featureIndex("is_new_country");
const C_CATEGORY_SHARE = featureIndex("category_spend_share");
const C_CARDS = featureIndex("distinct_cards");

/** 32-bit FNV-1a over UTF-16 code units; users keep hashes of their values, not the strings. */
export function hashValue(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The first non-empty of two optional strings; which field stands for a device, merchant, category. */
function firstPresent(a: string | undefined, b: string | undefined): string | undefined {
  if (a !== undefined && a !== "") return a;
  if (b !== undefined && b !== "") return b;
  return undefined;
}

/** The identifying values the engine reads from an event (exported for the reference in the tests). */
export function eventValues(e: Transaction): {
  country: string | undefined;
  device: string | undefined;
  merchant: string | undefined;
  category: string | undefined;
  card: string | undefined;
} {
  return {
    country: firstPresent(e.country, undefined),
    device: firstPresent(e.device_id, e.device),
    merchant: firstPresent(e.merchant_id, e.merchant_name),
    category: firstPresent(e.merchant_category, e.mcc),
    card: firstPresent(e.card_id, undefined),
  };
}

function keyOf(kind: number, s: string | undefined): number {
  return s === undefined ? -1 : kind * TWO32 + hashValue(s);
}

const EARTH_RADIUS_KM = 6371.0088;
const RAD = Math.PI / 180;

/** Great-circle distance in km (haversine, mean Earth radius). */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const s1 = Math.sin(dLat / 2);
  const s2 = Math.sin(dLon / 2);
  const a = s1 * s1 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * s2 * s2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Adds an event leaving the buffer (or never entering it) to the user's retired aggregates. */
function retireValues(
  d: Float64Array,
  b: number,
  t: number,
  amount: number,
  lat: number,
  lon: number,
  category: number,
): void {
  const n = (d[b + H_OLD_N] as number) + 1;
  const mean = d[b + H_OLD_MEAN] as number;
  const delta = amount - mean;
  const newMean = mean + delta / n;
  d[b + H_OLD_N] = n;
  d[b + H_OLD_MEAN] = newMean;
  d[b + H_OLD_M2] = (d[b + H_OLD_M2] as number) + delta * (amount - newMean);
  d[b + H_OLD_TOTAL] = (d[b + H_OLD_TOTAL] as number) + amount;
  if (category !== NONE) {
    const c = b + HEADER + category * TE + 2;
    d[c] = (d[c] as number) + amount;
  }
  d[b + H_TAIL_T] = t;
  d[b + H_TAIL_LAT] = lat;
  d[b + H_TAIL_LON] = lon;
}

/** Retires the buffered event at slot s. */
function retire(d: Float64Array, b: number, s: number): void {
  retireValues(
    d,
    b,
    d[s] as number,
    d[s + 1] as number,
    d[s + 2] as number,
    d[s + 3] as number,
    (d[s + 4] as number) >>> 24,
  );
}

/** Whether table entry e exists and its value was first seen at or before t. */
function seenAt(d: Float64Array, b: number, e: number, t: number): boolean {
  return e >= 0 && (d[b + HEADER + e * TE] as number) <= t;
}

function grown(cap: number, max: number): number {
  return Math.min(max, cap + Math.max(4, cap >> 1));
}

function blockSize(tabCap: number, evCap: number): number {
  return (HEADER + TE * tabCap + EV * evCap + 3) & ~3;
}

/** Arena waste tolerated before expire() compacts, whatever the ratio (small engines never bother). */
const COMPACT_SLACK_BYTES = 64 * 2 ** 20;
const CHUNK_BITS = 23;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

/** Blocks of slots in 64 MiB chunks (above glibc's mmap threshold, so a freed chunk returns to the OS;
 * untouched pages cost nothing), recycled per size. A handle is chunk × CHUNK + offset. */
class Arena {
  chunks: Float64Array[] = [];
  private top = CHUNK;
  private readonly free = new Map<number, number[]>();
  usedSlots = 0;

  alloc(size: number): number {
    this.usedSlots += size;
    const list = this.free.get(size);
    if (list !== undefined && list.length > 0) return list.pop() as number;
    if (this.top + size > CHUNK) {
      if (this.chunks.length >= 1 << (32 - CHUNK_BITS))
        throw new FeatureStateError("feature state arena full");
      this.chunks.push(new Float64Array(CHUNK));
      this.top = 0;
    }
    const h = (this.chunks.length - 1) * CHUNK + this.top;
    this.top += size;
    return h;
  }

  /** Bytes up to the allocation front (pages of a chunk beyond it are never touched). */
  bytes(): number {
    return this.chunks.length === 0 ? 0 : ((this.chunks.length - 1) * CHUNK + this.top) * 8;
  }

  release(handle: number, size: number): void {
    this.usedSlots -= size;
    let list = this.free.get(size);
    if (list === undefined) {
      list = [];
      this.free.set(size, list);
    }
    list.push(handle);
  }
}

/**
 * Behavioural features of the users of one partition. processBatch() writes, for each event, the full
 * vector (stateless + behavioural, FEATURES order) computed from the user's prior events, then adds the
 * event to the state. Deterministic for a given sequence of calls.
 */
export class FeatureEngine {
  readonly allowedLatenessMs: number;
  readonly stateTtlMs: number;
  readonly maxEventsPerUser: number;
  readonly maxFutureSkewMs: number;
  readonly maxEventAgeMs: number;
  private readonly users = new Map<string, number>();
  private arena = new Arena();
  /** Users changed since clearDirty(), each once (H_DIRTY = epoch), plus users whose state was dropped. */
  private dirty: string[] = [];
  private epoch = 1;
  private readonly stamp = new Uint32Array(256);
  private generation = 0;
  private readonly kindCount = new Int32Array(5);
  /** The partition's event-time progress: watermark (idle expiry, too old) and head (future). */
  private clock = new EventClock();

  constructor(options: FeatureEngineOptions) {
    const { allowedLatenessMs, stateTtlMs } = options;
    const maxEvents = options.maxEventsPerUser ?? DEFAULT_MAX_EVENTS_PER_USER;
    if (!(allowedLatenessMs >= 0 && Number.isFinite(allowedLatenessMs)))
      throw new RangeError("allowedLatenessMs must be a finite number ≥ 0");
    if (!(stateTtlMs > 0)) throw new RangeError("stateTtlMs must be > 0");
    if (!Number.isInteger(maxEvents) || maxEvents < 1 || maxEvents > 1 << 20)
      throw new RangeError("maxEventsPerUser must be an integer in 1..1048576");
    const future = options.maxFutureSkewMs ?? Number.POSITIVE_INFINITY;
    const age = options.maxEventAgeMs ?? Number.POSITIVE_INFINITY;
    if (!(future >= 0)) throw new RangeError("maxFutureSkewMs must be ≥ 0");
    if (!(age >= allowedLatenessMs)) throw new RangeError("maxEventAgeMs must be ≥ allowedLatenessMs");
    this.maxFutureSkewMs = future;
    this.maxEventAgeMs = age;
    this.allowedLatenessMs = allowedLatenessMs;
    this.stateTtlMs = stateTtlMs;
    this.maxEventsPerUser = maxEvents;
  }

  /** Users with state. */
  get userCount(): number {
    return this.users.size;
  }

  /** Bytes of the arena blocks users hold (excludes the Map of user ids and recycled blocks). */
  stateBytes(): number {
    return this.arena.usedSlots * 8;
  }

  /** Bytes of the arena in use or recycled (what the state costs the process; Map of user ids excluded). */
  arenaBytes(): number {
    return this.arena.bytes();
  }

  /**
   * The partition's event-time watermark: the median of its last CLOCK_WINDOW accepted event times
   * (−∞ before CLOCK_MIN_SAMPLES were accepted). Idle users expire against it and events more than
   * maxEventAgeMs before it are too old, so it is checkpointed with the partition (serializeClock) and
   * put back with restoreClock() before the partition's next batch. One event cannot move it.
   */
  get watermark(): number {
    return this.clock.watermark;
  }

  /** Newest event time the partition accepts now: head + maxFutureSkewMs + the quiet wall time. */
  futureLimit(wallMs?: number): number {
    return this.clock.head + this.maxFutureSkewMs + this.clock.quietMs(wallMs);
  }

  /** Oldest event time the partition accepts: watermark − maxEventAgeMs. */
  get oldLimit(): number {
    return this.clock.watermark - this.maxEventAgeMs;
  }

  /** The event clock's state as bytes, for the partition's checkpoint. */
  serializeClock(): Uint8Array {
    return this.clock.serialize();
  }

  /** Puts back the event clock from serializeClock()'s bytes (on assignment, with the users). */
  restoreClock(bytes: Uint8Array): void {
    this.clock.restore(bytes);
  }

  hasUser(userId: string): boolean {
    return this.users.has(userId);
  }

  /**
   * For each event i: status[i] = ACCEPTED and out[i·W .. i·W+W) = its feature vector
   * (W = FEATURES.length), or status[i] = FUTURE, TOO_OLD (the partition's bounds, checked first) or
   * LATE (see allowedLatenessMs) with the row set to NaN and no change to any state or the clock.
   * A user whose newest event is more than stateTtlMs before the watermark (as of the events before
   * this one) is first dropped, as expire() would have, and starts cold. `eventTimes[i]` is
   * events[i].timestamp in epoch ms; `wallMs` the wall time the batch was taken at (only widens the
   * future bound after a quiet spell; omitted: no widening). Returns the number not accepted.
   */
  processBatch(
    events: readonly Transaction[],
    eventTimes: ArrayLike<number>,
    out: Float64Array,
    status: Uint8Array,
    wallMs?: number,
  ): number {
    const n = events.length;
    if (eventTimes.length < n || status.length < n || out.length < n * WIDTH)
      throw new RangeError("processBatch: eventTimes, status or out is shorter than events");
    // Checked up front: a bad time must not leave half a batch applied.
    for (let i = 0; i < n; i++)
      if (!Number.isFinite(eventTimes[i]))
        throw new RangeError(`processBatch: eventTimes[${i}] is not finite`);
    let rejected = 0;
    for (let i = 0; i < n; i++) {
      const t = eventTimes[i] as number;
      let s: number;
      if (t > this.futureLimit(wallMs)) s = FUTURE;
      else if (t < this.oldLimit) s = TOO_OLD;
      else s = this.processOne(events[i] as Transaction, t, out, i * WIDTH) ? ACCEPTED : LATE;
      status[i] = s;
      if (s === ACCEPTED) {
        this.clock.add(t, wallMs);
      } else {
        rejected++;
        out.fill(Number.NaN, i * WIDTH, (i + 1) * WIDTH);
      }
    }
    return rejected;
  }

  private processOne(ev: Transaction, t: number, out: Float64Array, row: number): boolean {
    const userId = ev.user_id;
    let h = this.users.get(userId);
    let chunks = this.arena.chunks;
    const watermark = this.clock.watermark;
    if (h !== undefined) {
      // Idle past the TTL: the user starts afresh, exactly as if expire() had dropped it before this
      // event. Deciding by event time here (and not only in the periodic expire()) makes the features
      // independent of when expire() happens to run, so a restarted worker computes the same ones.
      const d = chunks[h >>> CHUNK_BITS] as Float64Array;
      const b = h & CHUNK_MASK;
      if ((d[b + H_MAX_SEEN] as number) < watermark - this.stateTtlMs) {
        this.arena.release(h, d[b + H_SIZE] as number);
        this.users.delete(userId);
        h = undefined;
      }
    }
    if (h === undefined) {
      h = this.allocUser(INITIAL_TAB_CAP, INITIAL_EV_CAP);
      chunks = this.arena.chunks;
      const d = chunks[h >>> CHUNK_BITS] as Float64Array;
      const b = h & CHUNK_MASK;
      d[b + H_MAX_SEEN] = t;
      d[b + H_TAIL_T] = Number.NEGATIVE_INFINITY;
      d[b + H_TAIL_LAT] = Number.NaN;
      d[b + H_TAIL_LON] = Number.NaN;
      this.users.set(userId, h);
    } else {
      const d = chunks[h >>> CHUNK_BITS] as Float64Array;
      const b = h & CHUNK_MASK;
      const maxSeen = d[b + H_MAX_SEEN] as number;
      if (t < maxSeen - this.allowedLatenessMs || t < (d[b + H_TAIL_T] as number)) return false;
    }
    writeStatelessFeatures(ev, t, out, row);

    let d = chunks[h >>> CHUNK_BITS] as Float64Array;
    let b = h & CHUNK_MASK;
    if (d[b + H_DIRTY] !== this.epoch) {
      d[b + H_DIRTY] = this.epoch;
      this.dirty.push(userId);
    }
    const amount = ev.amount;
    const lat = ev.latitude ?? Number.NaN;
    const lon = ev.longitude ?? Number.NaN;
    const kCountry = keyOf(K_COUNTRY, firstPresent(ev.country, undefined));
    const kDevice = keyOf(K_DEVICE, firstPresent(ev.device_id, ev.device));
    const kMerchant = keyOf(K_MERCHANT, firstPresent(ev.merchant_id, ev.merchant_name));
    const kCategory = keyOf(K_CATEGORY, firstPresent(ev.merchant_category, ev.mcc));
    const kCard = keyOf(K_CARD, firstPresent(ev.card_id, undefined));

    // ---- value table: look up this event's values, count cards seen at or before t, kinds held
    let tabCap = d[b + H_TAB_CAP] as number;
    const tabN = d[b + H_TAB_N] as number;
    let iCountry = -1;
    let iDevice = -1;
    let iMerchant = -1;
    let iCategory = -1;
    let iCard = -1;
    let cards = 0;
    for (let e = 0, p = b + HEADER; e < tabN; e++, p += TE) {
      const key = d[p + 1] as number;
      if (key >= CARD_KEYS) {
        if ((d[p] as number) <= t) cards++;
        if (key === kCard) iCard = e;
      } else if (key === kCountry) iCountry = e;
      else if (key === kDevice) iDevice = e;
      else if (key === kMerchant) iMerchant = e;
      else if (key === kCategory) iCategory = e;
    }

    // ---- buffered events: p = how many have event time ≤ t (all but the out-of-order tail)
    let evCap = d[b + H_EV_CAP] as number;
    let head = d[b + H_EV_HEAD] as number;
    let evN = d[b + H_EV_N] as number;
    let evBase = b + HEADER + TE * tabCap;
    let p = evN;
    while (p > 0) {
      let j = head + p - 1;
      if (j >= evCap) j -= evCap;
      if ((d[evBase + j * EV] as number) <= t) break;
      p--;
    }
    // Windows (t − W, t], newest first.
    let gen = this.generation + 1;
    if (gen > 0xffffffff) {
      this.stamp.fill(0);
      gen = 1;
    }
    this.generation = gen;
    const stamp = this.stamp;
    let count1m = 0;
    let sum1m = 0;
    let count1h = 0;
    let sum1h = 0;
    let max1h = 0;
    let count24h = 0;
    let sum24h = 0;
    let countries = 0;
    let devices = 0;
    let merchants = 0;
    const from24h = t - DAY;
    const from1h = t - HOUR;
    const from1m = t - MINUTE;
    // Buffered prior events (0..p-1): all of them for the spend, those in 24 h for the windows.
    let bufferedSum = 0;
    let bufferedCategory = 0;
    for (let q = p - 1; q >= 0; q--) {
      let j = head + q;
      if (j >= evCap) j -= evCap;
      const s = evBase + j * EV;
      const tq = d[s] as number;
      const a = d[s + 1] as number;
      const codes = d[s + 4] as number;
      bufferedSum += a;
      if (iCategory >= 0 && codes >>> 24 === iCategory) bufferedCategory += a;
      if (tq <= from24h) continue;
      count24h++;
      sum24h += a;
      if (tq > from1h) {
        count1h++;
        sum1h += a;
        if (a > max1h) max1h = a;
        if (tq > from1m) {
          count1m++;
          sum1m += a;
        }
      }
      const c0 = codes & 255;
      const c1 = (codes >>> 8) & 255;
      const c2 = (codes >>> 16) & 255;
      if (c0 !== NONE && stamp[c0] !== gen) {
        stamp[c0] = gen;
        countries++;
      }
      if (c1 !== NONE && stamp[c1] !== gen) {
        stamp[c1] = gen;
        devices++;
      }
      if (c2 !== NONE && stamp[c2] !== gen) {
        stamp[c2] = gen;
        merchants++;
      }
    }
    // The previous prior event: the newest buffered one at or before t, else the newest dropped one.
    let prevT: number;
    let prevLat: number;
    let prevLon: number;
    if (p > 0) {
      let j = head + p - 1;
      if (j >= evCap) j -= evCap;
      const s = evBase + j * EV;
      prevT = d[s] as number;
      prevLat = d[s + 2] as number;
      prevLon = d[s + 3] as number;
    } else {
      prevT = d[b + H_TAIL_T] as number;
      prevLat = d[b + H_TAIL_LAT] as number;
      prevLon = d[b + H_TAIL_LON] as number;
    }
    // Amount statistics: retired events (Welford aggregate) merged with the buffered prior ones
    // (two-pass), by Chan et al.'s formula; no subtraction of later events, so no cancellation.
    const oldN = d[b + H_OLD_N] as number;
    const priorN = oldN + p;
    let mean = 0;
    let std = 0;
    let z = 0;
    let share = 0;
    if (priorN > 0) {
      let m2 = 0;
      if (p > 0) {
        const bufferedMean = bufferedSum / p;
        let bufferedM2 = 0;
        for (let q = 0; q < p; q++) {
          let j = head + q;
          if (j >= evCap) j -= evCap;
          const x = (d[evBase + j * EV + 1] as number) - bufferedMean;
          bufferedM2 += x * x;
        }
        if (oldN > 0) {
          const oldMean = d[b + H_OLD_MEAN] as number;
          const delta = bufferedMean - oldMean;
          mean = oldMean + (delta * p) / priorN;
          m2 = (d[b + H_OLD_M2] as number) + bufferedM2 + (delta * delta * oldN * p) / priorN;
        } else {
          mean = bufferedMean;
          m2 = bufferedM2;
        }
      } else {
        mean = d[b + H_OLD_MEAN] as number;
        m2 = d[b + H_OLD_M2] as number;
      }
      std = Math.sqrt(m2 / priorN);
      if (priorN >= 2) z = (amount - mean) / Math.max(std, 0.01 * mean);
      const total = (d[b + H_OLD_TOTAL] as number) + bufferedSum;
      if (iCategory >= 0 && total > 0) {
        const inCategory = (d[b + HEADER + iCategory * TE + 2] as number) + bufferedCategory;
        share = Math.min(1, inCategory / total);
      }
    }
    let distance = 0;
    let speed = 0;
    if (prevT !== Number.NEGATIVE_INFINITY && !Number.isNaN(lat + lon + prevLat + prevLon)) {
      distance = haversineKm(prevLat, prevLon, lat, lon);
      speed = distance / (Math.max(t - prevT, MINUTE) / HOUR);
    }
    out[row + C_COUNT_1M] = count1m;
    out[row + C_SUM_1M] = sum1m;
    out[row + C_COUNT_1H] = count1h;
    out[row + C_SUM_1H] = sum1h;
    out[row + C_COUNT_24H] = count24h;
    out[row + C_SUM_24H] = sum24h;
    out[row + C_MAX_1H] = max1h;
    out[row + C_COUNTRIES_24H] = countries;
    out[row + C_DEVICES_24H] = devices;
    out[row + C_MERCHANTS_24H] = merchants;
    out[row + C_USER_COUNT] = priorN;
    out[row + C_MEAN] = mean;
    out[row + C_STD] = std;
    out[row + C_ZSCORE] = z;
    out[row + C_SINCE_PREV] = prevT === Number.NEGATIVE_INFINITY ? -1 : (t - prevT) / 1000;
    out[row + C_DISTANCE] = distance;
    out[row + C_SPEED] = speed;
    out[row + C_NEW_DEVICE] = kDevice >= 0 && !seenAt(d, b, iDevice, t) ? 1 : 0;
    out[row + C_NEW_MERCHANT] = kMerchant >= 0 && !seenAt(d, b, iMerchant, t) ? 1 : 0;
    out[row + C_NEW_COUNTRY] = kCountry >= 0 && !seenAt(d, b, iCountry, t) ? 1 : 0;
    out[row + C_CATEGORY_SHARE] = share;
    out[row + C_CARDS] = cards;

    // ---- update: drop buffered events older than any future window can reach
    const maxSeen = Math.max(d[b + H_MAX_SEEN] as number, t);
    d[b + H_MAX_SEEN] = maxSeen;
    const keepFrom = maxSeen - this.allowedLatenessMs - DAY;
    while (evN > 0) {
      const s = evBase + head * EV;
      if ((d[s] as number) >= keepFrom) break;
      retire(d, b, s);
      head = head + 1 === evCap ? 0 : head + 1;
      evN--;
      p--;
    }
    d[b + H_EV_HEAD] = head;
    d[b + H_EV_N] = evN;

    // Room: one relocation at most, for the new table entries and the new event together.
    // A value not in the table is added unless its kind is at its cap (counted only then: it is rare).
    let adds = 0;
    const kindCount = this.kindCount;
    kindCount[0] = kindCount[1] = kindCount[2] = kindCount[3] = kindCount[4] = -1;
    if (kCountry >= 0 && iCountry < 0 && this.kindRoom(d, b, K_COUNTRY)) adds++;
    if (kDevice >= 0 && iDevice < 0 && this.kindRoom(d, b, K_DEVICE)) adds++;
    if (kMerchant >= 0 && iMerchant < 0 && this.kindRoom(d, b, K_MERCHANT)) adds++;
    if (kCategory >= 0 && iCategory < 0 && this.kindRoom(d, b, K_CATEGORY)) adds++;
    if (kCard >= 0 && iCard < 0 && this.kindRoom(d, b, K_CARD)) adds++;
    const needTab = tabN + adds > tabCap;
    const needEv = evN === evCap && evCap < this.maxEventsPerUser;
    if (needTab || needEv) {
      const newTabCap = needTab ? Math.max(tabN + adds, grown(tabCap, TABLE_MAX)) : tabCap;
      const newEvCap = needEv ? grown(evCap, this.maxEventsPerUser) : evCap;
      h = this.relocate(userId, h, newTabCap, newEvCap);
      chunks = this.arena.chunks;
      d = chunks[h >>> CHUNK_BITS] as Float64Array;
      b = h & CHUNK_MASK;
      tabCap = newTabCap;
      evCap = newEvCap;
      head = 0;
      evBase = b + HEADER + TE * tabCap;
    }

    // Table: first-seen times, category spend, new entries.
    const cCountry = this.place(d, b, iCountry, kCountry, K_COUNTRY, t);
    const cDevice = this.place(d, b, iDevice, kDevice, K_DEVICE, t);
    const cMerchant = this.place(d, b, iMerchant, kMerchant, K_MERCHANT, t);
    const cCategory = this.place(d, b, iCategory, kCategory, K_CATEGORY, t);
    this.place(d, b, iCard, kCard, K_CARD, t);

    // Buffer: insert at p, keeping (event time, arrival) order; at the cap the oldest event goes.
    if (evN === evCap) {
      if (p === 0) {
        // The new event is the oldest of a full buffer: it is retired at once.
        retireValues(d, b, t, amount, lat, lon, cCategory);
        return true;
      }
      retire(d, b, evBase + head * EV);
      head = head + 1 === evCap ? 0 : head + 1;
      evN--;
      p--;
    }
    for (let q = evN; q > p; q--) {
      let to = head + q;
      if (to >= evCap) to -= evCap;
      let from = to - 1;
      if (from < 0) from += evCap;
      d.copyWithin(evBase + to * EV, evBase + from * EV, evBase + from * EV + EV);
    }
    let j = head + p;
    if (j >= evCap) j -= evCap;
    const s = evBase + j * EV;
    d[s] = t;
    d[s + 1] = amount;
    d[s + 2] = lat;
    d[s + 3] = lon;
    d[s + 4] = (cCountry | (cDevice << 8) | (cMerchant << 16) | (cCategory << 24)) >>> 0;
    d[b + H_EV_HEAD] = head;
    d[b + H_EV_N] = evN + 1;
    return true;
  }

  /** Whether the user's table has room for another value of this kind (counts are cached per event). */
  private kindRoom(d: Float64Array, b: number, kind: number): boolean {
    let count = this.kindCount[kind] as number;
    if (count < 0) {
      count = 0;
      const tabN = d[b + H_TAB_N] as number;
      for (let e = 0, p = b + HEADER + 1; e < tabN; e++, p += TE)
        if (Math.floor((d[p] as number) / TWO32) === kind) count++;
      this.kindCount[kind] = count;
    }
    return count < (VALUE_CAPS[kind] as number);
  }

  /** Records a value of the event in the table; returns its entry index, or NONE when not kept. */
  private place(d: Float64Array, b: number, idx: number, key: number, kind: number, t: number): number {
    if (idx >= 0) {
      const s = b + HEADER + idx * TE;
      if ((d[s] as number) > t) d[s] = t;
      return idx;
    }
    if (key < 0 || !this.kindRoom(d, b, kind)) return NONE;
    const n = d[b + H_TAB_N] as number;
    const s = b + HEADER + n * TE;
    d[s] = t;
    d[s + 1] = key;
    d[s + 2] = 0;
    d[b + H_TAB_N] = n + 1;
    return n;
  }

  private allocUser(tabCap: number, evCap: number): number {
    const size = blockSize(tabCap, evCap);
    const h = this.arena.alloc(size);
    const d = this.arena.chunks[h >>> CHUNK_BITS] as Float64Array;
    const b = h & CHUNK_MASK;
    d.fill(0, b, b + HEADER);
    d[b + H_SIZE] = size;
    d[b + H_TAB_CAP] = tabCap;
    d[b + H_EV_CAP] = evCap;
    return h;
  }

  /** Moves a user to a block with the given capacities; the ring is unrolled so head becomes 0. */
  private relocate(userId: string, h: number, tabCap: number, evCap: number): number {
    const nh = this.allocUser(tabCap, evCap);
    const chunks = this.arena.chunks;
    const od = chunks[h >>> CHUNK_BITS] as Float64Array;
    const ob = h & CHUNK_MASK;
    const nd = chunks[nh >>> CHUNK_BITS] as Float64Array;
    const nb = nh & CHUNK_MASK;
    const oldSize = od[ob + H_SIZE] as number;
    const oldTabCap = od[ob + H_TAB_CAP] as number;
    const oldEvCap = od[ob + H_EV_CAP] as number;
    const head = od[ob + H_EV_HEAD] as number;
    const evN = od[ob + H_EV_N] as number;
    const tabN = od[ob + H_TAB_N] as number;
    for (let k = H_TAB_N; k < HEADER; k++) nd[nb + k] = od[ob + k] as number;
    nd[nb + H_TAB_CAP] = tabCap;
    nd[nb + H_EV_CAP] = evCap;
    nd[nb + H_EV_HEAD] = 0;
    for (let k = HEADER; k < HEADER + tabN * TE; k++) nd[nb + k] = od[ob + k] as number;
    const oe = ob + HEADER + TE * oldTabCap;
    const ne = nb + HEADER + TE * tabCap;
    for (let q = 0; q < evN; q++) {
      let j = head + q;
      if (j >= oldEvCap) j -= oldEvCap;
      for (let k = 0; k < EV; k++) nd[ne + q * EV + k] = od[oe + j * EV + k] as number;
    }
    this.arena.release(h, oldSize);
    this.users.set(userId, nh);
    return nh;
  }

  /**
   * Drops the state of users whose newest event time is more than stateTtlMs before `watermarkMs`
   * (event time; default the engine's own watermark, which keeps the result independent of when this
   * runs: processBatch applies the same rule to a user's next event). Returns their ids; they are also reported by
   * dirtyUsers(), with serializeUser() returning undefined, so their checkpoints can be deleted.
   * Cost: one pass over all users; call it every few seconds, not per batch.
   */
  expire(watermarkMs: number = this.clock.watermark): string[] {
    const limit = watermarkMs - this.stateTtlMs;
    const dropped: string[] = [];
    const chunks = this.arena.chunks;
    for (const [userId, h] of this.users) {
      const d = chunks[h >>> CHUNK_BITS] as Float64Array;
      const b = h & CHUNK_MASK;
      if ((d[b + H_MAX_SEEN] as number) < limit) {
        this.arena.release(h, d[b + H_SIZE] as number);
        this.users.delete(userId);
        this.dirty.push(userId);
        dropped.push(userId);
      }
    }
    if (this.arenaBytes() > 2 * this.stateBytes() + COMPACT_SLACK_BYTES) this.compact();
    return dropped;
  }

  /**
   * Users whose state changed or was dropped since the last clearDirty(): write serializeUser() of each
   * to the checkpoint, or delete the user's checkpoint when it returns undefined.
   */
  dirtyUsers(): ReadonlySet<string> {
    return new Set(this.dirty);
  }

  /** Call once the dirty users' state is durably checkpointed. O(1): the epoch moves on. */
  clearDirty(): void {
    this.epoch++;
    this.dirty = [];
  }

  /**
   * Copies every user into a fresh, densely packed arena and frees the old one. Growing users leave
   * blocks of outgrown sizes behind that only other growing users can reuse; this returns that memory.
   * Needs the live state's size again while it runs. expire() calls it when the arena is over twice
   * the live state.
   */
  compact(): void {
    const old = this.arena;
    const fresh = new Arena();
    this.arena = fresh;
    for (const [userId, h] of this.users) {
      const od = old.chunks[h >>> CHUNK_BITS] as Float64Array;
      const ob = h & CHUNK_MASK;
      const size = od[ob + H_SIZE] as number;
      const nh = fresh.alloc(size);
      const nd = fresh.chunks[nh >>> CHUNK_BITS] as Float64Array;
      const nb = nh & CHUNK_MASK;
      for (let k = 0; k < size; k++) nd[nb + k] = od[ob + k] as number;
      this.users.set(userId, nh);
    }
    old.chunks.length = 0;
  }

  /**
   * Drops every user and forgets pending changes: for a revoked partition, whose checkpoints now belong
   * to the new owner (nothing to write, nothing to delete).
   */
  clear(): void {
    this.users.clear();
    this.arena.chunks.length = 0;
    this.arena = new Arena();
    this.dirty = [];
    this.epoch++;
    this.clock = new EventClock();
  }

  /**
   * Drops one user's state without marking it dirty. With restoreUser() this rolls back a batch whose
   * checkpoint write failed: for each of dirtyUsers(), restore the checkpointed bytes, or drop the user
   * when it has no checkpoint; then clearDirty().
   */
  dropUser(userId: string): boolean {
    const h = this.users.get(userId);
    if (h === undefined) return false;
    const d = this.arena.chunks[h >>> CHUNK_BITS] as Float64Array;
    this.arena.release(h, d[(h & CHUNK_MASK) + H_SIZE] as number);
    this.users.delete(userId);
    return true;
  }

  /**
   * The user's state as bytes (little-endian doubles, format STATE_FORMAT_VERSION), or undefined when
   * the engine holds none for this user (never seen, expired, or cleared: delete its checkpoint).
   */
  serializeUser(userId: string): Uint8Array | undefined {
    const h = this.users.get(userId);
    if (h === undefined) return undefined;
    const d = this.arena.chunks[h >>> CHUNK_BITS] as Float64Array;
    const b = h & CHUNK_MASK;
    const tabN = d[b + H_TAB_N] as number;
    const evN = d[b + H_EV_N] as number;
    const evCap = d[b + H_EV_CAP] as number;
    const head = d[b + H_EV_HEAD] as number;
    const f = new Float64Array(3 + HEADER + tabN * TE + evN * EV);
    f[0] = STATE_FORMAT_VERSION;
    f[1] = tabN;
    f[2] = evN;
    f.set(d.subarray(b, b + HEADER), 3);
    // Capacities and ring position are this engine's business: the bytes depend on the state alone.
    f[3 + H_SIZE] = 0;
    f[3 + H_TAB_CAP] = 0;
    f[3 + H_EV_CAP] = 0;
    f[3 + H_EV_HEAD] = 0;
    f[3 + H_DIRTY] = 0;
    f.set(d.subarray(b + HEADER, b + HEADER + tabN * TE), 3 + HEADER);
    const evBase = b + HEADER + TE * (d[b + H_TAB_CAP] as number);
    let o = 3 + HEADER + tabN * TE;
    for (let q = 0; q < evN; q++, o += EV) {
      let j = head + q;
      if (j >= evCap) j -= evCap;
      f.set(d.subarray(evBase + j * EV, evBase + j * EV + EV), o);
    }
    return new Uint8Array(f.buffer);
  }

  /** Replaces the user's state with bytes from serializeUser(). The user is not marked dirty. */
  restoreUser(userId: string, bytes: Uint8Array): void {
    if (bytes.byteLength % 8 !== 0 || bytes.byteLength < (3 + HEADER) * 8)
      throw new FeatureStateError(`state of user ${userId}: ${bytes.byteLength} bytes is not a valid state`);
    const f = new Float64Array(bytes.slice().buffer);
    if (f[0] !== STATE_FORMAT_VERSION)
      throw new FeatureStateError(
        `state of user ${userId} has format ${f[0]}, this engine reads ${STATE_FORMAT_VERSION}`,
      );
    const tabN = f[1] as number;
    const evN = f[2] as number;
    if (f.length !== 3 + HEADER + tabN * TE + evN * EV || tabN > TABLE_MAX)
      throw new FeatureStateError(`state of user ${userId} is truncated or corrupt`);
    if (evN > this.maxEventsPerUser)
      throw new FeatureStateError(
        `state of user ${userId} holds ${evN} events, more than maxEventsPerUser=${this.maxEventsPerUser}`,
      );
    const old = this.users.get(userId);
    if (old !== undefined) {
      const od = this.arena.chunks[old >>> CHUNK_BITS] as Float64Array;
      this.arena.release(old, od[(old & CHUNK_MASK) + H_SIZE] as number);
    }
    const tabCap = Math.max(INITIAL_TAB_CAP, tabN);
    const evCap = Math.min(this.maxEventsPerUser, Math.max(INITIAL_EV_CAP, evN));
    const h = this.allocUser(Math.max(tabCap, tabN), Math.max(evCap, evN));
    const d = this.arena.chunks[h >>> CHUNK_BITS] as Float64Array;
    const b = h & CHUNK_MASK;
    const size = d[b + H_SIZE] as number;
    d.set(f.subarray(3, 3 + HEADER), b);
    d[b + H_SIZE] = size;
    d[b + H_TAB_CAP] = tabCap;
    d[b + H_EV_CAP] = evCap;
    d[b + H_EV_HEAD] = 0;
    d[b + H_DIRTY] = 0;
    d[b + H_TAB_N] = tabN;
    d[b + H_EV_N] = evN;
    d.set(f.subarray(3 + HEADER, 3 + HEADER + tabN * TE), b + HEADER);
    d.set(f.subarray(3 + HEADER + tabN * TE), b + HEADER + TE * tabCap);
    this.users.set(userId, h);
  }

  /** Every user with state (for a full checkpoint). */
  userIds(): IterableIterator<string> {
    return this.users.keys();
  }
}
