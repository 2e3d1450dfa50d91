// Features that depend on the event alone. They are the first columns of every feature vector; the
// behavioural (per-user, windowed) features of src/features extend this list.
import type { Transaction } from "../contract/transaction.ts";

export interface FeatureDef {
  name: string;
  description: string;
  type: "number" | "boolean" | "category";
  unit: string;
  /** Value for a user with no history (for stateless features: not applicable, the event decides). */
  cold: number;
}

const CHANNEL_CODES: Record<string, number> = { pos: 0, online: 1, mobile: 2, atm: 3, transfer: 4 };
const DEVICE_CODES: Record<string, number> = { "pos terminal": 0, desktop: 1, mobile: 2, tablet: 3, atm: 4 };

export const STATELESS_FEATURES: readonly FeatureDef[] = [
  { name: "amount", description: "Transaction amount", type: "number", unit: "currency units", cold: 0 },
  { name: "log_amount", description: "ln(1 + amount)", type: "number", unit: "ln(currency units)", cold: 0 },
  {
    name: "hour_of_day",
    description: "Hour of the event in the timestamp's own UTC offset (the producer's local time)",
    type: "number",
    unit: "hour 0-23",
    cold: 0,
  },
  {
    name: "day_of_week",
    description: "Day of the week in the timestamp's own offset, 0 = Sunday",
    type: "number",
    unit: "day 0-6",
    cold: 0,
  },
  { name: "is_weekend", description: "Saturday or Sunday", type: "boolean", unit: "0/1", cold: 0 },
  {
    name: "channel_code",
    description: "Channel: pos 0, online 1, mobile 2, atm 3, transfer 4, missing -1",
    type: "category",
    unit: "code",
    cold: -1,
  },
  {
    name: "device_code",
    description: "Device type: POS terminal 0, desktop 1, mobile 2, tablet 3, ATM 4, other 5, missing -1",
    type: "category",
    unit: "code",
    cold: -1,
  },
  {
    name: "is_foreign",
    description: "country differs from home_country (0 when either is missing)",
    type: "boolean",
    unit: "0/1",
    cold: 0,
  },
];

const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;

/** Minutes east of UTC of an RFC 3339 timestamp that the contract already validated. */
function offsetMinutes(timestamp: string): number {
  const last = timestamp.charCodeAt(timestamp.length - 1);
  if (last === 90 /* Z */ || last === 122 /* z */) return 0;
  const sign = timestamp.charCodeAt(timestamp.length - 6) === 45 /* - */ ? -1 : 1;
  const h = Number(timestamp.slice(-5, -3));
  const m = Number(timestamp.slice(-2));
  return sign * (h * 60 + m);
}

/**
 * Writes the stateless features of one event into `out` at `at` (STATELESS_FEATURES.length values).
 * No allocation: the worker calls this once per event on the hot path.
 */
export function writeStatelessFeatures(
  event: Transaction,
  eventTime: number,
  out: Float64Array,
  at: number,
): void {
  const local = eventTime + offsetMinutes(event.timestamp) * 60_000;
  const day = Math.floor(local / MS_PER_DAY);
  const dow = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
  out[at] = event.amount;
  out[at + 1] = Math.log1p(event.amount);
  out[at + 2] = Math.floor((local - day * MS_PER_DAY) / MS_PER_HOUR);
  out[at + 3] = dow;
  out[at + 4] = dow === 0 || dow === 6 ? 1 : 0;
  out[at + 5] = event.channel === undefined ? -1 : (CHANNEL_CODES[event.channel] ?? -1);
  out[at + 6] = event.device === undefined ? -1 : (DEVICE_CODES[event.device.toLowerCase()] ?? 5);
  out[at + 7] =
    event.country !== undefined && event.home_country !== undefined && event.country !== event.home_country
      ? 1
      : 0;
}
