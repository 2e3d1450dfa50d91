// An event rendered from its draft: as the contract's object (Simulator#next) or as its JSON line
// (Simulator#nextLine, what `fraudstream simulate` writes), byte for byte what JSON.stringify makes of
// the object. Also the event's timestamp text, which is on the per-event path.
import type { Transaction } from "../contract/transaction.ts";
import { CATEGORIES, type Category } from "./catalog.ts";
import { CITIES, type City } from "./cities.ts";
import type { Draft } from "./draft.ts";
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
/** OFFSET_TEXT as ASCII, six bytes each. */
const OFFSET_BYTES = new Uint8Array(OFFSET_TEXT.length * 6);
OFFSET_TEXT.forEach((text, i) => {
  for (let k = 0; k < 6; k++) OFFSET_BYTES[i * 6 + k] = text.charCodeAt(k);
});
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
  const inHour = local - hour * HOUR;
  const sec = Math.floor(inHour / 1000);
  return `${hourPrefix(hour)}${MINUTES_SECONDS[sec] as string}${MILLIS[inHour - sec * 1000] as string}${offset}`;
}

/** "YYYY-MM-DDTHH:" of an hour number in FIRST_HOUR..LAST_HOUR, from the cache. */
function hourPrefix(hour: number): string {
  const slot = hour & (HOUR_SLOTS - 1);
  if (hourKey[slot] === hour) return hourText[slot] as string;
  const prefix = new Date(hour * HOUR).toISOString().slice(0, 14);
  hourKey[slot] = hour;
  hourText[slot] = prefix;
  return prefix;
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

// ---------------------------------------------------------------------------------------------------
// The event's JSON line as UTF-8 bytes, written straight into a caller's buffer: what `simulate` writes
// to a file or stdout. The same bytes as Buffer.from(transactionLine(...)), without building the line as
// a string and encoding it afterwards (those two steps were half the cost of `simulate --out`). Keys are
// constant bytes; merchant and city fields are encoded once per merchant and city; the other strings
// are copied character by character while they are plain ASCII, and otherwise encoded the way
// JSON.stringify and UTF-8 would (escapes, surrogates), so that no text is special-cased.

const utf8 = new TextEncoder();
const bytesOf = (text: string): Uint8Array => utf8.encode(text);
const K_ID = bytesOf('{"transaction_id":');
/** Digits of base 16 and 36, as bytes. */
const HEX_DIGITS = bytesOf("0123456789abcdefghijklmnopqrstuvwxyz");
/** An id prefix as bytes, checked to need no escaping in JSON. */
export function idPrefixBytes(prefix: string): Uint8Array {
  if (!/^[\w.-]*$/.test(prefix))
    throw new RangeError(`id prefix ${JSON.stringify(prefix)} is not plain ASCII`);
  return bytesOf(prefix);
}
const K_TIMESTAMP = bytesOf(',"timestamp":"');
const K_USER = bytesOf('","user_id":');
const K_CARD = bytesOf(',"card_id":');
const K_AMOUNT = bytesOf(',"amount":');
const K_CURRENCY = bytesOf(',"currency":');
const K_CHANNEL = bytesOf(',"channel":');
const K_DEVICE = bytesOf(',"device":');
const K_DEVICE_ID = bytesOf(',"device_id":');
const K_IP = bytesOf(',"ip_address":');
const K_LATITUDE = bytesOf(',"latitude":');
const K_LONGITUDE = bytesOf(',"longitude":');
const K_HOME = bytesOf(',"home_country":');
const K_GENUINE = bytesOf(',"is_fraud":0}\n');
const K_FRAUD = bytesOf(',"is_fraud":1,"fraud_type":');
const K_END = bytesOf("}\n");
/** `,"country":…,"city":…` per city. */
const CITY_BYTES: readonly Uint8Array[] = CITIES.map((c) =>
  bytesOf(`,"country":${JSON.stringify(c.country)},"city":${JSON.stringify(c.name)}`),
);
/** Longest line encodeLine writes for strings of at most MAX_FIELD characters, with room to spare. */
const MAX_FIELD = 1024;
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * Writes event lines (JSON + "\n") as UTF-8 into a buffer. One per simulator: it keeps the merchants'
 * encoded fields, checked against the merchant objects it was given, so a changed list is re-encoded.
 */
export class LineEncoder {
  private merchantOf: (Merchant | undefined)[] = [];
  private merchantBytes: Uint8Array[] = [];

  /**
   * Writes the line of the event at `pos` and returns the position after its newline. The caller
   * leaves at least MAX_LINE_BYTES free from `pos`; a longer line (strings over a thousand characters)
   * is a RangeError, never a truncated line.
   */
  encode(
    buf: Uint8Array,
    pos: number,
    d: Draft,
    merchants: readonly Merchant[],
    id: string,
    eventTime: number,
    latitude: number,
    longitude: number,
  ): number {
    const p = writeString(buf, copy(buf, pos, K_ID), id);
    return this.afterId(buf, p, pos, d, merchants, eventTime, latitude, longitude);
  }

  /**
   * encode() with the simulator's id, `${prefix}-${hex8(random)}-${counter.toString(36)}`, written from
   * its parts: building the id's text was the costliest string of the line.
   */
  encodeGenerated(
    buf: Uint8Array,
    pos: number,
    d: Draft,
    merchants: readonly Merchant[],
    idPrefix: Uint8Array,
    idRandom: number,
    idCounter: number,
    eventTime: number,
    latitude: number,
    longitude: number,
  ): number {
    let p = copy(buf, pos, K_ID);
    buf[p++] = 0x22;
    p = copy(buf, p, idPrefix);
    buf[p++] = 0x2d;
    for (let shift = 28; shift >= 0; shift -= 4) buf[p++] = HEX_DIGITS[(idRandom >>> shift) & 15] as number;
    buf[p++] = 0x2d;
    let digits = 1;
    for (let m = idCounter; m >= 36; m = Math.floor(m / 36)) digits++;
    let v = idCounter;
    for (let i = p + digits - 1; i >= p; i--) {
      const q = Math.floor(v / 36);
      buf[i] = HEX_DIGITS[v - q * 36] as number;
      v = q;
    }
    p += digits;
    buf[p++] = 0x22;
    return this.afterId(buf, p, pos, d, merchants, eventTime, latitude, longitude);
  }

  private afterId(
    buf: Uint8Array,
    at: number,
    pos: number,
    d: Draft,
    merchants: readonly Merchant[],
    eventTime: number,
    latitude: number,
    longitude: number,
  ): number {
    const u = d.user;
    const device = d.device;
    let p = copy(buf, at, K_TIMESTAMP);
    p = writeTimestamp(buf, p, eventTime, CITY_OFFSETS[d.city] as number);
    p = copy(buf, p, K_USER);
    p = writeString(buf, p, u.id);
    p = copy(buf, p, K_CARD);
    p = writeString(buf, p, d.card);
    p = copy(buf, p, K_AMOUNT);
    p = writeNumber(buf, p, d.amount);
    p = copy(buf, p, K_CURRENCY);
    p = writeString(buf, p, u.currency);
    p = copy(buf, p, this.merchant(merchants, d.merchant));
    p = copy(buf, p, K_CHANNEL);
    p = writeString(buf, p, d.channel);
    p = copy(buf, p, K_DEVICE);
    if (typeof device === "string") p = writeString(buf, p, device);
    else {
      p = writeString(buf, p, device.type);
      p = copy(buf, p, K_DEVICE_ID);
      p = writeString(buf, p, device.id);
    }
    if (d.ip !== null) {
      p = copy(buf, p, K_IP);
      p = writeString(buf, p, d.ip);
    }
    p = copy(buf, p, CITY_BYTES[d.city] as Uint8Array);
    p = copy(buf, p, K_LATITUDE);
    p = writeNumber(buf, p, latitude);
    p = copy(buf, p, K_LONGITUDE);
    p = writeNumber(buf, p, longitude);
    p = copy(buf, p, K_HOME);
    p = writeString(buf, p, u.country);
    if (d.fraudType === null) p = copy(buf, p, K_GENUINE);
    else {
      p = copy(buf, p, K_FRAUD);
      p = writeString(buf, p, d.fraudType);
      p = copy(buf, p, K_END);
    }
    // Typed arrays drop writes past their end without a word: check once, here.
    if (p > buf.length) throw new RangeError(`event line of ${p - pos} bytes does not fit the buffer`);
    return p;
  }

  /** `,"merchant_id":…,"merchant_name":…,"merchant_category":…,"mcc":…` of merchants[i]. */
  private merchant(merchants: readonly Merchant[], i: number): Uint8Array {
    const m = merchants[i] as Merchant;
    if (this.merchantOf[i] === m) return this.merchantBytes[i] as Uint8Array;
    const category = CATEGORIES[m.category] as Category;
    const bytes = bytesOf(
      `,"merchant_id":${JSON.stringify(m.id)},"merchant_name":${JSON.stringify(m.name)},"merchant_category":${JSON.stringify(category.name)},"mcc":${JSON.stringify(category.mcc)}`,
    );
    this.merchantOf[i] = m;
    this.merchantBytes[i] = bytes;
    return bytes;
  }
}

function copy(buf: Uint8Array, pos: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (n > 24) buf.set(bytes, pos);
  else for (let i = 0; i < n; i++) buf[pos + i] = bytes[i] as number;
  return pos + n;
}

/** Characters a JSON string holds as they are, in one byte each: printable ASCII but `"` and `\`. */
function plain(c: number): boolean {
  return c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c;
}

/** JSON.stringify(s) as UTF-8: copied while plain, otherwise the general encoding. */
function writeString(buf: Uint8Array, pos: number, s: string): number {
  const n = s.length;
  if (n > MAX_FIELD) throw new RangeError(`a field of ${n} characters is longer than an event line allows`);
  buf[pos] = 0x22;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!plain(c)) {
      const json = JSON.stringify(s);
      const done = utf8.encodeInto(json, buf.subarray(pos));
      // encodeInto stops quietly where the buffer ends.
      if (done.read < json.length) throw new RangeError("an event line does not fit the buffer");
      return pos + done.written;
    }
    buf[pos + 1 + i] = c;
  }
  buf[pos + 1 + n] = 0x22;
  return pos + n + 2;
}

/**
 * JSON.stringify(x) as ASCII. The amounts and coordinates are decimals of at most four places: for
 * those (x is the double nearest to k / 10^4, and below 2^52 ten-thousandths so that no shorter decimal
 * is as near) the shortest text that reads back as x, which is what Number#toString gives, is k's
 * digits with the point put in and trailing zeros dropped. Anything else goes through toString.
 */
export function writeNumber(buf: Uint8Array, pos: number, x: number): number {
  const k = Math.round(x * 10_000);
  if (k / 10_000 !== x || !(k > -4e15 && k < 4e15)) {
    return copyAscii(buf, pos, Number.isFinite(x) ? String(x) : "null");
  }
  let p = pos;
  let a = k;
  if (a < 0) {
    buf[p++] = 0x2d;
    a = -a;
  }
  const whole = Math.floor(a / 10_000);
  let frac = a - whole * 10_000;
  p = writeDigits(buf, p, whole);
  if (frac === 0) return p;
  buf[p++] = 0x2e;
  let places = 4;
  while (frac % 10 === 0) {
    frac /= 10;
    places--;
  }
  // frac has `places` digits, the first ones possibly zeros.
  for (let i = places - 1; i >= 0; i--) {
    const q = Math.floor(frac / 10);
    buf[p + i] = 0x30 + frac - q * 10;
    frac = q;
  }
  return p + places;
}

/** The decimal digits of a non-negative integer below 2^53. */
function writeDigits(buf: Uint8Array, pos: number, n: number): number {
  let digits = 1;
  for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
  let v = n;
  for (let i = pos + digits - 1; i >= pos; i--) {
    const q = Math.floor(v / 10);
    buf[i] = 0x30 + v - q * 10;
    v = q;
  }
  return pos + digits;
}

function copyAscii(buf: Uint8Array, pos: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) buf[pos + i] = s.charCodeAt(i);
  return pos + n;
}

/** formatTimestamp(t, offsetMinutes) as ASCII bytes (no quotes). */
export function writeTimestamp(buf: Uint8Array, pos: number, t: number, offsetMinutes: number): number {
  const local = Math.trunc(t + offsetMinutes * 60_000);
  const hour = Math.floor(local / HOUR);
  const o = offsetMinutes + 1439;
  if (!(hour >= FIRST_HOUR && hour <= LAST_HOUR) || OFFSET_TEXT[o] === undefined)
    return copyAscii(buf, pos, formatTimestamp(t, offsetMinutes));
  // "YYYY-MM-DDTHH:" from the cache, then "MM:SS.mmm" as digits, then the offset from its table.
  const prefix = hourPrefix(hour);
  let p = pos;
  for (let i = 0; i < 14; i++) buf[p + i] = prefix.charCodeAt(i);
  p += 14;
  const inHour = local - hour * HOUR;
  const sec = Math.floor(inHour / 1000);
  const ms = inHour - sec * 1000;
  const min = Math.floor(sec / 60);
  const s = sec - min * 60;
  const m10 = Math.floor(min / 10);
  const s10 = Math.floor(s / 10);
  const ms100 = Math.floor(ms / 100);
  const ms10 = Math.floor(ms / 10);
  buf[p] = 0x30 + m10;
  buf[p + 1] = 0x30 + min - m10 * 10;
  buf[p + 2] = 0x3a;
  buf[p + 3] = 0x30 + s10;
  buf[p + 4] = 0x30 + s - s10 * 10;
  buf[p + 5] = 0x2e;
  buf[p + 6] = 0x30 + ms100;
  buf[p + 7] = 0x30 + ms10 - ms100 * 10;
  buf[p + 8] = 0x30 + ms - ms10 * 10;
  p += 9;
  const offsetAt = o * 6;
  for (let i = 0; i < 6; i++) buf[p + i] = OFFSET_BYTES[offsetAt + i] as number;
  return p + 6;
}
