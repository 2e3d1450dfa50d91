// Entity features, declared: each definition names the entity it is keyed by (user, card, merchant,
// device, IP or any contract field), an aggregate, an event-time window and its cold value. The names,
// descriptions and docs table (docs/features.md), the columns of training and the engine's state
// layout (entity-engine.ts) all derive from these definitions; nothing else restates them.
import type { Transaction } from "../contract/transaction.ts";
import { TransactionSchema } from "../contract/transaction.ts";
import type { FeatureDef } from "./stateless.ts";

/** Named entities, and `field:<contract field>` for any other string field of the event. */
export type EntityKey = "user" | "card" | "merchant" | "device" | "ip" | `field:${string}`;

export type EntityAggregate =
  /** Prior events of the entity in the window. */
  | { kind: "count" }
  /** Sum of their amounts. */
  | { kind: "sum" }
  /** Mean of their amounts (cold value when none). */
  | { kind: "mean" }
  /** Largest of their amounts (cold value when none). */
  | { kind: "max" }
  /** Distinct values of another key among them (exact up to a bound, then a sketch). */
  | { kind: "distinct"; of: EntityKey }
  /** Share of them whose contract field `field` equals `equals` (cold value when none). */
  | { kind: "share"; field: string; equals: string }
  /**
   * Confirmed fraud among them: transactions of the entity in the window whose fraud label was known
   * strictly before the event's time, divided by all of them (cold value when none).
   */
  | { kind: "fraud_rate" };

export interface EntityFeatureDefinition {
  /** Column name; default derived from key, aggregate and window (e.g. `merchant_distinct_cards_7d`). */
  name?: string;
  key: EntityKey;
  aggregate: EntityAggregate;
  /** Window length, event time: 1 min … 30 days. */
  windowMs: number;
  /** Bucket width; default bucketWidthFor(windowMs). Must divide into the window at least once. */
  bucketMs?: number;
  /** Value when the entity has no prior event in the window (or the event has no value for the key). */
  cold: number;
}

/** A definition with everything defaulted, as the engine and the registry use it. */
export interface EntityFeature extends FeatureDef {
  key: EntityKey;
  aggregate: EntityAggregate;
  windowMs: number;
  bucketMs: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
export const MIN_WINDOW_MS = MINUTE;
export const MAX_WINDOW_MS = 30 * DAY;

/** Candidate bucket widths, largest first. */
const BUCKET_WIDTHS = [DAY, 6 * HOUR, HOUR, MINUTE];

/**
 * Default bucket width for a window: the largest of 1 d, 6 h, 1 h, 1 min that fits at least 24 times
 * into it (1 min when none does). A window then loses at most 1/24 of its length at its old end (see
 * docs/features.md, "Entity windows"): 1 h → 1 min buckets, 1 d → 1 h, 7 d → 6 h, 30 d → 1 d.
 */
export function bucketWidthFor(windowMs: number): number {
  for (const b of BUCKET_WIDTHS) if (windowMs / b >= 24) return b;
  return MINUTE;
}

const KEY_WORDS: Record<string, string> = {
  user: "users",
  card: "cards",
  merchant: "merchants",
  device: "devices",
  ip: "ips",
};

function keyWord(key: EntityKey, plural: boolean): string {
  if (key.startsWith("field:")) return key.slice(6) + (plural ? "s" : "");
  return plural ? (KEY_WORDS[key] as string) : key;
}

/** `1m`, `1h`, `24h`, `7d` … as feature-name suffixes. */
export function windowSuffix(ms: number): string {
  if (ms % DAY === 0 && ms !== DAY) return `${ms / DAY}d`;
  if (ms === DAY) return "1d";
  if (ms % HOUR === 0) return `${ms / HOUR}h`;
  if (ms % MINUTE === 0) return `${ms / MINUTE}m`;
  return `${ms}ms`;
}

function windowText(ms: number): string {
  if (ms % DAY === 0) return `${ms / DAY} d`;
  if (ms % HOUR === 0) return `${ms / HOUR} h`;
  if (ms % MINUTE === 0) return `${ms / MINUTE} min`;
  return `${ms} ms`;
}

const KEY_FIELDS: Record<string, string> = {
  user: "`user_id`",
  card: "`card_id`",
  merchant: "`merchant_id` (else `merchant_name`)",
  device: "`device_id`",
  ip: "`ip_address`",
};

function keyText(key: EntityKey): string {
  return key.startsWith("field:") ? `\`${key.slice(6)}\`` : (KEY_FIELDS[key] as string);
}

function defaultName(d: EntityFeatureDefinition): string {
  const k = keyWord(d.key, false);
  const w = windowSuffix(d.windowMs);
  const a = d.aggregate;
  switch (a.kind) {
    case "count":
      return `${k}_txn_count_${w}`;
    case "sum":
      return `${k}_amount_sum_${w}`;
    case "mean":
      return `${k}_amount_mean_${w}`;
    case "max":
      return `${k}_amount_max_${w}`;
    case "distinct":
      return `${k}_distinct_${keyWord(a.of, true)}_${w}`;
    case "share":
      return `${k}_share_${a.field}_${a.equals}_${w}`.replace(/[^a-z0-9_]/g, "_");
    case "fraud_rate":
      return `${k}_fraud_rate_${w}`;
  }
}

function describe(d: EntityFeatureDefinition, bucketMs: number): { description: string; unit: string } {
  const of = `prior transactions of the event's ${keyText(d.key)} in its ${windowText(d.windowMs)} window (${windowText(bucketMs)} buckets)`;
  const a = d.aggregate;
  switch (a.kind) {
    case "count":
      return { description: `Number of ${of}`, unit: "count" };
    case "sum":
      return { description: `Sum of the amounts of ${of}`, unit: "currency units" };
    case "mean":
      return { description: `Mean amount of ${of}; ${d.cold} when none`, unit: "currency units" };
    case "max":
      return { description: `Largest amount of ${of}; ${d.cold} when none`, unit: "currency units" };
    case "distinct":
      return { description: `Distinct ${keyText(a.of)} values among ${of}`, unit: "count" };
    case "share":
      return {
        description: `Share of ${of} with \`${a.field}\` = "${a.equals}"; ${d.cold} when none`,
        unit: "fraction 0-1",
      };
    case "fraud_rate":
      return {
        description: `Share of ${of} whose fraud label was known strictly before the event; ${d.cold} when none`,
        unit: "fraction 0-1",
      };
  }
}

const CONTRACT_FIELDS = new Set(Object.keys(TransactionSchema.shape));
const STRING_FIELDS = new Set(
  Object.entries(TransactionSchema.shape)
    .filter(([, s]) => {
      const inner = "unwrap" in s && typeof s.unwrap === "function" ? s.unwrap() : s;
      return (inner as { type?: string }).type === "string" || (inner as { type?: string }).type === "enum";
    })
    .map(([k]) => k),
);

export class EntityFeatureError extends Error {
  override name = "EntityFeatureError";
}

function checkKey(key: EntityKey, where: string): void {
  if (key in KEY_FIELDS) return;
  if (!key.startsWith("field:") || !STRING_FIELDS.has(key.slice(6)))
    throw new EntityFeatureError(
      `${where}: key "${key}" is none of user, card, merchant, device, ip or field:<a string field of the contract: ${[...STRING_FIELDS].join(", ")}>`,
    );
}

/** Checks a list of definitions and fills in names, descriptions and bucket widths. */
export function resolveEntityFeatures(defs: readonly EntityFeatureDefinition[]): EntityFeature[] {
  const out: EntityFeature[] = [];
  const names = new Set<string>();
  defs.forEach((d, i) => {
    const where = `entity feature ${i}${d.name === undefined ? "" : ` (${d.name})`}`;
    checkKey(d.key, where);
    if (d.aggregate.kind === "distinct") checkKey(d.aggregate.of, `${where}: aggregate.of`);
    if (d.aggregate.kind === "share" && !CONTRACT_FIELDS.has(d.aggregate.field))
      throw new EntityFeatureError(
        `${where}: aggregate.field "${d.aggregate.field}" is not a contract field`,
      );
    if (!(Number.isInteger(d.windowMs) && d.windowMs >= MIN_WINDOW_MS && d.windowMs <= MAX_WINDOW_MS))
      throw new EntityFeatureError(`${where}: windowMs ${d.windowMs} is not an integer in 1 min … 30 days`);
    const bucketMs = d.bucketMs ?? bucketWidthFor(d.windowMs);
    if (!(Number.isInteger(bucketMs) && bucketMs >= 1 && bucketMs <= d.windowMs))
      throw new EntityFeatureError(`${where}: bucketMs ${bucketMs} is not an integer in 1 … windowMs`);
    if (!Number.isFinite(d.cold)) throw new EntityFeatureError(`${where}: cold value must be finite`);
    const name = d.name ?? defaultName(d);
    if (!/^[a-z][a-z0-9_]*$/.test(name))
      throw new EntityFeatureError(`${where}: name "${name}" is not snake_case`);
    if (names.has(name)) throw new EntityFeatureError(`${where}: name "${name}" is used twice`);
    names.add(name);
    const { description, unit } = describe(d, bucketMs);
    out.push({
      name,
      description,
      unit,
      type: "number",
      cold: d.cold,
      key: d.key,
      aggregate: d.aggregate,
      windowMs: d.windowMs,
      bucketMs,
    });
  });
  return out;
}

/** The string an event holds for a key, or undefined (missing or empty). */
export function entityValue(e: Transaction, key: EntityKey): string | undefined {
  let v: unknown;
  switch (key) {
    case "user":
      v = e.user_id;
      break;
    case "card":
      v = e.card_id;
      break;
    case "merchant":
      v = e.merchant_id !== undefined && e.merchant_id !== "" ? e.merchant_id : e.merchant_name;
      break;
    case "device":
      v = e.device_id;
      break;
    case "ip":
      v = e.ip_address;
      break;
    default:
      v = (e as Record<string, unknown>)[key.slice(6)];
  }
  return typeof v === "string" && v !== "" ? v : undefined;
}

const W1H = HOUR;
const W1D = DAY;
const W7D = 7 * DAY;
const W30D = 30 * DAY;

/** The default set of issue #15, in column order. */
export const DEFAULT_ENTITY_FEATURE_DEFINITIONS: readonly EntityFeatureDefinition[] = [
  ...[W1H, W1D, W7D, W30D].map((windowMs) => ({
    key: "merchant" as const,
    aggregate: { kind: "count" as const },
    windowMs,
    cold: 0,
  })),
  ...[W1H, W1D, W7D, W30D].map((windowMs) => ({
    key: "merchant" as const,
    aggregate: { kind: "distinct" as const, of: "card" as const },
    windowMs,
    cold: 0,
  })),
  { key: "merchant", aggregate: { kind: "mean" }, windowMs: W30D, cold: 0 },
  ...(["device", "ip"] as const).flatMap((key) =>
    (["user", "card"] as const).flatMap((of) =>
      [W1D, W7D].map((windowMs) => ({
        key,
        aggregate: { kind: "distinct" as const, of },
        windowMs,
        cold: 0,
        name: `${key}_distinct_${of}s_${windowMs === W1D ? "24h" : "7d"}`,
      })),
    ),
  ),
  ...[W1D, W7D, W30D].map((windowMs) => ({
    key: "card" as const,
    aggregate: { kind: "count" as const },
    windowMs,
    cold: 0,
  })),
  ...[W1D, W7D, W30D].map((windowMs) => ({
    key: "card" as const,
    aggregate: { kind: "mean" as const },
    windowMs,
    cold: 0,
  })),
  ...[W7D, W30D].flatMap((windowMs) => [
    { key: "user" as const, aggregate: { kind: "count" as const }, windowMs, cold: 0 },
    { key: "user" as const, aggregate: { kind: "sum" as const }, windowMs, cold: 0 },
  ]),
  ...(["merchant", "card"] as const).flatMap((key) =>
    [W7D, W30D].map((windowMs) => ({
      key,
      aggregate: { kind: "fraud_rate" as const },
      windowMs,
      cold: 0,
    })),
  ),
];

export const DEFAULT_ENTITY_FEATURES: readonly EntityFeature[] = resolveEntityFeatures(
  DEFAULT_ENTITY_FEATURE_DEFINITIONS,
);

/**
 * Version of the entity feature set: bump it whenever a definition is added, removed, reordered or
 * changed. A vector with entity columns belongs to feature set `${FEATURE_SET_VERSION}+${this}`.
 */
export const ENTITY_FEATURE_SET_VERSION = "ent-2026-12-04.1";
