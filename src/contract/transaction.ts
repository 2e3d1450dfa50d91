// The transaction event contract (contract/transaction.schema.json at the top of the repository), as
// the one zod schema the code uses. Types are derived from it; nothing else in the project restates
// these fields. src/contract/schema.test.ts checks that this schema and the JSON Schema agree.
import { z } from "zod";

export const CHANNELS = ["pos", "online", "atm", "transfer", "mobile"] as const;

// RFC 3339 allows any number of fraction digits; Date.parse reads them (to the millisecond).
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Epoch milliseconds of an RFC 3339 timestamp with an offset or Z, or NaN when the text is not one or names
 * a day that does not exist (2026-02-30). `Date.parse` alone would accept many other shapes and roll
 * impossible days over into the next month. A leap second (23:59:60), valid RFC 3339, is NaN too:
 * JavaScript time has no leap seconds, and guessing an instant for it would misorder events.
 */
export function parseEventTime(text: string): number {
  const m = RFC3339.exec(text);
  if (m === null) return Number.NaN;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return Number.NaN;
  const offset = m[8] as string;
  if (offset !== "Z" && offset !== "z") {
    const oh = Number(offset.slice(1, 3));
    const om = Number(offset.slice(4, 6));
    if (oh > 23 || om > 59) return Number.NaN;
  }
  return Date.parse(text);
}

/** Limits of `metadata`: flat scalars a rule can compare, small enough to store with every row. */
export const MAX_METADATA_KEYS = 64;
export const MAX_METADATA_KEY = 128;
export const MAX_METADATA_TEXT = 1024;

const countryCode = z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 code such as DE");

export const TransactionSchema = z.object({
  transaction_id: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/,
      "must be 1-64 characters of A-Z a-z 0-9 _ . : - (not leading)",
    ),
  timestamp: z
    .string()
    .refine((s) => !Number.isNaN(parseEventTime(s)), "must be an RFC 3339 date-time with an offset or Z"),
  user_id: z.string().min(1).max(64),
  card_id: z.string().min(1).max(64).optional(),
  amount: z.number().positive().max(1_000_000_000),
  currency: z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as EUR"),
  merchant_id: z.string().max(64).optional(),
  merchant_name: z.string().max(200).optional(),
  merchant_category: z.string().max(64).optional(),
  mcc: z
    .string()
    .regex(/^[0-9]{4}$/, "must be a 4-digit ISO 18245 code")
    .optional(),
  channel: z.enum(CHANNELS).optional(),
  device: z.string().max(64).optional(),
  device_id: z.string().max(128).optional(),
  ip_address: z.string().max(45).optional(),
  country: countryCode.optional(),
  city: z.string().max(100).optional(),
  latitude: z.number().min(-90).max(90).optional(),
  longitude: z.number().min(-180).max(180).optional(),
  home_country: countryCode.optional(),
  is_fraud: z.union([z.boolean(), z.literal(0), z.literal(1)]).optional(),
  fraud_type: z.string().max(64).optional(),
  metadata: z
    .record(
      z.string().min(1).max(MAX_METADATA_KEY),
      z.union([z.string().max(MAX_METADATA_TEXT), z.number(), z.boolean(), z.null()]),
    )
    .refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, `must have at most ${MAX_METADATA_KEYS} keys`)
    .optional(),
});

/**
 * A valid event as producers write it. Unknown extra fields are allowed on the wire and ignored here;
 * `metadata` holds the producer's own fields that a mapping (src/ingest) kept, flat, for rules to read.
 */
export type Transaction = z.infer<typeof TransactionSchema>;
export type Channel = (typeof CHANNELS)[number];

/** Ground truth as a boolean, whichever of the contract's encodings the producer used. */
export function isFraudLabel(event: Transaction): boolean | undefined {
  const v = event.is_fraud;
  return v === undefined ? undefined : v === true || v === 1;
}
