// Entity features of a labelled history, offline (dataset, backtest): kept apart from the user features
// of dataset.ts, which another change edits. Events and labels go through the entity engine in one
// event-time order (labels at their known-at time), so a label is seen only by events strictly after it
// became known. History with labels but no known-at gets known_at = event time + a delay (default 7 d).
// loadDatasetWithEntities is the opt-in: loadDataset's columns plus the entity columns.
import type { Label } from "../contract/label.ts";
import { isFraudLabel, parseEventTime, type Transaction } from "../contract/transaction.ts";
import {
  DEFAULT_ENTITY_FEATURES,
  ENTITY_FEATURE_SET_VERSION,
  type EntityFeature,
} from "../features/entity.ts";
import { EntityEngine, type EntityEngineOptions } from "../features/entity-engine.ts";
import { EVENT_CSV_TYPING, eventFromRow } from "../io/files/events.ts";
import { openRows } from "../io/files/index.ts";
import { type Dataset, DatasetError, type DatasetOptions, loadDataset } from "./dataset.ts";

export const DEFAULT_LABEL_DELAY_MS = 7 * 86_400_000;

/**
 * Labels of a history that carries `is_fraud` but not when it became known: each labelled event gets
 * known_at = its event time + delayMs (source "delay"). Events without a label give none.
 */
export function labelsWithDelay(events: readonly Transaction[], delayMs = DEFAULT_LABEL_DELAY_MS): Label[] {
  if (!Number.isFinite(delayMs) || delayMs < 0)
    throw new RangeError(`label delay ${delayMs} ms is not a finite ms ≥ 0`);
  const out: Label[] = [];
  for (const e of events) {
    const fraud = isFraudLabel(e);
    if (fraud === undefined) continue;
    out.push({
      transaction_id: e.transaction_id,
      label: fraud ? "fraud" : "legit",
      known_at: new Date(parseEventTime(e.timestamp) + delayMs).toISOString(),
      source: "delay",
    });
  }
  return out;
}

export interface EntityColumns {
  features: readonly EntityFeature[];
  /** Row i (the events' own order) at values[i·features.length …]. */
  values: Float64Array;
}

/**
 * Entity features of each event (in the events' own order), from the events before it in event time
 * (ties: file order) and the labels known strictly before its time. Labels of unknown transactions are
 * an error naming them.
 */
export function entityColumns(
  events: readonly Transaction[],
  labels: readonly Label[],
  features: readonly EntityFeature[] = DEFAULT_ENTITY_FEATURES,
  options: EntityEngineOptions = {},
): EntityColumns {
  const times = events.map((e) => parseEventTime(e.timestamp));
  const byId = new Map<string, number>();
  for (const [i, e] of events.entries()) byId.set(e.transaction_id, i);
  const unknown = labels.filter((l) => !byId.has(l.transaction_id)).map((l) => l.transaction_id);
  if (unknown.length > 0)
    throw new RangeError(
      `labels of transactions not in the history: ${unknown.slice(0, 10).join(", ")}${unknown.length > 10 ? ` (+${unknown.length - 10})` : ""}`,
    );
  const order = events.map((_, i) => i).sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
  const lab = labels
    .map((l, i) => ({ l, k: parseEventTime(l.known_at), i }))
    .sort((a, b) => a.k - b.k || a.i - b.i);
  const engine = new EntityEngine(features, options);
  const w = features.length;
  const values = new Float64Array(events.length * w);
  let li = 0;
  for (const i of order) {
    const t = times[i] as number;
    // Labels known strictly before t go in first; at equal times the event goes first.
    while (li < lab.length && (lab[li] as { k: number }).k < t) {
      const { l, k } = lab[li] as { l: Label; k: number };
      const j = byId.get(l.transaction_id) as number;
      engine.processLabel(events[j] as Transaction, times[j] as number, l.label === "fraud", k);
      li++;
    }
    engine.processEvent(events[i] as Transaction, t, values, i * w);
  }
  return { features, values };
}

export interface EntityDatasetOptions {
  /** Delay after which a labelled event's label counts as known (default 7 d). */
  labelDelayMs?: number;
  features?: readonly EntityFeature[];
}

/**
 * Opt-in: loadDataset's user features, then the entity features of the same rows as further columns.
 * The feature set becomes `${FEATURE_SET_VERSION}+${ENTITY_FEATURE_SET_VERSION}`, so models trained
 * without it keep their own version and stay servable. Labels: the file's `is_fraud`, known after
 * labelDelayMs. Holds the file's events in memory (one more pass over the file).
 */
export async function loadDatasetWithEntities(
  path: string,
  opts: DatasetOptions,
  entity: EntityDatasetOptions = {},
): Promise<Dataset> {
  const base = await loadDataset(path, opts);
  if (base.kind !== "transactions")
    throw new DatasetError(`${path}: entity features need a transactions file, not a feature table`);
  const features = entity.features ?? DEFAULT_ENTITY_FEATURES;
  const events: Transaction[] = [];
  const index = new Map<number, number>();
  const rows = await openRows(path, { csv: EVENT_CSV_TYPING });
  for await (const batch of rows)
    for (const row of batch) {
      const r = eventFromRow(row, rows.format);
      if (!r.ok) continue;
      index.set(r.line, events.length);
      events.push(r.event);
    }
  const { values } = entityColumns(events, labelsWithDelay(events, entity.labelDelayMs), features);
  const w0 = base.featureNames.length;
  const we = features.length;
  const X = new Float64Array(base.rows * (w0 + we));
  for (let r = 0; r < base.rows; r++) {
    X.set(base.X.subarray(r * w0, (r + 1) * w0), r * (w0 + we));
    const i = index.get(base.lines[r] as number) as number;
    X.set(values.subarray(i * we, (i + 1) * we), r * (w0 + we) + w0);
  }
  return {
    ...base,
    featureNames: [...base.featureNames, ...features.map((f) => f.name)],
    featureSetVersion: `${base.featureSetVersion}+${ENTITY_FEATURE_SET_VERSION}`,
    X,
  };
}
