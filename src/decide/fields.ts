// What a rule may read: event fields, features by registry name, and the model score. Names are
// resolved here once, at load time, so that a typo fails with a suggestion instead of never matching.
import { CHANNELS, type Transaction } from "../contract/transaction.ts";
import { FEATURE_NAMES, FEATURES } from "../features/registry.ts";

/**
 * How rules see each field of the event contract. `label` fields are ground truth for training and
 * evaluation: a rule reading them would look perfect in a backtest and be useless in production.
 * Typed against the contract so that a field added there must be classified here before tsc passes.
 */
export const EVENT_FIELD_TYPES = {
  transaction_id: "string",
  timestamp: "string",
  user_id: "string",
  card_id: "string",
  amount: "number",
  currency: "string",
  merchant_id: "string",
  merchant_name: "string",
  merchant_category: "string",
  mcc: "string",
  channel: "string",
  device: "string",
  device_id: "string",
  ip_address: "string",
  country: "string",
  city: "string",
  latitude: "number",
  longitude: "number",
  home_country: "string",
  is_fraud: "label",
  fraud_type: "label",
  metadata: "metadata",
} as const satisfies Record<keyof Transaction, "string" | "number" | "label" | "metadata">;

type EventFieldTypes = typeof EVENT_FIELD_TYPES;
export type EventStringField = {
  [K in keyof EventFieldTypes]: EventFieldTypes[K] extends "string" ? K : never;
}[keyof EventFieldTypes];
export type EventNumberField = {
  [K in keyof EventFieldTypes]: EventFieldTypes[K] extends "number" ? K : never;
}[keyof EventFieldTypes];

/** A field reference after resolution; `name` is the canonical spelling used in explanations. */
export type ResolvedField =
  | { kind: "event"; type: "string"; key: EventStringField; name: string }
  | { kind: "event"; type: "number"; key: EventNumberField; name: string }
  | { kind: "feature"; type: "number"; index: number; boolean: boolean; name: string }
  | { kind: "score"; type: "number"; name: "score" }
  // A producer's own field kept by an ingest mapping; compared as text (numbers by their decimal form).
  | { kind: "metadata"; type: "string"; key: string; name: string };

/** Values of contract fields with a fixed format: a literal in another shape could never match. */
export const FIELD_FORMATS: Partial<
  Record<EventStringField, { test: (v: string) => boolean; hint: string }>
> = {
  country: {
    test: (v) => /^[A-Z]{2}$/.test(v),
    hint: "an ISO 3166-1 alpha-2 code in upper case, such as DE",
  },
  home_country: {
    test: (v) => /^[A-Z]{2}$/.test(v),
    hint: "an ISO 3166-1 alpha-2 code in upper case, such as DE",
  },
  currency: { test: (v) => /^[A-Z]{3}$/.test(v), hint: "an ISO 4217 code in upper case, such as EUR" },
  mcc: { test: (v) => /^[0-9]{4}$/.test(v), hint: "a 4-digit merchant category code, such as 7995" },
  channel: {
    test: (v) => (CHANNELS as readonly string[]).includes(v),
    hint: `one of ${CHANNELS.join(", ")} (lower case)`,
  },
};

const EVENT_NAMES = Object.keys(EVENT_FIELD_TYPES) as (keyof EventFieldTypes)[];
const FEATURE_SET = new Set(FEATURE_NAMES);
const BOOLEAN_FEATURES = new Set(FEATURES.filter((f) => f.type === "boolean").map((f) => f.name));

function isEventName(name: string): name is keyof EventFieldTypes {
  return Object.hasOwn(EVENT_FIELD_TYPES, name);
}

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost));
    }
    prev = row;
  }
  return prev[b.length] as number;
}

/** The closest candidate when it is close enough to be a plausible typo, else undefined. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function suggest(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c === undefined ? "" : `; did you mean ${c}?`;
}

function eventField(key: keyof EventFieldTypes): ResolvedField | string {
  const type = EVENT_FIELD_TYPES[key];
  if (type === "label")
    return `event.${key} is the ground-truth label: rules may not read it (it is absent in production and would make a backtest look perfect)`;
  if (type === "metadata") return "metadata is an object: read one of its keys as metadata.<key>";
  return type === "string"
    ? { kind: "event", type, key: key as EventStringField, name: `event.${key}` }
    : { kind: "event", type, key: key as EventNumberField, name: `event.${key}` };
}

function feature(name: string): ResolvedField {
  return {
    kind: "feature",
    type: "number",
    index: FEATURE_NAMES.indexOf(name),
    boolean: BOOLEAN_FEATURES.has(name),
    name: `feature.${name}`,
  };
}

/**
 * Resolves a field reference: `event.<field>`, `feature.<name>`, `score`, or a bare name. A bare name
 * is an event field if there is one of that name, else a feature; the only name that is both is
 * `amount`, whose feature is the event's amount itself (a test in rules.test.ts keeps it that way).
 * Returns the field, or an error message that says what would be valid.
 */
export function resolveField(text: string): ResolvedField | string {
  if (text === "score") return { kind: "score", type: "number", name: "score" };
  if (text.startsWith("metadata.") || text.startsWith("event.metadata.")) {
    const key = text.slice(text.indexOf("metadata.") + 9);
    if (key === "") return "metadata.<key> needs a key";
    return { kind: "metadata", type: "string", key, name: `metadata.${key}` };
  }
  if (text.startsWith("event.")) {
    const key = text.slice(6);
    if (isEventName(key)) return eventField(key);
    return `unknown event field "${key}"${suggest(key, EVENT_NAMES)}`;
  }
  if (text.startsWith("feature.")) {
    const name = text.slice(8);
    if (FEATURE_SET.has(name)) return feature(name);
    return `unknown feature "${name}"${suggest(name, FEATURE_NAMES)}`;
  }
  if (isEventName(text)) return eventField(text);
  if (FEATURE_SET.has(text)) return feature(text);
  return `unknown field "${text}"${suggest(text, [...EVENT_NAMES, ...FEATURE_NAMES, "score"])} (fields are event.<field>, feature.<name>, metadata.<key> or score)`;
}

/** Names a field can be written as, for documentation and tests. */
export const EVENT_FIELD_NAMES: readonly string[] = EVENT_NAMES.filter(
  (n) => EVENT_FIELD_TYPES[n] !== "label" && EVENT_FIELD_TYPES[n] !== "metadata",
);
