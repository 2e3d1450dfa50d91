// Fraud as a fraud team sees it: short sequences against one victim, every fraudulent event labelled
// with is_fraud and its fraud_type. Each scenario is built to break the victim's own habits in its
// own way, without being trivially separable from legitimate travel and large purchases.
import { CATEGORIES, categoryIndex, HIGH_RISK_CATEGORIES } from "./catalog.ts";
import { CITIES, type City, distanceKm } from "./cities.ts";
import type { Draft, ScenarioName } from "./draft.ts";
import { CURRENCY_SCALE, type Device, type Population, type User } from "./population.ts";
import type { Rng } from "./prng.ts";

export interface ScenarioContext {
  rng: Rng;
  population: Population;
  locationOf(u: User, t: number): number;
  localHour(t: number, city: number): number;
  roundAmount(amount: number, currency: string): number;
}

type Scenario = (ctx: ScenarioContext, victim: User, t: number) => Draft[];

const MINUTE = 60_000;
const HOUR = 3_600_000;

const ONLINE_CATS = ["digital_goods", "online_retail"].map(categoryIndex);
const TAKEOVER_CATS = ["electronics", "money_transfer", "crypto", "online_retail"].map(categoryIndex);
const SPIKE_CATS = ["electronics", "travel", "clothing"].map(categoryIndex);

function newDevice(rng: Rng, type = "Desktop"): Device {
  return { type, id: `d-${rng.u32().toString(16).padStart(8, "0")}` };
}

function foreignIp(rng: Rng): string {
  return `${rng.int(11, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

/** A city in another country than `country`, optionally at least `minKm` from `from`. */
function foreignCity(ctx: ScenarioContext, country: string, from?: City, minKm = 0): number {
  for (let k = 0; k < 200; k++) {
    const i = ctx.rng.int(0, CITIES.length - 1);
    const c = CITIES[i] as City;
    if (c.country !== country && (from === undefined || distanceKm(from, c) >= minKm)) return i;
  }
  return CITIES.findIndex((c) => c.country !== country);
}

function median(u: User): number {
  return Math.exp(u.mu);
}

function onlineMerchant(ctx: ScenarioContext, categories: readonly number[]): number {
  const pool = ctx.population.online[ctx.rng.pick(categories)] ?? [];
  return ctx.rng.pick(pool);
}

function localMerchant(ctx: ScenarioContext, city: number, categories: readonly number[]): number {
  for (let k = 0; k < 10; k++) {
    const pool = ctx.population.local[city]?.[ctx.rng.pick(categories)] ?? [];
    if (pool.length > 0) return ctx.rng.pick(pool);
  }
  return onlineMerchant(ctx, categories);
}

function draft(
  victim: User,
  fraudType: Draft["fraudType"],
  fields: Omit<Draft, "user" | "fraudType" | "card"> & { card?: string },
): Draft {
  return { ...fields, card: fields.card ?? (victim.cards[0] as string), user: victim, fraudType };
}

export const SCENARIOS: Record<ScenarioName, Scenario> = {
  /**
   * A burst of tiny online payments at several merchants, from an unknown device: testing a stolen card.
   * Amounts stay under the equivalent of 5 US dollars whatever the victim usually spends.
   */
  card_testing(ctx, victim, t) {
    const { rng } = ctx;
    const device = newDevice(rng);
    const ip = foreignIp(rng);
    const n = rng.int(5, 15);
    const city = foreignCity(ctx, victim.country);
    const card = rng.pick(victim.cards);
    const out: Draft[] = [];
    let at = t;
    for (let k = 0; k < n; k++) {
      at += rng.range(5_000, 60_000);
      out.push(
        draft(victim, "card_testing", {
          t: at,
          merchant: onlineMerchant(ctx, ONLINE_CATS),
          amount: ctx.roundAmount(
            (rng.chance(0.4) ? rng.int(1, 4) : rng.range(0.5, 4.9)) * (CURRENCY_SCALE[victim.currency] ?? 1),
            victim.currency,
          ),
          channel: "online",
          device,
          city,
          card,
          ip,
        }),
      );
    }
    return out;
  },

  /** New device, new country, high amounts, then more: someone else controls the account. */
  account_takeover(ctx, victim, t) {
    const { rng } = ctx;
    const device = newDevice(rng, "Mobile");
    const city = foreignCity(ctx, victim.country);
    const ip = foreignIp(rng);
    const out: Draft[] = [];
    let at = t + rng.range(1, 30) * MINUTE;
    const n = rng.int(3, 5);
    for (let k = 0; k < n; k++) {
      out.push(
        draft(victim, "account_takeover", {
          t: at,
          merchant: onlineMerchant(ctx, TAKEOVER_CATS),
          amount: ctx.roundAmount(median(victim) * rng.range(12, 40), victim.currency),
          channel: rng.chance(0.6) ? "mobile" : "online",
          device,
          city,
          ip,
        }),
      );
      at += rng.range(10, 180) * MINUTE;
    }
    return out;
  },

  /** A card-present payment too far from the previous one for the time between them: a cloned card. */
  impossible_travel(ctx, victim, t) {
    const { rng } = ctx;
    const here = CITIES[ctx.locationOf(victim, t)] as City;
    const far = foreignCity(ctx, victim.country, here, 3000);
    const at = t + rng.range(10, 90) * MINUTE;
    const out = [
      draft(victim, "impossible_travel", {
        t: at,
        merchant: localMerchant(ctx, far, [
          categoryIndex("electronics"),
          categoryIndex("clothing"),
          categoryIndex("cash_withdrawal"),
        ]),
        amount: ctx.roundAmount(median(victim) * rng.range(2, 8), victim.currency),
        channel: "pos",
        device: "POS Terminal",
        city: far,
        ip: null,
      }),
    ];
    if (rng.chance(0.5)) {
      out.push(
        draft(victim, "impossible_travel", {
          t: at + rng.range(5, 40) * MINUTE,
          merchant: localMerchant(ctx, far, [categoryIndex("cash_withdrawal")]),
          amount: ctx.roundAmount(median(victim) * rng.range(4, 10), victim.currency),
          channel: "atm",
          device: "ATM",
          city: far,
          ip: null,
        }),
      );
    }
    return out;
  },

  /** Many payments within minutes, at home, with the victim's own card details. */
  velocity_burst(ctx, victim, t) {
    const { rng } = ctx;
    const city = ctx.locationOf(victim, t);
    const n = rng.int(8, 20);
    const span = rng.range(2, 6) * MINUTE;
    const device = rng.chance(0.5) ? (victim.devices[0] as Device) : newDevice(rng);
    const out: Draft[] = [];
    for (let k = 0; k < n; k++) {
      out.push(
        draft(victim, "velocity_burst", {
          t: t + (span * (k + rng.float())) / n,
          merchant: onlineMerchant(ctx, [
            categoryIndex("online_retail"),
            categoryIndex("electronics"),
            categoryIndex("digital_goods"),
          ]),
          amount: ctx.roundAmount(median(victim) * rng.range(0.8, 3), victim.currency),
          channel: "online",
          device,
          city,
          ip: victim.ip,
        }),
      );
    }
    return out;
  },

  /** Gambling, crypto or money transfers at an hour the victim sleeps, for large amounts. */
  high_risk_merchant(ctx, victim, t) {
    const { rng } = ctx;
    const city = ctx.locationOf(victim, t);
    // Move to the coming night, 01:00–05:00 local.
    const hour = ctx.localHour(t, city);
    const wait = ((24 + rng.range(1, 5) - hour) % 24) * HOUR;
    let at = t + wait;
    const n = rng.int(1, 3);
    const out: Draft[] = [];
    for (let k = 0; k < n; k++) {
      const category = rng.pick(HIGH_RISK_CATEGORIES);
      const cat = CATEGORIES[category] as (typeof CATEGORIES)[number];
      out.push(
        draft(victim, "high_risk_merchant", {
          t: at,
          merchant: onlineMerchant(ctx, [category]),
          amount: ctx.roundAmount(median(victim) * rng.range(10, 50), victim.currency),
          channel: cat.channels[4] > 0 && rng.chance(0.4) ? "transfer" : "online",
          device: rng.chance(0.5) ? rng.pick(victim.devices) : newDevice(rng),
          city,
          ip: victim.ip,
        }),
      );
      at += rng.range(3, 40) * MINUTE;
    }
    return out;
  },

  /** One payment far above anything in the victim's history. */
  amount_spike(ctx, victim, t) {
    const { rng } = ctx;
    const city = ctx.locationOf(victim, t);
    const online = rng.chance(0.5);
    return [
      draft(victim, "amount_spike", {
        t: t + rng.range(1, 60) * MINUTE,
        merchant: online ? onlineMerchant(ctx, SPIKE_CATS) : localMerchant(ctx, city, SPIKE_CATS),
        amount: ctx.roundAmount(median(victim) * rng.range(25, 80), victim.currency),
        channel: online ? "online" : "pos",
        device: online ? rng.pick(victim.devices) : "POS Terminal",
        city,
        ip: online ? victim.ip : null,
      }),
    ];
  },

  /** Payments in a country that is not the victim's, from a device never seen, while not travelling. */
  location_mismatch(ctx, victim, t) {
    const { rng } = ctx;
    // Abroad, and not where a trip of theirs has taken them.
    const here = CITIES[ctx.locationOf(victim, t)] as City;
    const city = foreignCity(ctx, victim.country, here, 500);
    const device = newDevice(rng, rng.chance(0.5) ? "Mobile" : "Desktop");
    const n = rng.int(1, 3);
    const out: Draft[] = [];
    let at = t + rng.range(5, 60) * MINUTE;
    for (let k = 0; k < n; k++) {
      out.push(
        draft(victim, "location_mismatch", {
          t: at,
          merchant: localMerchant(ctx, city, [
            categoryIndex("electronics"),
            categoryIndex("clothing"),
            categoryIndex("restaurants"),
          ]),
          amount: ctx.roundAmount(median(victim) * rng.range(1.5, 6), victim.currency),
          channel: "mobile",
          device,
          city,
          ip: foreignIp(rng),
        }),
      );
      at += rng.range(10, 120) * MINUTE;
    }
    return out;
  },
};
