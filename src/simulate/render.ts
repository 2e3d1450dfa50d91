// An event rendered from its draft: as the contract's object (Simulator#next) or as its JSON line
// (Simulator#nextLine, what `fraudstream simulate` writes), byte for byte what JSON.stringify makes of
// the object. Also the event's timestamp text, which is on the per-event path.
import type { Transaction } from "../contract/transaction.ts";
import { CATEGORIES, type Category } from "./catalog.ts";
import { CITIES, type City } from "./cities.ts";
import type { Draft } from "./index.ts";
import { CITY_OFFSETS, type Merchant } from "./population.ts";

const HOUR = 3_600_000;

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

// formatTimestamp runs once per event; Date#toISOString (an allocation and a full calendar
// conversion) was its main cost. The calendar part changes once an hour, so it is kept per local hour
// and the rest is read from tables. The output is what toISOString gives, character for character.
const MINUTES_SECONDS: readonly string[] = Array.from(
  { length: 3600 },
  (_, i) => `${two(Math.floor(i / 60))}:${two(i % 60)}`,
);
const MILLIS: readonly string[] = Array.from({ length: 1000 }, (_, i) => `.${String(i).padStart(3, "0")}`);
/** "+01:00" for whole-minute offsets within a day, at index offset + 1439. */
const OFFSET_TEXT: readonly string[] = Array.from({ length: 2 * 1439 + 1 }, (_, i) => offsetText(i - 1439));
/**
 * "YYYY-MM-DDTHH:" of a few local hours, by hour number modulo the size: the events in flight span
 * one moment in every zone (about a day of local hours), so the hours in use do not evict each other.
 */
const HOUR_SLOTS = 64;
const hourKey = new Float64Array(HOUR_SLOTS).fill(Number.NaN);
const hourText: string[] = new Array<string>(HOUR_SLOTS).fill("");
/** Years 0000–9999, where toISOString has its fixed-width form (and hour numbers divide exactly). */
const FIRST_HOUR = -62_167_219_200_000 / HOUR;
const LAST_HOUR = 253_402_300_800_000 / HOUR - 1;

function offsetText(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}

/** RFC 3339 with the local offset of the place: what a terminal or app would report. */
export function formatTimestamp(t: number, offsetMinutes: number): string {
  // What new Date(t + offset) keeps of a fractional time: it truncates towards zero.
  const local = Math.trunc(t + offsetMinutes * 60_000);
  const offset = OFFSET_TEXT[offsetMinutes + 1439] ?? offsetText(offsetMinutes);
  const hour = Math.floor(local / HOUR);
  // Also NaN: toISOString throws its RangeError for an invalid time, as it always did.
  if (!(hour >= FIRST_HOUR && hour <= LAST_HOUR))
    return `${new Date(local).toISOString().slice(0, 23)}${offset}`;
  const slot = hour & (HOUR_SLOTS - 1);
  let prefix = hourText[slot] as string;
  if (hourKey[slot] !== hour) {
    prefix = new Date(hour * HOUR).toISOString().slice(0, 14);
    hourKey[slot] = hour;
    hourText[slot] = prefix;
  }
  const inHour = local - hour * HOUR;
  const sec = Math.floor(inHour / 1000);
  return `${prefix}${MINUTES_SECONDS[sec] as string}${MILLIS[inHour - sec * 1000] as string}${offset}`;
}

/**
 * The event's fields. `id`, `latitude` and `longitude` are drawn by the simulator (from its PRNG, in
 * a fixed order); the rest comes from the draft and the world.
 */
export function renderTransaction(
  d: Draft,
  merchants: readonly Merchant[],
  id: string,
  eventTime: number,
  latitude: number,
  longitude: number,
): Transaction {
  const m = merchants[d.merchant] as Merchant;
  const category = CATEGORIES[m.category] as Category;
  const city = CITIES[d.city] as City;
  const u = d.user;
  const ev: Transaction = {
    transaction_id: id,
    timestamp: formatTimestamp(eventTime, CITY_OFFSETS[d.city] as number),
    user_id: u.id,
    card_id: d.card,
    amount: d.amount,
    currency: u.currency,
    merchant_id: m.id,
    merchant_name: m.name,
    merchant_category: category.name,
    mcc: category.mcc,
    channel: d.channel,
    device: typeof d.device === "string" ? d.device : d.device.type,
  };
  if (typeof d.device !== "string") ev.device_id = d.device.id;
  if (d.ip !== null) ev.ip_address = d.ip;
  ev.country = city.country;
  ev.city = city.name;
  ev.latitude = latitude;
  ev.longitude = longitude;
  ev.home_country = u.country;
  ev.is_fraud = d.fraudType === null ? 0 : 1;
  if (d.fraudType !== null) ev.fraud_type = d.fraudType;
  return ev;
}

/**
 * JSON.stringify(renderTransaction(...)), the same bytes, from an object of one fixed shape: absent
 * fields are undefined (which JSON.stringify leaves out) rather than missing, so every event is one
 * object literal of one hidden class, with no transitions. Hand-written serializers (template
 * strings, joined parts, merchant text prepared once) were measured too, and were slower end to end:
 * V8's serializer builds one flat string, theirs cost more to build and then to join.
 */
export function transactionLine(
  d: Draft,
  merchants: readonly Merchant[],
  id: string,
  eventTime: number,
  latitude: number,
  longitude: number,
): string {
  const m = merchants[d.merchant] as Merchant;
  const category = CATEGORIES[m.category] as Category;
  const city = CITIES[d.city] as City;
  const u = d.user;
  const device = d.device;
  return JSON.stringify({
    transaction_id: id,
    timestamp: formatTimestamp(eventTime, CITY_OFFSETS[d.city] as number),
    user_id: u.id,
    card_id: d.card,
    amount: d.amount,
    currency: u.currency,
    merchant_id: m.id,
    merchant_name: m.name,
    merchant_category: category.name,
    mcc: category.mcc,
    channel: d.channel,
    device: typeof device === "string" ? device : device.type,
    device_id: typeof device === "string" ? undefined : device.id,
    ip_address: d.ip ?? undefined,
    country: city.country,
    city: city.name,
    latitude,
    longitude,
    home_country: u.country,
    is_fraud: d.fraudType === null ? 0 : 1,
    fraud_type: d.fraudType ?? undefined,
  });
}
