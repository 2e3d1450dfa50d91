// Labelled rows for supervised training from a file of transactions: the features as the worker
// computes them (loadDataset, unchanged), plus what the time split needs per row, read in a second
// pass over the same file: event time, card (the user when no card_id), and when the label became known
// (an optional `label_known_at` RFC 3339 field; otherwise the label delay applies).
import { parseEventTime } from "../contract/transaction.ts";
import { openEvents } from "../io/files/events.ts";
import { DatasetError, type DatasetOptions, loadDataset } from "./dataset.ts";
import type { LabelledRows } from "./train-gbdt.ts";

export async function labelledFromFile(
  path: string,
  opts: DatasetOptions,
): Promise<LabelledRows & { skipped: number }> {
  const data = await loadDataset(path, opts);
  if (data.kind !== "transactions")
    throw new DatasetError(
      `${path} is a feature table; supervised training needs transactions (event times for the time split and label delay)`,
    );
  if (data.labels === null)
    throw new DatasetError(
      `${path} has no labels (${opts.label ?? "is_fraud"}); name the label column with --label`,
    );
  const byLine = new Map<number, { time: number; card: string; knownAt: number }>();
  const reader = await openEvents(path);
  for await (const batch of reader.batches()) {
    for (const row of batch) {
      if (!row.ok) continue;
      const k = row.payload.label_known_at;
      byLine.set(row.line, {
        time: parseEventTime(row.event.timestamp),
        card: row.event.card_id ?? row.event.user_id,
        knownAt: typeof k === "string" ? parseEventTime(k) : Number.NaN,
      });
    }
  }
  const n = data.rows;
  const times = new Float64Array(n);
  const knownAt = new Float64Array(n);
  const cards: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const c = byLine.get(data.lines[i] as number);
    if (c === undefined) throw new DatasetError(`${path}: line ${data.lines[i]} changed between two reads`);
    times[i] = c.time;
    knownAt[i] = c.knownAt;
    cards[i] = c.card;
  }
  return {
    featureNames: data.featureNames,
    featureSetVersion: data.featureSetVersion,
    X: data.X,
    rows: n,
    labels: data.labels,
    times,
    knownAt,
    cards,
    source: path,
    skipped: data.skipped.length,
  };
}
