// State and features of entities (card, merchant, device, IP, user or any contract field) over
// event-time windows of up to 30 days, with bounded memory, and confirmed fraud labels folded in at the
// time they became known. Pure: no I/O, no wall clock. The definitions are in entity.ts; the exact
// meaning of a window, of a label "known before" an event and of the distinct-count error is in
// docs/features.md ("Entity features").
//
// Input order. Events and labels are processed in event-time order (labels at their known-at time),
// and at equal times events before labels: the engine refuses anything else with a RangeError. This is
// what the worker's repartition consumers do behind their watermark (docs/features.md, "Entity state
// on Kafka") and what the offline tools do by sorting (src/offline/entity-dataset.ts); it is also what
// makes "a label counts only once known, strictly before the event" hold by construction.
//
// Layout. Definitions are grouped by key. For each key, each bucket width B in use has a series: a ring
// of the entity's non-empty buckets, oldest first, each [bucket index, count, sum, max, fraud, share
// matches…, distinct first-seens…]. Each (width, window) pair has running totals over the buckets in
// its window, moved forward as time passes (add the new, subtract what leaves), so a feature costs
// O(1) per event and a bucket's fields are written once per event. Distinct counts keep, per value, the
// time it was last seen (values are 32-bit hashes), and attribute each value to the bucket of its last
// sighting: the distinct count of a window is then the sum of its buckets' attributions. Beyond
// `exactDistinct` live values an entity switches to a sliding HyperLogLog for that key.
import type { Transaction } from "../contract/transaction.ts";
import { type EntityFeature, type EntityKey, entityValue } from "./entity.ts";

/** Default for EntityEngineOptions.exactDistinct. */
export const DEFAULT_EXACT_DISTINCT = 256;
/** Registers of the sliding HyperLogLog (relative standard error 1.04/√128 ≈ 9.2 %). */
export const HLL_REGISTERS = 128;
const HLL_BITS = 7;
/** Ranks 1 … 26 from the 25 bits left of a 32-bit hash. */
const HLL_RANKS = 27;
const HLL_ALPHA = 0.7213 / (1 + 1.079 / HLL_REGISTERS);

export interface EntityEngineOptions {
  /**
   * Live distinct values an entity tracks exactly per distinct-count key; beyond it, a sliding
   * HyperLogLog of HLL_REGISTERS registers takes over for that entity and key (default 256).
   */
  exactDistinct?: number;
}

/** 32-bit FNV-1a with the murmur3 finaliser (the sketch needs all bits mixed). */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

// Bucket fields.
const B_INDEX = 0;
const B_COUNT = 1;
const B_SUM = 2;
const B_MAX = 3;
const B_FRAUD = 4;
const B_FIXED = 5;
// Window running totals.
const W_COUNT = 0;
const W_SUM = 1;
const W_FRAUD = 2;
const W_FIXED = 3;

interface WindowPlan {
  windowMs: number;
  series: number;
}

interface SeriesPlan {
  bucketMs: number;
  /** Longest window over this series: buckets older than it are dropped. */
  maxWindowMs: number;
  windows: number[];
}

interface OutputPlan {
  feature: EntityFeature;
  window: number;
  /** share: match slot; distinct: distinct slot. */
  slot: number;
}

interface GroupPlan {
  key: EntityKey;
  series: SeriesPlan[];
  windows: WindowPlan[];
  shares: { field: string; equals: string }[];
  /** Per distinct key: its windows, their windows per series, the longest. */
  distinct: { of: EntityKey; windows: number[]; bySeries: number[][]; maxWindowMs: number }[];
  outputs: { column: number; plan: OutputPlan }[];
  hasFraud: boolean;
  /** Longest window: an entity idle this long holds nothing any window can see and starts afresh. */
  spanMs: number;
  stride: number;
  wstride: number;
}

/** Non-empty buckets of one entity and width, oldest first: a ring addressed by sequence number. */
class Ring {
  buf: Float64Array;
  mask: number;
  head = 0;
  tail = 0;
  readonly stride: number;
  constructor(stride: number, cap = 4) {
    this.stride = stride;
    this.buf = new Float64Array(cap * stride);
    this.mask = cap - 1;
  }
  at(seq: number): number {
    return (seq & this.mask) * this.stride;
  }
  /** Sequence number of the bucket with this index, or -1. */
  find(index: number): number {
    let lo = this.head;
    let hi = this.tail - 1;
    const b = this.buf;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = b[this.at(mid) + B_INDEX] as number;
      if (x === index) return mid;
      if (x < index) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
  /** Appends an empty bucket with this index; returns its sequence number. */
  push(index: number): number {
    if (this.tail - this.head > this.mask) this.grow();
    const seq = this.tail++;
    const o = this.at(seq);
    this.buf.fill(0, o, o + this.stride);
    this.buf[o + B_INDEX] = index;
    return seq;
  }
  /** Doubles the ring; sequence numbers stay (windows keep theirs). */
  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const next = new Float64Array(cap * this.stride);
    for (let q = this.head; q < this.tail; q++) {
      const from = this.at(q);
      next.set(this.buf.subarray(from, from + this.stride), (q & (cap - 1)) * this.stride);
    }
    this.buf = next;
    this.mask = cap - 1;
  }
}

/**
 * Distinct values over sliding windows: for each of HLL_REGISTERS registers, the last time each rank
 * was observed; a window's register value is the highest rank seen since the window's start. Each
 * window caches its register values for its current start, updated in O(1) per insert.
 */
class SlidingHll {
  readonly last = new Float64Array(HLL_REGISTERS * HLL_RANKS).fill(Number.NEGATIVE_INFINITY);
  readonly starts: Float64Array;
  readonly regs: Uint8Array;
  readonly sums: Float64Array;
  readonly zeros: Int32Array;
  constructor(windows: number) {
    this.starts = new Float64Array(windows).fill(Number.NaN);
    this.regs = new Uint8Array(windows * HLL_REGISTERS);
    this.sums = new Float64Array(windows);
    this.zeros = new Int32Array(windows);
  }
  add(h: number, t: number): void {
    const j = h >>> (32 - HLL_BITS);
    const rank = Math.clz32(((h << HLL_BITS) | (1 << (HLL_BITS - 1))) >>> 0) + 1;
    this.last[j * HLL_RANKS + rank] = t;
    for (let w = 0; w < this.starts.length; w++) {
      if (Number.isNaN(this.starts[w] as number)) continue;
      const r = this.regs[w * HLL_REGISTERS + j] as number;
      if (rank > r) {
        this.regs[w * HLL_REGISTERS + j] = rank;
        this.sums[w] = (this.sums[w] as number) + 2 ** -rank - 2 ** -r;
        if (r === 0) this.zeros[w] = (this.zeros[w] as number) - 1;
      }
    }
  }
  /** Estimated distinct values seen at or after `start`. */
  estimate(w: number, start: number): number {
    if (this.starts[w] !== start) {
      this.starts[w] = start;
      let sum = 0;
      let zeros = 0;
      for (let j = 0; j < HLL_REGISTERS; j++) {
        let r = HLL_RANKS - 1;
        while (r > 0 && (this.last[j * HLL_RANKS + r] as number) < start) r--;
        this.regs[w * HLL_REGISTERS + j] = r;
        sum += 2 ** -r;
        if (r === 0) zeros++;
      }
      this.sums[w] = sum;
      this.zeros[w] = zeros;
    }
    const m = HLL_REGISTERS;
    const zeros = this.zeros[w] as number;
    if (zeros === m) return 0;
    const e = (HLL_ALPHA * m * m) / (this.sums[w] as number);
    return e <= 2.5 * m && zeros > 0 ? m * Math.log(m / zeros) : e;
  }
}

class EntityState {
  last: number;
  readonly series: Ring[];
  /** Per window: running totals [count, sum, fraud, share matches…, distinct…]. */
  readonly win: Float64Array;
  /** Per window: sequence number of its oldest bucket in its series' ring. */
  readonly front: Float64Array;
  /** Per distinct key: value hash → last time seen, until the entity switches to the sketch. */
  readonly seen: (Map<number, number> | undefined)[];
  readonly sketch: (SlidingHll | undefined)[];
  readonly pruneAt: number[];
  /** Transactions labelled fraud (hash of transaction_id → event time), to apply corrections once. */
  fraudTx: Map<number, number> | undefined;
  fraudPruneAt = 64;
  constructor(g: GroupPlan, t: number, exactDistinct: number) {
    this.last = t;
    this.series = g.series.map(() => new Ring(g.stride));
    this.win = new Float64Array(g.windows.length * g.wstride);
    this.front = new Float64Array(g.windows.length);
    this.seen = g.distinct.map(() => new Map());
    this.sketch = g.distinct.map(() => undefined);
    this.pruneAt = g.distinct.map(() => Math.min(64, exactDistinct));
  }
}

function plan(features: readonly EntityFeature[]): GroupPlan[] {
  const groups = new Map<EntityKey, GroupPlan>();
  features.forEach((f, column) => {
    let g = groups.get(f.key);
    if (g === undefined) {
      g = {
        key: f.key,
        series: [],
        windows: [],
        shares: [],
        distinct: [],
        outputs: [],
        hasFraud: false,
        spanMs: 0,
        stride: 0,
        wstride: 0,
      };
      groups.set(f.key, g);
    }
    let s = g.series.findIndex((x) => x.bucketMs === f.bucketMs);
    if (s < 0) {
      s = g.series.length;
      g.series.push({ bucketMs: f.bucketMs, maxWindowMs: 0, windows: [] });
    }
    const series = g.series[s] as SeriesPlan;
    series.maxWindowMs = Math.max(series.maxWindowMs, f.windowMs);
    let w = g.windows.findIndex((x) => x.series === s && x.windowMs === f.windowMs);
    if (w < 0) {
      w = g.windows.length;
      g.windows.push({ windowMs: f.windowMs, series: s });
      series.windows.push(w);
    }
    g.spanMs = Math.max(g.spanMs, f.windowMs);
    let slot = 0;
    const a = f.aggregate;
    if (a.kind === "share") {
      slot = g.shares.findIndex((x) => x.field === a.field && x.equals === a.equals);
      if (slot < 0) {
        slot = g.shares.length;
        g.shares.push({ field: a.field, equals: a.equals });
      }
    } else if (a.kind === "distinct") {
      slot = g.distinct.findIndex((x) => x.of === a.of);
      if (slot < 0) {
        slot = g.distinct.length;
        g.distinct.push({ of: a.of, windows: [], bySeries: [], maxWindowMs: 0 });
      }
      const d = g.distinct[slot] as GroupPlan["distinct"][number];
      if (!d.windows.includes(w)) d.windows.push(w);
      d.maxWindowMs = Math.max(d.maxWindowMs, f.windowMs);
    } else if (a.kind === "fraud_rate") g.hasFraud = true;
    g.outputs.push({ column, plan: { feature: f, window: w, slot } });
  });
  for (const g of groups.values()) {
    g.stride = B_FIXED + g.shares.length + g.distinct.length;
    g.wstride = W_FIXED + g.shares.length + g.distinct.length;
    for (const d of g.distinct)
      d.bySeries = g.series.map((sp) => sp.windows.filter((w) => d.windows.includes(w)));
  }
  return [...groups.values()];
}

/**
 * Entity features of a stream of events and labels in event-time order. processEvent writes, for each
 * feature, the value computed from the entity's prior events (and labels known before the event), then
 * adds the event to the state. Deterministic for a given sequence of calls.
 */
export class EntityEngine {
  readonly features: readonly EntityFeature[];
  readonly exactDistinct: number;
  private readonly groups: GroupPlan[];
  private readonly states: Map<string, EntityState>[];
  /** Newest time seen (event time of events, known-at time of labels). */
  private clock = Number.NEGATIVE_INFINITY;
  /** Whether a label was processed at `clock` (an event at that time would then come too late). */
  private labelAtClock = false;

  constructor(features: readonly EntityFeature[], options: EntityEngineOptions = {}) {
    const exact = options.exactDistinct ?? DEFAULT_EXACT_DISTINCT;
    if (!Number.isInteger(exact) || exact < 1 || exact > 1 << 20)
      throw new RangeError("exactDistinct must be an integer in 1..1048576");
    this.features = features;
    this.exactDistinct = exact;
    this.groups = plan(features);
    this.states = this.groups.map(() => new Map());
  }

  /** Newest time processed (events: event time; labels: known-at time). */
  get time(): number {
    return this.clock;
  }

  /** Entities with state, per key (for benchmarks and memory accounting). */
  entityCount(): number {
    return this.states.reduce((n, m) => n + m.size, 0);
  }

  /**
   * For each event i (in event-time order, see the file header): its features at
   * out[i·stride + offset …] (features.length values), then the event is added to the state.
   */
  processBatch(
    events: readonly Transaction[],
    times: ArrayLike<number>,
    out: Float64Array,
    stride: number,
    offset: number,
  ): void {
    for (let i = 0; i < events.length; i++)
      this.processEvent(events[i] as Transaction, times[i] as number, out, i * stride + offset);
  }

  processEvent(ev: Transaction, t: number, out: Float64Array, at: number): void {
    if (!Number.isFinite(t)) throw new RangeError("entity engine: event time is not finite");
    if (t < this.clock || (t === this.clock && this.labelAtClock))
      throw new RangeError(
        `entity engine: event at ${new Date(t).toISOString()} after ${this.labelAtClock ? "a label known at" : "an event at"} ${new Date(this.clock).toISOString()}; input must be in event-time order, events before labels at equal times`,
      );
    if (t > this.clock) this.labelAtClock = false;
    this.clock = t;
    for (let gi = 0; gi < this.groups.length; gi++) {
      const g = this.groups[gi] as GroupPlan;
      const value = entityValue(ev, g.key);
      if (value === undefined) {
        for (const o of g.outputs) out[at + o.column] = o.plan.feature.cold;
        continue;
      }
      const map = this.states[gi] as Map<string, EntityState>;
      let s = map.get(value);
      if (s !== undefined && t - s.last >= g.spanMs) s = undefined;
      if (s === undefined) {
        s = new EntityState(g, t, this.exactDistinct);
        map.set(value, s);
      }
      this.advance(g, s, t);
      this.read(g, s, t, out, at);
      this.add(g, s, ev, t);
    }
  }

  /**
   * A label: `fraud` for the transaction `tx` (event time `txTime`), known at `knownAt` (≥ every time
   * processed so far). It counts for events after knownAt: fraud rates see it from then on. A later
   * legit label for a transaction labelled fraud takes it back; repeated labels count once.
   */
  processLabel(tx: Transaction, txTime: number, fraud: boolean, knownAt: number): void {
    if (!Number.isFinite(knownAt) || !Number.isFinite(txTime))
      throw new RangeError("entity engine: label times must be finite");
    if (knownAt < this.clock)
      throw new RangeError(
        `entity engine: label known at ${new Date(knownAt).toISOString()} after time ${new Date(this.clock).toISOString()}; input must be in event-time order`,
      );
    this.clock = knownAt;
    this.labelAtClock = true;
    const id = hash32(tx.transaction_id);
    for (let gi = 0; gi < this.groups.length; gi++) {
      const g = this.groups[gi] as GroupPlan;
      if (!g.hasFraud) continue;
      const value = entityValue(tx, g.key);
      if (value === undefined) continue;
      const s = (this.states[gi] as Map<string, EntityState>).get(value);
      if (s === undefined || knownAt - s.last >= g.spanMs) continue;
      const was = s.fraudTx?.has(id) ?? false;
      if (fraud === was) continue;
      const delta = fraud ? 1 : -1;
      let applied = false;
      for (let si = 0; si < g.series.length; si++) {
        const sp = g.series[si] as SeriesPlan;
        const ring = s.series[si] as Ring;
        const seq = ring.find(Math.floor(txTime / sp.bucketMs));
        if (seq < 0) continue;
        applied = true;
        const o = ring.at(seq);
        ring.buf[o + B_FRAUD] = (ring.buf[o + B_FRAUD] as number) + delta;
        for (const w of sp.windows)
          if (seq >= (s.front[w] as number)) {
            const p = w * g.wstride + W_FRAUD;
            s.win[p] = (s.win[p] as number) + delta;
          }
      }
      if (!fraud) s.fraudTx?.delete(id);
      else if (applied) {
        // Only a label that found its transaction's bucket is remembered (and can be taken back).
        s.fraudTx ??= new Map();
        s.fraudTx.set(id, txTime);
        if (s.fraudTx.size > s.fraudPruneAt) {
          for (const [k, te] of s.fraudTx) if (te <= knownAt - g.spanMs) s.fraudTx.delete(k);
          s.fraudPruneAt = Math.max(64, 2 * s.fraudTx.size);
        }
      }
    }
  }

  /** Moves every window's start to event time t, subtracting the buckets that leave it. */
  private advance(g: GroupPlan, s: EntityState, t: number): void {
    const ws = g.wstride;
    const extra = g.shares.length + g.distinct.length;
    for (let si = 0; si < g.series.length; si++) {
      const sp = g.series[si] as SeriesPlan;
      const ring = s.series[si] as Ring;
      const b = ring.buf;
      for (const w of sp.windows) {
        const first = Math.floor((t - (g.windows[w] as WindowPlan).windowMs) / sp.bucketMs) + 1;
        let f = s.front[w] as number;
        const p = w * ws;
        while (f < ring.tail) {
          const o = ring.at(f);
          if ((b[o + B_INDEX] as number) >= first) break;
          s.win[p + W_COUNT] = (s.win[p + W_COUNT] as number) - (b[o + B_COUNT] as number);
          s.win[p + W_SUM] = (s.win[p + W_SUM] as number) - (b[o + B_SUM] as number);
          s.win[p + W_FRAUD] = (s.win[p + W_FRAUD] as number) - (b[o + B_FRAUD] as number);
          for (let k = 0; k < extra; k++)
            s.win[p + W_FIXED + k] = (s.win[p + W_FIXED + k] as number) - (b[o + B_FIXED + k] as number);
          f++;
        }
        s.front[w] = f;
        // An emptied window restarts from exact zeros: no rounding residue of the subtractions.
        if (f === ring.tail) s.win.fill(0, p, p + ws);
      }
      // Buckets before every window of this width are dropped.
      const keep = Math.floor((t - sp.maxWindowMs) / sp.bucketMs) + 1;
      while (ring.head < ring.tail && (b[ring.at(ring.head) + B_INDEX] as number) < keep) ring.head++;
    }
  }

  private read(g: GroupPlan, s: EntityState, t: number, out: Float64Array, at: number): void {
    const ws = g.wstride;
    for (const { column, plan: o } of g.outputs) {
      const f = o.feature;
      const p = o.window * ws;
      const count = s.win[p + W_COUNT] as number;
      let x: number;
      if (count === 0) x = f.cold;
      else
        switch (f.aggregate.kind) {
          case "count":
            x = count;
            break;
          case "sum":
            x = s.win[p + W_SUM] as number;
            break;
          case "mean":
            x = (s.win[p + W_SUM] as number) / count;
            break;
          case "max": {
            const wp = g.windows[o.window] as WindowPlan;
            const ring = s.series[wp.series] as Ring;
            x = Number.NEGATIVE_INFINITY;
            for (let q = s.front[o.window] as number; q < ring.tail; q++)
              x = Math.max(x, ring.buf[ring.at(q) + B_MAX] as number);
            break;
          }
          case "share":
            x = (s.win[p + W_FIXED + o.slot] as number) / count;
            break;
          case "distinct": {
            const sk = s.sketch[o.slot];
            if (sk === undefined) x = s.win[p + W_FIXED + g.shares.length + o.slot] as number;
            else {
              const wp = g.windows[o.window] as WindowPlan;
              const bucketMs = (g.series[wp.series] as SeriesPlan).bucketMs;
              const start = (Math.floor((t - wp.windowMs) / bucketMs) + 1) * bucketMs;
              x = sk.estimate(
                (g.distinct[o.slot] as GroupPlan["distinct"][number]).windows.indexOf(o.window),
                start,
              );
            }
            break;
          }
          case "fraud_rate":
            x = Math.min(1, Math.max(0, s.win[p + W_FRAUD] as number) / count);
            break;
        }
      out[at + column] = x;
    }
  }

  private add(g: GroupPlan, s: EntityState, ev: Transaction, t: number): void {
    s.last = t;
    const amount = ev.amount;
    const ws = g.wstride;
    const nShares = g.shares.length;
    // The event's bucket in each series (appended when new), and every window gets the event.
    for (let si = 0; si < g.series.length; si++) {
      const sp = g.series[si] as SeriesPlan;
      const ring = s.series[si] as Ring;
      const index = Math.floor(t / sp.bucketMs);
      let seq = ring.tail - 1;
      if (seq < ring.head || (ring.buf[ring.at(seq) + B_INDEX] as number) !== index) seq = ring.push(index);
      const b = ring.buf;
      const o = ring.at(seq);
      b[o + B_COUNT] = (b[o + B_COUNT] as number) + 1;
      b[o + B_SUM] = (b[o + B_SUM] as number) + amount;
      if ((b[o + B_COUNT] as number) === 1 || amount > (b[o + B_MAX] as number)) b[o + B_MAX] = amount;
      for (const w of sp.windows) {
        const p = w * ws;
        s.win[p + W_COUNT] = (s.win[p + W_COUNT] as number) + 1;
        s.win[p + W_SUM] = (s.win[p + W_SUM] as number) + amount;
      }
      for (let k = 0; k < nShares; k++) {
        const sh = g.shares[k] as { field: string; equals: string };
        if ((ev as Record<string, unknown>)[sh.field] !== sh.equals) continue;
        b[o + B_FIXED + k] = (b[o + B_FIXED + k] as number) + 1;
        for (const w of sp.windows) s.win[w * ws + W_FIXED + k] = (s.win[w * ws + W_FIXED + k] as number) + 1;
      }
    }
    for (let k = 0; k < g.distinct.length; k++) {
      const d = g.distinct[k] as GroupPlan["distinct"][number];
      const v = entityValue(ev, d.of);
      if (v === undefined) continue;
      const h = hash32(v);
      const sk = s.sketch[k];
      if (sk !== undefined) {
        sk.add(h, t);
        continue;
      }
      const seen = s.seen[k] as Map<number, number>;
      const prev = seen.get(h);
      seen.set(h, t);
      const slot = W_FIXED + nShares + k;
      const bslot = B_FIXED + nShares + k;
      for (let si = 0; si < g.series.length; si++) {
        const sp = g.series[si] as SeriesPlan;
        const ring = s.series[si] as Ring;
        const ds = d.bySeries[si] as number[];
        if (ds.length === 0) continue;
        const index = Math.floor(t / sp.bucketMs);
        if (prev !== undefined) {
          const old = Math.floor(prev / sp.bucketMs);
          if (old === index) continue;
          const seq = ring.find(old);
          if (seq >= 0) {
            const o = ring.at(seq);
            ring.buf[o + bslot] = (ring.buf[o + bslot] as number) - 1;
            for (const w of ds)
              if (seq >= (s.front[w] as number)) s.win[w * ws + slot] = (s.win[w * ws + slot] as number) - 1;
          }
        }
        const o = ring.at(ring.tail - 1);
        ring.buf[o + bslot] = (ring.buf[o + bslot] as number) + 1;
        for (const w of ds) s.win[w * ws + slot] = (s.win[w * ws + slot] as number) + 1;
      }
      if (seen.size > (s.pruneAt[k] as number)) {
        const before = t - d.maxWindowMs;
        for (const [key, last] of seen) if (last <= before) seen.delete(key);
        if (seen.size > this.exactDistinct) {
          const sketch = new SlidingHll(d.windows.length);
          for (const [key, last] of seen) sketch.add(key, last);
          s.sketch[k] = sketch;
          s.seen[k] = undefined;
        } else s.pruneAt[k] = Math.min(this.exactDistinct, Math.max(64, 2 * seen.size));
      }
    }
  }

  /**
   * Drops entities idle for longer than their key's longest window before `time` (default: the newest
   * time processed). Their features would be cold anyway, so when this runs changes nothing but memory.
   * Returns how many were dropped. One pass over all entities: call it every few seconds.
   */
  expire(time: number = this.clock): number {
    let dropped = 0;
    this.groups.forEach((g, gi) => {
      const map = this.states[gi] as Map<string, EntityState>;
      for (const [k, s] of map)
        if (time - s.last >= g.spanMs) {
          map.delete(k);
          dropped++;
        }
    });
    return dropped;
  }
}
