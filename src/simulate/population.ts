// The simulated world: merchants in every city plus online ones, and users with a home, cards,
// devices and spending habits of their own. Built once per simulator from the seed (Faker instances of
// our own, seeded, name the merchants); the per-event path never calls Faker.
import {
  base,
  de,
  en,
  en_AU,
  en_CA,
  en_GB,
  en_IN,
  en_NG,
  en_US,
  en_ZA,
  es,
  es_MX,
  Faker,
  fr,
  it,
  ja,
  type LocaleDefinition,
  nl,
  pl,
  pt_BR,
  sv,
  tr,
} from "@faker-js/faker";
import { CATEGORIES, CHANNEL_NAMES, DEVICE_TYPES, type RiskTier } from "./catalog.ts";
import { CITIES, type City, COUNTRIES, COUNTRY_BY_CODE, type LocaleKey } from "./cities.ts";
import { cumulative, type Rng } from "./prng.ts";

export interface Merchant {
  id: string;
  name: string;
  category: number;
  /** City index; -1 for an online merchant. */
  city: number;
  country: string;
  /** The category's tier, raised one step for a few merchants (acquirers see some shops as riskier). */
  risk: RiskTier;
}

export interface Device {
  type: string;
  id: string;
}

export interface User {
  id: string;
  index: number;
  home: number;
  country: string;
  currency: string;
  /** Minutes east of UTC at home (local time of the timestamps). */
  cards: string[];
  devices: Device[];
  ip: string;
  /** log of the median amount (home currency) and the spread of log amounts. */
  mu: number;
  sigma: number;
  /** Cumulative category preference (CATEGORIES order). */
  categoryCum: Float64Array;
  /** Regular merchants per category (indices into merchants). */
  regulars: number[][];
  /** Preferred channel weights (pos, online, mobile) multiplying the category's. */
  channelBias: [number, number, number];
  /** Local hour of peak activity and how wide the active part of the day is (hours). */
  peakHour: number;
  spreadHours: number;
  /** Mean transactions per day. */
  perDay: number;
}

/** Units of each currency per US dollar (rough, fixed): amounts are in the user's home currency. */
export const CURRENCY_SCALE: Readonly<Record<string, number>> = {
  USD: 1,
  GBP: 0.8,
  EUR: 0.92,
  PLN: 4,
  SEK: 10.5,
  BRL: 5,
  MXN: 17,
  CAD: 1.36,
  INR: 83,
  JPY: 150,
  AUD: 1.5,
  ZAR: 18.5,
  NGN: 1500,
  AED: 3.67,
  SGD: 1.35,
  TRY: 32,
};

/** Local time offset of a city in minutes: the country's zone, or by longitude in wide countries. */
export function utcOffsetMinutes(city: City): number {
  const fixed: Record<string, number> = {
    GB: 0,
    DE: 60,
    FR: 60,
    ES: 60,
    IT: 60,
    NL: 60,
    PL: 60,
    SE: 60,
    NG: 60,
    ZA: 120,
    TR: 180,
    AE: 240,
    IN: 330,
    SG: 480,
    JP: 540,
  };
  return fixed[city.country] ?? Math.round(city.lon / 15) * 60;
}

export const CITY_OFFSETS: readonly number[] = CITIES.map(utcOffsetMinutes);
const CITY_CUM = cumulative(CITIES.map((c) => c.weight));
const CATEGORY_POPULARITY = CATEGORIES.map((c) => c.popularity);

export interface Population {
  users: User[];
  merchants: Merchant[];
  /** merchantsByCityCategory[city][category]: local merchants. */
  local: number[][][];
  /** online[category]: merchants selling online. */
  online: number[][];
  /** Cities of each country. */
  citiesByCountry: Map<string, number[]>;
}

const LOCAL_PER_CITY_CATEGORY = 3;
const ONLINE_PER_CATEGORY = 25;

const LOCALES: Readonly<Record<LocaleKey, LocaleDefinition>> = {
  en,
  en_US,
  en_GB,
  de,
  fr,
  es,
  it,
  nl,
  pl,
  sv,
  pt_BR,
  es_MX,
  en_CA,
  en_IN,
  ja,
  en_AU,
  en_ZA,
  en_NG,
  tr,
};

/**
 * One Faker per locale, private to this population and seeded from its generator: the shared
 * `fakerDE`-style singletons would make names depend on whatever else in the process used them.
 */
function seededFakers(rng: Rng): Map<LocaleKey, Faker> {
  const out = new Map<LocaleKey, Faker>();
  for (const country of COUNTRIES) {
    if (out.has(country.locale)) continue;
    const f = new Faker({ locale: [LOCALES[country.locale], en, base] });
    f.seed(rng.u32());
    out.set(country.locale, f);
  }
  return out;
}

const RAISED: Readonly<Record<RiskTier, RiskTier>> = { low: "medium", medium: "high", high: "high" };

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

export function buildPopulation(rng: Rng, userCount: number): Population {
  const merchants: Merchant[] = [];
  const local: number[][][] = CITIES.map(() => CATEGORIES.map(() => []));
  const online: number[][] = CATEGORIES.map(() => []);
  const fakers = seededFakers(rng);
  const addMerchant = (category: number, city: number, country: string) => {
    const faker = fakers.get(COUNTRY_BY_CODE.get(country)?.locale ?? "en") as Faker;
    const tier = (CATEGORIES[category] as (typeof CATEGORIES)[number]).risk;
    const m: Merchant = {
      id: `m-${pad(merchants.length, 5)}`,
      name: faker.company.name().slice(0, 200),
      category,
      city,
      country,
      risk: rng.chance(0.05) ? RAISED[tier] : tier,
    };
    merchants.push(m);
    return merchants.length - 1;
  };
  CITIES.forEach((city, ci) => {
    CATEGORIES.forEach((cat, k) => {
      // Places people pay in person (the channel mix has card-present weight).
      if (cat.channels[0] + cat.channels[3] === 0) return;
      for (let j = 0; j < LOCAL_PER_CITY_CATEGORY; j++)
        local[ci]?.[k]?.push(addMerchant(k, ci, city.country));
    });
  });
  CATEGORIES.forEach((cat, k) => {
    if (cat.channels[1] + cat.channels[2] + cat.channels[4] === 0) return;
    for (let j = 0; j < ONLINE_PER_CATEGORY; j++) {
      const country = rng.pick(COUNTRIES).code;
      online[k]?.push(addMerchant(k, -1, country));
    }
  });

  const citiesByCountry = new Map<string, number[]>();
  CITIES.forEach((c, i) => {
    const list = citiesByCountry.get(c.country) ?? [];
    list.push(i);
    citiesByCountry.set(c.country, list);
  });

  const users: User[] = [];
  const width = Math.max(6, String(userCount).length);
  for (let i = 0; i < userCount; i++) {
    const home = rng.weighted(CITY_CUM);
    const city = CITIES[home] as City;
    const currency = COUNTRY_BY_CODE.get(city.country)?.currency ?? "USD";
    const id = `u-${pad(i, width)}`;
    const cards = Array.from(
      { length: rng.chance(0.6) ? 1 : rng.int(2, 3) },
      (_, k) => `c-${pad(i, width)}-${k + 1}`,
    );
    const devices: Device[] = [];
    const nDevices = rng.chance(0.5) ? 1 : rng.int(2, 3);
    for (let k = 0; k < nDevices; k++) {
      devices.push({
        type: k === 0 ? "Mobile" : rng.pick(DEVICE_TYPES),
        id: `d-${rng.u32().toString(16).padStart(8, "0")}`,
      });
    }
    // Preferences: the population's popularity, re-weighted per person.
    const prefs = CATEGORY_POPULARITY.map((p) => p * rng.logNormal(0, 0.8));
    const regulars = CATEGORIES.map((_, k) => {
      const pool = (local[home]?.[k]?.length ?? 0) > 0 ? (local[home]?.[k] as number[]) : (online[k] ?? []);
      const n = Math.min(pool.length, rng.int(1, 3));
      const chosen: number[] = [];
      for (let j = 0; j < n; j++) chosen.push(rng.pick(pool));
      return chosen;
    });
    users.push({
      id,
      index: i,
      home,
      country: city.country,
      currency,
      cards,
      devices,
      ip: `${rng.int(11, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
      mu: Math.log(CURRENCY_SCALE[currency] ?? 1) + rng.normal() * 0.5 + 3.2,
      sigma: rng.range(0.5, 1.0),
      categoryCum: cumulative(prefs),
      regulars,
      channelBias: [rng.logNormal(0, 0.4), rng.logNormal(0, 0.6), rng.logNormal(0, 0.6)],
      peakHour: 12 + rng.normal() * 3,
      spreadHours: rng.range(2.5, 5),
      perDay: Math.min(20, rng.logNormal(Math.log(2.5), 0.6)),
    });
  }
  return { users, merchants, local, online, citiesByCountry };
}

/** Activity weight of a user at a local hour (0..1]: the daily rhythm, quiet at night. */
export function activity(user: User, localHour: number): number {
  return activityAt(user.peakHour, user.spreadHours, localHour);
}

/** `activity` from the user's peak hour and spread (what the simulator keeps packed per user). */
export function activityAt(peakHour: number, spreadHours: number, localHour: number): number {
  let d = mod24(Math.abs(localHour - peakHour));
  if (d > 12) d = 24 - d;
  const night = localHour < 6 ? 0.25 : 1;
  return Math.max(0.02, (0.1 + Math.exp(-(d * d) / (2 * spreadHours * spreadHours))) * night) / 1.1;
}

/**
 * `x % 24`, the same double for every x, without the `%` of doubles (an fprem loop in V8; this runs
 * a few times per event). For 0 < x < 2^47, floor(x / 24) is the true quotient k: a rounded x / 24
 * never reaches the next integer, as neighbouring doubles of x are at least 2/3 of an ulp of k apart
 * once divided by 24; and x - 24k is then exact (Sterbenz). The sign check only guards that
 * argument. Elsewhere (zero, negative, huge, NaN) `%` itself or its mirror.
 */
export function mod24(x: number): number {
  if (!(x > 0 && x < 2 ** 47)) return x < 0 && x > -(2 ** 47) ? -mod24(-x) : x % 24;
  const r = x - 24 * Math.floor(x / 24);
  return r < 0 ? r + 24 : r;
}

export { CHANNEL_NAMES };
