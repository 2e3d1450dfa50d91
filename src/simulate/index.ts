// Synthetic card transactions: a population with its own habits (population.ts), normal behaviour
// with a daily rhythm, legitimate travel and occasional large purchases, and labelled fraud scenarios
// (scenarios.ts) mixed in at a chosen share of events. Deterministic: the same options give the same
// events, byte for byte. Fast: the per-event path uses its own PRNG, tables instead of Date and
// number formatting, and a packed copy of each user's habits (see "Performance" in docs/simulator.md).
import { z } from "zod";
import type { Transaction } from "../contract/transaction.ts";
import { CATEGORIES, CHANNEL_NAMES } from "./catalog.ts";
import { CITIES, type City } from "./cities.ts";
import { type Draft, SCENARIO_NAMES, type ScenarioName } from "./draft.ts";
import {
  activity,
  activityAt,
  buildPopulation,
  CITY_OFFSETS,
  type Device,
  mod24,
  type Population,
  type User,
} from "./population.ts";
import { Rng } from "./prng.ts";
import { idPrefixBytes, LineEncoder, renderTransaction, transactionLine } from "./render.ts";
import { SCENARIOS, type ScenarioContext } from "./scenarios.ts";

export { type Draft, SCENARIO_NAMES, type ScenarioName } from "./draft.ts";
export { formatTimestamp, MAX_LINE_BYTES } from "./render.ts";
export { SCENARIOS } from "./scenarios.ts";

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
  /**
   * The next event as its JSON line: what JSON.stringify(next()) would give, byte for byte, from the
   * same stream of events, without building the object (the fast path of `fraudstream simulate`).
   */
  nextLine(): EventLine;
  /**
   * The next event's line, UTF-8 with its newline, written into `buf` at `pos`: the bytes of
   * nextLine().line + "\n", from the same stream of events, without a string in between (how
   * `fraudstream simulate` writes files). Returns the position after the line; `buf` must have
   * MAX_LINE_BYTES free from `pos`. lastFraudType() tells what the event was.
   */
  nextInto(buf: Uint8Array, pos: number): number;
  /** The scenario of the event nextInto() wrote last, or null for a genuine one. */
  lastFraudType(): ScenarioName | null;
  readonly options: SimulatorOptions;
  /**
   * The simulated world, to read: the simulator keeps packed copies of the users' habits, so changing
   * them after creation does not change the events.
   */
  readonly population: Population;
  stats(): SimulatorStats;
  /**
   * The simulated clock, epoch ms: event time of the latest event before any late-arrival delay
   * (non-decreasing; `start` before the first event). With wall-clock stamps it still runs on the
   * simulated schedule, which is how far the population's story has advanced.
   */
  clock(): number;
}

export interface EventLine {
  /** The event as JSON, no newline. */
  line: string;
  userId: string;
  fraudType: ScenarioName | null;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Fields of a user's record in the simulator's packed per-user state (see createSimulator). */
const GAP = 0;
const TRIP_CITY = 1;
const TRIP_UNTIL = 2;
const HOME = 3;
const PEAK = 4;
const SPREAD = 5;
const MU = 6;
const SIGMA = 7;
const BIAS = 8;
const CUM = 11;

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

const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
/** `x.toString(16).padStart(8, "0")` of a 32-bit unsigned x, from a table instead of a runtime call. */
function hex8(x: number): string {
  return `${HEX2[x >>> 24] as string}${HEX2[(x >>> 16) & 255] as string}${HEX2[(x >>> 8) & 255] as string}${HEX2[x & 255] as string}`;
}
const BASE36: readonly string[] = Array.from({ length: 1296 }, (_, i) => i.toString(36));
const BASE36_2: readonly string[] = BASE36.map((s) => s.padStart(2, "0"));

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

  // What the per-event path reads of a user, packed: the users' own objects, arrays and boxed numbers
  // lie scattered over the heap, and with thousands of users cache misses on them were the main cost.
  // One record of STRIDE doubles per user: the mean gap between candidate arrivals, an ongoing trip
  // (city or -1, until), home, daily rhythm, spending, channel bias and cumulative category
  // preference; regular merchants in a table of their own. Copies: the same doubles as in the User
  // objects (which stay the simulator's source and the scenarios').
  const NCAT = CATEGORIES.length;
  const STRIDE = CUM + NCAT;
  const hot = new Float64Array(users.length * STRIDE);
  const MAX_REGULARS = 3;
  const regularIds = new Int32Array(users.length * NCAT * MAX_REGULARS);
  const regularCount = new Uint8Array(users.length * NCAT);
  users.forEach((u, i) => {
    const b = i * STRIDE;
    // Mean gap between candidates, ms: the Poisson rate at full activity, which thinning by the daily
    // rhythm brings down to the user's mean (the same division as per call before, done once).
    let s = 0;
    for (let h = 0; h < 24; h += 0.25) s += activity(u, h);
    const maxRate = u.perDay / DAY / (s / 96); // per ms
    hot[b + GAP] = 1 / maxRate;
    hot[b + TRIP_CITY] = -1;
    hot[b + HOME] = u.home;
    hot[b + PEAK] = u.peakHour;
    hot[b + SPREAD] = u.spreadHours;
    hot[b + MU] = u.mu;
    hot[b + SIGMA] = u.sigma;
    hot.set(u.channelBias, b + BIAS);
    hot.set(u.categoryCum, b + CUM);
    u.regulars.forEach((list, k) => {
      if (list.length > MAX_REGULARS) throw new Error(`user ${u.id}: more than ${MAX_REGULARS} regulars`);
      regularCount[i * NCAT + k] = list.length;
      regularIds.set(list, (i * NCAT + k) * MAX_REGULARS);
    });
  });
  /** A regular merchant of user i in category k (same draw as rng.pick on the list). */
  const pickRegular = (i: number, k: number): number =>
    regularIds[
      (i * NCAT + k) * MAX_REGULARS + Math.floor(rng.float() * (regularCount[i * NCAT + k] as number))
    ] as number;

  const locationOf = (u: User, t: number): number => {
    const b = u.index * STRIDE;
    const trip = hot[b + TRIP_CITY] as number;
    return trip >= 0 && t < (hot[b + TRIP_UNTIL] as number) ? trip : (hot[b + HOME] as number);
  };

  const localHour = (t: number, city: number): number => {
    const h = mod24((t + (CITY_OFFSETS[city] as number) * 60_000) / HOUR);
    return h < 0 ? h + 24 : h;
  };

  /** Next normal transaction of `u` after `t`: a Poisson process thinned by the daily rhythm. */
  const nextArrival = (u: User, t: number): number => {
    const b = u.index * STRIDE;
    const gap = hot[b + GAP] as number;
    const peak = hot[b + PEAK] as number;
    const spread = hot[b + SPREAD] as number;
    let next = t;
    for (let k = 0; k < 1000; k++) {
      next += rng.exponential(gap);
      if (rng.float() < activityAt(peak, spread, localHour(next, locationOf(u, next)))) return next;
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
    const b = i * STRIDE;
    // Legitimate travel: now and then the user flies somewhere and pays there for a few days.
    if ((hot[b + TRIP_CITY] as number) < 0 || t >= (hot[b + TRIP_UNTIL] as number)) {
      hot[b + TRIP_CITY] = -1;
      if (rng.chance(0.004)) {
        let dest = u.home;
        for (let k = 0; k < 20 && (CITIES[dest] as City).country === u.country; k++)
          dest = ctx.rng.int(0, CITIES.length - 1);
        if (dest !== u.home) {
          hot[b + TRIP_CITY] = dest;
          hot[b + TRIP_UNTIL] = t + rng.range(2, 10) * DAY;
        }
      }
    }
    const city = locationOf(u, t);
    const traveling = city !== hot[b + HOME];
    let category = rng.weightedAt(hot, b + CUM, NCAT);
    if (traveling && rng.chance(0.15)) category = rng.chance(0.5) ? 10 : 1; // hotels, restaurants
    const cat = CATEGORIES[category] as (typeof CATEGORIES)[number];
    // The category's channel weights times the user's bias, summed in index order as the draw
    // always did (same doubles, same channel), without an array per event.
    const w = cat.channels;
    const c0 = w[0] * (hot[b + BIAS] as number);
    const c1 = w[1] * (hot[b + BIAS + 1] as number);
    const c2 = w[2] * (hot[b + BIAS + 2] as number);
    const x = rng.float() * (c0 + c1 + c2 + w[3] + w[4]);
    let acc = c0;
    let ch = 0;
    if (!(x < acc)) {
      acc += c1;
      ch = 1;
      if (!(x < acc)) {
        acc += c2;
        ch = 2;
        if (!(x < acc)) ch = x < acc + w[3] ? 3 : 4;
      }
    }
    const channel = CHANNEL_NAMES[ch] as Draft["channel"];
    const cardPresent = channel === "pos" || channel === "atm";
    let merchant: number;
    const localPool = population.local[city]?.[category] ?? [];
    if (cardPresent && localPool.length > 0) {
      merchant =
        traveling || rng.chance(0.2)
          ? rng.pick(localPool)
          : regularCount[i * NCAT + category] === 0
            ? rng.pick(u.regulars[category] ?? localPool)
            : pickRegular(i, category);
      if (!traveling && (merchants[merchant] as { city: number }).city !== city)
        merchant = rng.pick(localPool);
    } else {
      const onlinePool = population.online[category] ?? [];
      merchant =
        rng.chance(0.7) && regularCount[i * NCAT + category] !== 0
          ? pickRegular(i, category)
          : rng.pick(onlinePool.length > 0 ? onlinePool : localPool);
    }
    let amount = rng.logNormal(hot[b + MU] as number, hot[b + SIGMA] as number) * cat.amountScale;
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

  // The event counter in base 36 for the ids: Number#toString(36) is a runtime call, and only the
  // last two digits change from one event to the next (36² = 1296).
  let highOf = -1;
  let highText = "";
  const counter36 = (n: number): string => {
    if (n < 1296) return BASE36[n] as string;
    const high = Math.floor(n / 1296);
    if (high !== highOf) {
      highOf = high;
      highText = high.toString(36);
    }
    return highText + (BASE36_2[n - high * 1296] as string);
  };

  // The random parts of an event's rendering, drawn in this order for next() and nextLine() alike.
  let idRandom = 0;
  let latitude = 0;
  let longitude = 0;
  /** The id of the event drawRendering() drew last. */
  const transactionId = (): string => `${idPrefix}-${hex8(idRandom)}-${counter36(produced)}`;
  const drawRendering = (d: Draft): void => {
    produced++;
    idRandom = rng.u32();
    const city = CITIES[d.city] as City;
    // The payment's place, a few hundred metres around the city centre.
    latitude = Math.round((city.lat + rng.range(-0.03, 0.03)) * 10_000) / 10_000;
    longitude = Math.round((city.lon + rng.range(-0.03, 0.03)) * 10_000) / 10_000;
  };

  const encoder = new LineEncoder();
  const idPrefixText = idPrefixBytes(idPrefix);
  let lastFraudType: ScenarioName | null = null;

  const wall = options.timestamps === "wall";
  /** Event time of the draft pull() returned last: late arrivals and wall-clock stamps applied. */
  let eventTime = 0;

  /** The next draft in emission order. */
  const pull = (): Draft => {
    const tNormal = schedule.peekTime();
    if (pending.size > 0 && pending.peekTime() <= tNormal) {
      const d = pending.pop() as Draft;
      fraudProduced++;
      byScenario[d.fraudType as string] = (byScenario[d.fraudType as string] ?? 0) + 1;
      clock = d.t;
      eventTime = wall ? Date.now() : d.t;
      return d;
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
    eventTime = wall ? Date.now() - late : d.t - late;
    return d;
  };

  return {
    options,
    population,
    stats: () => ({ produced, fraud: fraudProduced, byScenario: { ...byScenario } }),
    clock: () => clock,
    next(): Transaction {
      const d = pull();
      drawRendering(d);
      return renderTransaction(d, merchants, transactionId(), eventTime, latitude, longitude);
    },
    nextLine(): EventLine {
      const d = pull();
      drawRendering(d);
      return {
        line: transactionLine(d, merchants, transactionId(), eventTime, latitude, longitude),
        userId: d.user.id,
        fraudType: d.fraudType,
      };
    },
    nextInto(buf: Uint8Array, pos: number): number {
      const d = pull();
      drawRendering(d);
      lastFraudType = d.fraudType;
      return encoder.encodeGenerated(
        buf,
        pos,
        d,
        merchants,
        idPrefixText,
        idRandom,
        produced,
        eventTime,
        latitude,
        longitude,
      );
    },
    lastFraudType: () => lastFraudType,
  };
}
