// The one list of features. The worker's vector layout, training's columns, explanations and the
// generated table in docs/features.md all come from FEATURES; a test keeps the doc in step.
import { type FeatureDef, STATELESS_FEATURES } from "./stateless.ts";

/**
 * Version of the feature set: bump it whenever a feature is added, removed, reordered or its
 * definition changes, so models trained on one set are never served vectors of another.
 */
export const FEATURE_SET_VERSION = "fs-2026-11-22.1";

/**
 * Behavioural features, computed by FeatureEngine from the user's state BEFORE the event (its "prior
 * events", see docs/features.md), in this column order after the stateless ones.
 */
export const BEHAVIOURAL_FEATURES: readonly FeatureDef[] = [
  {
    name: "txn_count_1m",
    description: "Prior transactions of the user with event time in (t − 1 min, t]",
    type: "number",
    unit: "count",
    cold: 0,
  },
  {
    name: "txn_sum_1m",
    description: "Sum of amounts of those transactions",
    type: "number",
    unit: "currency units",
    cold: 0,
  },
  {
    name: "txn_count_1h",
    description: "Prior transactions with event time in (t − 1 h, t]",
    type: "number",
    unit: "count",
    cold: 0,
  },
  {
    name: "txn_sum_1h",
    description: "Sum of amounts of those transactions",
    type: "number",
    unit: "currency units",
    cold: 0,
  },
  {
    name: "txn_count_24h",
    description: "Prior transactions with event time in (t − 24 h, t]",
    type: "number",
    unit: "count",
    cold: 0,
  },
  {
    name: "txn_sum_24h",
    description: "Sum of amounts of those transactions",
    type: "number",
    unit: "currency units",
    cold: 0,
  },
  {
    name: "amount_max_1h",
    description: "Largest amount among prior transactions in (t − 1 h, t]; 0 when none",
    type: "number",
    unit: "currency units",
    cold: 0,
  },
  {
    name: "distinct_countries_24h",
    description: "Distinct `country` values among prior transactions in (t − 24 h, t]",
    type: "number",
    unit: "count",
    cold: 0,
  },
  {
    name: "distinct_devices_24h",
    description: "Distinct devices (`device_id`, else `device`) among prior transactions in (t − 24 h, t]",
    type: "number",
    unit: "count",
    cold: 0,
  },
  {
    name: "distinct_merchants_24h",
    description:
      "Distinct merchants (`merchant_id`, else `merchant_name`) among prior transactions in (t − 24 h, t]",
    type: "number",
    unit: "count",
    cold: 0,
  },
  {
    name: "user_txn_count",
    description: "All prior transactions of the user (since its state was created)",
    type: "number",
    unit: "count",
    cold: 0,
  },
  {
    name: "amount_mean",
    description: "Mean amount of all prior transactions; 0 when none",
    type: "number",
    unit: "currency units",
    cold: 0,
  },
  {
    name: "amount_std",
    description: "Population standard deviation of the amounts of all prior transactions; 0 when none",
    type: "number",
    unit: "currency units",
    cold: 0,
  },
  {
    name: "amount_zscore",
    description:
      "(amount − amount_mean) / max(amount_std, 1 % of amount_mean); 0 with fewer than 2 prior transactions",
    type: "number",
    unit: "standard deviations",
    cold: 0,
  },
  {
    name: "seconds_since_prev",
    description: "Event time minus that of the previous prior transaction; −1 when there is none",
    type: "number",
    unit: "s",
    cold: -1,
  },
  {
    name: "distance_from_prev_km",
    description:
      "Haversine distance between this event's latitude/longitude and the previous transaction's; 0 when either lacks a location",
    type: "number",
    unit: "km",
    cold: 0,
  },
  {
    name: "speed_from_prev_kmh",
    description: "distance_from_prev_km divided by the time between the two events, floored at 1 minute",
    type: "number",
    unit: "km/h",
    cold: 0,
  },
  {
    name: "is_new_device",
    description: "The event's device never appeared in a prior transaction (0 when the event has no device)",
    type: "boolean",
    unit: "0/1",
    cold: 1,
  },
  {
    name: "is_new_merchant",
    description: "The event's merchant never appeared in a prior transaction (0 when the event has none)",
    type: "boolean",
    unit: "0/1",
    cold: 1,
  },
  {
    name: "is_new_country",
    description: "The event's country never appeared in a prior transaction (0 when the event has none)",
    type: "boolean",
    unit: "0/1",
    cold: 1,
  },
  {
    name: "category_spend_share",
    description:
      "Share of the user's prior spend made in this event's `merchant_category` (else `mcc`); 0 when none",
    type: "number",
    unit: "fraction 0-1",
    cold: 0,
  },
  {
    name: "distinct_cards",
    description: "Distinct `card_id` values among all prior transactions",
    type: "number",
    unit: "count",
    cold: 0,
  },
];

/** Every feature in vector column order: stateless first, then behavioural. */
export const FEATURES: readonly FeatureDef[] = [...STATELESS_FEATURES, ...BEHAVIOURAL_FEATURES];

export const FEATURE_NAMES: readonly string[] = FEATURES.map((f) => f.name);

const INDEX = new Map(FEATURE_NAMES.map((n, i) => [n, i]));

/** Column of a feature in the vector; throws on an unknown name so a typo fails at start, not silently. */
export function featureIndex(name: string): number {
  const i = INDEX.get(name);
  if (i === undefined) throw new Error(`unknown feature "${name}" (feature set ${FEATURE_SET_VERSION})`);
  return i;
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

/** The markdown table of docs/features.md, generated from FEATURES. */
export function featureTable(): string {
  const rows = FEATURES.map(
    (f, i) =>
      `| ${i} | \`${f.name}\` | ${f.type} | ${cell(f.unit)} | ${f.cold} | ${i < STATELESS_FEATURES.length ? "event" : "user history"} | ${cell(f.description)} |`,
  );
  return [
    `Feature set \`${FEATURE_SET_VERSION}\`, ${FEATURES.length} features.`,
    "",
    "| # | Name | Type | Unit | Cold value | Source | Description |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
