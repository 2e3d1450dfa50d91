// Synthetic card transactions: a population with its own habits (population.ts), normal behaviour
// with a daily rhythm, legitimate travel and occasional large purchases, and labelled fraud scenarios
// (scenarios.ts) mixed in at a chosen share of events. Deterministic: the same options give the same
// events, byte for byte. Fast: the per-event path uses its own PRNG and precomputed strings only.
import { z } from "zod";
import type { Transaction } from "../contract/transaction.ts";
import { CATEGORIES, CHANNEL_NAMES } from "./catalog.ts";
import { CITIES, type City } from "./cities.ts";
import {
  activity,
  buildPopulation,
  CITY_OFFSETS,
  type Device,
  type Population,
  type User,
} from "./population.ts";
import { Rng } from "./prng.ts";
import { SCENARIO_NAMES, SCENARIOS, type ScenarioContext, type ScenarioName } from "./scenarios.ts";

export { SCENARIO_NAMES, SCENARIOS, type ScenarioName } from "./scenarios.ts";

const scenarioNames = SCENARIO_NAMES;

export const SimulatorOptionsSchema = z.object({
  /** Number of simulated card holders. */
  users: z.number().int().min(1).max(2_000_000).default(1000),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .default(42),
  /** Share of events that are fraudulent (labelled), in [0, 0.5]. */
  fraudRate: z.number().min(0).max(0.5).default(0.05),
  /** Event time of the simulation's start, epoch ms (synthetic clock). */
  start: z
    .number()
    .int()
    .default(Date.UTC(2026, 10, 1)),
  /**
   * "synthetic": event times follow the simulated clock from `start` (as fast as the caller pulls).
   * "wall": each event is stamped with the wall clock when it is generated (real-time pacing).
   */
  timestamps: z.enum(["synthetic", "wall"]).default("synthetic"),
  /** Relative weights of the fraud scenarios; missing ones get 0 when any is given, else all 1. */
  scenarioMix: z.partialRecord(z.enum(scenarioNames), z.number().min(0)).optional(),
  /** Share of normal events that arrive late (up to two minutes after their event time). */
  lateShare: z.number().min(0).max(0.5).default(0.01),
});

export type SimulatorOptionsInput = z.input<typeof SimulatorOptionsSchema>;
export type SimulatorOptions = z.output<typeof SimulatorOptionsSchema>;

export interface SimulatorStats {
  produced: number;
  fraud: number;
  byScenario: Record<string, number>;
}

export interface Simulator {
  /** The next event (in emission order; event times are non-decreasing but for late arrivals). */
  next(): Transaction;
  readonly options: SimulatorOptions;
  readonly population: Population;
  stats(): SimulatorStats;
  /**
   * The simulated clock, epoch ms: event time of the latest event before any late-arrival delay
   * (non-decreasing; `start` before the first event). With wall-clock stamps it still runs on the
   * simulated schedule, which is how far the population's story has advanced.
   */
  clock(): number;
}

/** One event before rendering. */
export interface Draft {
  /** Event time, epoch ms (simulated clock). */
  t: number;
  user: User;
  merchant: number;
  amount: number;
  channel: (typeof CHANNEL_NAMES)[number];
  /** A user device, or the merchant's terminal for card-present payments. */
  device: Device | "POS Terminal" | "ATM";
  /** City where the payment happens (the cardholder or the terminal). */
  city: number;
  card: string;
  ip: string | null;
  fraudType: ScenarioName | null;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

class DraftHeap {
  private items: Draft[] = [];
  get size(): number {
    return this.items.length;
  }
  peekTime(): number {
    return this.items[0]?.t ?? Number.POSITIVE_INFINITY;
  }
  push(d: Draft): void {
    const a = this.items;
    a.push(d);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((a[p] as Draft).t <= d.t) break;
      a[i] = a[p] as Draft;
      i = p;
    }
    a[i] = d;
  }
  pop(): Draft | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && (a[r] as Draft).t < (a[l] as Draft).t ? r : l;
        if ((a[c] as Draft).t >= last.t) break;
        a[i] = a[c] as Draft;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/** Users by their next normal transaction time: a binary heap over typed arrays. */
class ScheduleHeap {
  private readonly time: Float64Array;
  private readonly user: Int32Array;
  private n = 0;
  constructor(capacity: number) {
    this.time = new Float64Array(capacity);
    this.user = new Int32Array(capacity);
  }
  peekTime(): number {
    return this.n > 0 ? (this.time[0] as number) : Number.POSITIVE_INFINITY;
  }
  peekUser(): number {
    return this.user[0] as number;
  }
  push(t: number, u: number): void {
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((this.time[p] as number) <= t) break;
      this.time[i] = this.time[p] as number;
      this.user[i] = this.user[p] as number;
      i = p;
    }
    this.time[i] = t;
    this.user[i] = u;
  }
  /** Replaces the top with (t, u) and restores the heap. */
  replaceTop(t: number, u: number): void {
    let i = 0;
    const n = this.n;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (this.time[r] as number) < (this.time[l] as number) ? r : l;
      if ((this.time[c] as number) >= t) break;
      this.time[i] = this.time[c] as number;
      this.user[i] = this.user[c] as number;
      i = c;
    }
    this.time[i] = t;
    this.user[i] = u;
  }
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** RFC 3339 with the local offset of the place: what a terminal or app would report. */
export function formatTimestamp(t: number, offsetMinutes: number): string {
  const local = new Date(t + offsetMinutes * 60_000).toISOString().slice(0, 23);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}

export function createSimulator(input: SimulatorOptionsInput = {}): Simulator {
  const parsed = SimulatorOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RangeError(`simulator option ${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "invalid"}`);
  }
  const options = parsed.data;
  const rng = new Rng(options.seed);
  const population = buildPopulation(rng, options.users);
  const { users, merchants } = population;
  const mixWeights = scenarioNames.map((name) =>
    options.scenarioMix === undefined ? 1 : (options.scenarioMix[name] ?? 0),
  );
  const mixTotal = mixWeights.reduce((a, b) => a + b, 0);
  if (options.fraudRate > 0 && !(mixTotal > 0))
    throw new RangeError("simulator option scenarioMix: at least one scenario needs a weight > 0");
  const mixCum = new Float64Array(mixWeights.length);
  mixWeights.reduce((sum, w, i) => {
    mixCum[i] = sum + w;
    return sum + w;
  }, 0);

  // Per-user state: an ongoing trip (city, until) and the mean of the daily rhythm.
  const tripCity = new Int32Array(users.length).fill(-1);
  const tripUntil = new Float64Array(users.length);
  const meanActivity = new Float64Array(users.length);
  users.forEach((u, i) => {
    let s = 0;
    for (let h = 0; h < 24; h += 0.25) s += activity(u, h);
    meanActivity[i] = s / 96;
  });

  const locationOf = (u: User, t: number): number => {
    const i = u.index;
    if ((tripCity[i] as number) >= 0 && t < (tripUntil[i] as number)) return tripCity[i] as number;
    return u.home;
  };

  const localHour = (t: number, city: number): number => {
    const h = ((t + (CITY_OFFSETS[city] as number) * 60_000) / HOUR) % 24;
    return h < 0 ? h + 24 : h;
  };

  /** Next normal transaction of `u` after `t`: a Poisson process thinned by the daily rhythm. */
  const nextArrival = (u: User, t: number): number => {
    const maxRate = u.perDay / DAY / (meanActivity[u.index] as number); // per ms at full activity
    let next = t;
    for (let k = 0; k < 1000; k++) {
      next += rng.exponential(1 / maxRate);
      if (rng.float() < activity(u, localHour(next, locationOf(u, next)))) return next;
    }
    return next;
  };

  const schedule = new ScheduleHeap(users.length);
  for (const u of users) schedule.push(nextArrival(u, options.start), u.index);
  const pending = new DraftHeap();

  const ctx: ScenarioContext = {
    rng,
    population,
    locationOf,
    localHour,
    roundAmount,
  };

  function roundAmount(amount: number, currency: string): number {
    const a = Math.min(999_999_999, Math.max(0.01, amount));
    return currency === "JPY" ? Math.max(1, Math.round(a)) : Math.round(a * 100) / 100;
  }

  /** A normal transaction of `u` at `t`. */
  const normalDraft = (u: User, t: number): Draft => {
    const i = u.index;
    // Legitimate travel: now and then the user flies somewhere and pays there for a few days.
    if ((tripCity[i] as number) < 0 || t >= (tripUntil[i] as number)) {
      tripCity[i] = -1;
      if (rng.chance(0.004)) {
        let dest = u.home;
        for (let k = 0; k < 20 && (CITIES[dest] as City).country === u.country; k++)
          dest = ctx.rng.int(0, CITIES.length - 1);
        if (dest !== u.home) {
          tripCity[i] = dest;
          tripUntil[i] = t + rng.range(2, 10) * DAY;
        }
      }
    }
    const city = locationOf(u, t);
    const traveling = city !== u.home;
    let category = rng.weighted(u.categoryCum);
    if (traveling && rng.chance(0.15)) category = rng.chance(0.5) ? 10 : 1; // hotels, restaurants
    const cat = CATEGORIES[category] as (typeof CATEGORIES)[number];
    const w = cat.channels;
    const [bp, bo, bm] = u.channelBias;
    const channelWeights = [w[0] * bp, w[1] * bo, w[2] * bm, w[3], w[4]];
    let acc = 0;
    const total = channelWeights.reduce((a, b) => a + b, 0);
    const x = rng.float() * total;
    let ch = 0;
    for (; ch < 4; ch++) {
      acc += channelWeights[ch] as number;
      if (x < acc) break;
    }
    const channel = CHANNEL_NAMES[ch] as Draft["channel"];
    const cardPresent = channel === "pos" || channel === "atm";
    let merchant: number;
    const localPool = population.local[city]?.[category] ?? [];
    if (cardPresent && localPool.length > 0) {
      merchant =
        traveling || rng.chance(0.2) ? rng.pick(localPool) : rng.pick(u.regulars[category] ?? localPool);
      if (!traveling && (merchants[merchant] as { city: number }).city !== city)
        merchant = rng.pick(localPool);
    } else {
      const onlinePool = population.online[category] ?? [];
      const regular = u.regulars[category] ?? [];
      merchant =
        rng.chance(0.7) && regular.length > 0
          ? rng.pick(regular)
          : rng.pick(onlinePool.length > 0 ? onlinePool : localPool);
    }
    let amount = rng.logNormal(u.mu, u.sigma) * cat.amountScale;
    // A legitimate large purchase now and then (a laptop, a flight): large is not always fraud.
    if (rng.chance(0.004)) amount *= rng.range(8, 25);
    const device: Draft["device"] =
      channel === "pos" ? "POS Terminal" : channel === "atm" ? "ATM" : (rng.pick(u.devices) as Device);
    return {
      t,
      user: u,
      merchant,
      amount: roundAmount(amount, u.currency),
      channel,
      device,
      city,
      card: u.cards.length === 1 ? (u.cards[0] as string) : rng.pick(u.cards),
      ip: channel === "online" || channel === "mobile" ? u.ip : null,
      fraudType: null,
    };
  };

  let produced = 0;
  let clock = options.start;
  let normalProduced = 0;
  let fraudScheduled = 0;
  let fraudProduced = 0;
  const byScenario: Record<string, number> = {};
  // Ids repeat for a repeated seed, as the events do. With wall-clock stamps the events differ from run
  // to run, so the ids carry the run's start too: sinks deduplicate on transaction_id.
  const idPrefix =
    options.timestamps === "wall"
      ? `${options.seed.toString(16).padStart(8, "0")}.${Date.now().toString(36)}`
      : options.seed.toString(16).padStart(8, "0");

  const render = (d: Draft, eventTime: number): Transaction => {
    const m = merchants[d.merchant] as Population["merchants"][number];
    const city = CITIES[d.city] as City;
    const u = d.user;
    const offset = CITY_OFFSETS[d.city] as number;
    produced++;
    const ev: Transaction = {
      transaction_id: `${idPrefix}-${rng.u32().toString(16).padStart(8, "0")}-${produced.toString(36)}`,
      timestamp: formatTimestamp(eventTime, offset),
      user_id: u.id,
      card_id: d.card,
      amount: d.amount,
      currency: u.currency,
      merchant_id: m.id,
      merchant_name: m.name,
      merchant_category: (CATEGORIES[m.category] as (typeof CATEGORIES)[number]).name,
      mcc: (CATEGORIES[m.category] as (typeof CATEGORIES)[number]).mcc,
      channel: d.channel,
      device: typeof d.device === "string" ? d.device : d.device.type,
    };
    if (typeof d.device !== "string") ev.device_id = d.device.id;
    if (d.ip !== null) ev.ip_address = d.ip;
    ev.country = city.country;
    ev.city = city.name;
    // The payment's place, a few hundred metres around the city centre.
    ev.latitude = Math.round((city.lat + rng.range(-0.03, 0.03)) * 10_000) / 10_000;
    ev.longitude = Math.round((city.lon + rng.range(-0.03, 0.03)) * 10_000) / 10_000;
    ev.home_country = u.country;
    ev.is_fraud = d.fraudType === null ? 0 : 1;
    if (d.fraudType !== null) ev.fraud_type = d.fraudType;
    return ev;
  };

  const wall = options.timestamps === "wall";

  return {
    options,
    population,
    stats: () => ({ produced, fraud: fraudProduced, byScenario: { ...byScenario } }),
    clock: () => clock,
    next(): Transaction {
      const tNormal = schedule.peekTime();
      if (pending.size > 0 && pending.peekTime() <= tNormal) {
        const d = pending.pop() as Draft;
        fraudProduced++;
        byScenario[d.fraudType as string] = (byScenario[d.fraudType as string] ?? 0) + 1;
        clock = d.t;
        return render(d, wall ? Date.now() : d.t);
      }
      const u = users[schedule.peekUser()] as User;
      schedule.replaceTop(nextArrival(u, tNormal), u.index);
      // The victim's own payment comes first: fraud starts just after a genuine moment of theirs, so
      // "too far from the last payment" and "new device" are judged against real behaviour.
      const d = normalDraft(u, tNormal);
      normalProduced++;
      // Fraud is started on a victim at one of their normal moments, keeping the share on target.
      if (
        options.fraudRate > 0 &&
        fraudScheduled < options.fraudRate * (normalProduced + fraudScheduled) &&
        rng.chance(0.5)
      ) {
        const name = scenarioNames[rng.weighted(mixCum)] as ScenarioName;
        for (const f of SCENARIOS[name](ctx, u, tNormal)) {
          pending.push(f);
          fraudScheduled++;
        }
      }
      const late = options.lateShare > 0 && rng.chance(options.lateShare) ? rng.range(1000, 120_000) : 0;
      clock = tNormal;
      return render(d, wall ? Date.now() - late : d.t - late);
    },
  };
}
