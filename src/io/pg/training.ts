// Labelled rows for supervised training from what the product has seen: the features stored with every
// scored transaction (transactions_scored.features, as the worker computed them), labelled by the
// analysts' latest feedback on its alert (known from the time it was given), else by the label the
// event carried when it was imported (labelled history: is_fraud), else taken as legitimate: a
// transaction nobody reported within the label delay is the usual negative in fraud data (the time
// split leaves rows younger than the delay out). One query, in event-time order.
import type { Queryable } from "./db.ts";

export interface StoredLabelledRows {
  featureNames: string[];
  featureSetVersion: string | null;
  X: Float64Array;
  rows: number;
  labels: Uint8Array;
  times: Float64Array;
  /** Feedback time for analyst labels; NaN (the label delay applies) for the others. */
  knownAt: Float64Array;
  cards: string[];
  source: string;
  /** Rows by where their label came from. */
  labelSources: { feedback: number; imported: number; assumedLegitimate: number };
  /** The database's clock at the query (ms): "now" for the label delay. */
  now: number;
}

interface Row {
  event_time: Date | string;
  card: string;
  features: Record<string, number | null>;
  feedback: string | null;
  given_at: Date | string | null;
  is_fraud: boolean | null;
}

export async function loadStoredLabelledRows(
  db: Queryable,
  opts: { featureNames: readonly string[]; featureSetVersion: string | null; since?: Date | undefined },
): Promise<StoredLabelledRows> {
  const r = await db.query<Row>(
    `SELECT s.event_time, coalesce(s.card_id, s.user_id) AS card, s.features, f.label AS feedback,
            f.given_at, s.is_fraud
       FROM transactions_scored s
       LEFT JOIN LATERAL (
         SELECT label, given_at FROM feedback WHERE transaction_id = s.transaction_id ORDER BY id DESC LIMIT 1
       ) f ON true
      WHERE $1::timestamptz IS NULL OR s.event_time >= $1::timestamptz
      ORDER BY s.event_time, s.transaction_id`,
    [opts.since?.toISOString() ?? null],
  );
  const now = (await db.query<{ now: Date | string }>("SELECT now() AS now")).rows[0]?.now;
  const names = [...opts.featureNames];
  const n = r.rows.length;
  const X = new Float64Array(n * names.length);
  const labels = new Uint8Array(n);
  const times = new Float64Array(n);
  const knownAt = new Float64Array(n);
  const cards: string[] = new Array(n);
  const labelSources = { feedback: 0, imported: 0, assumedLegitimate: 0 };
  r.rows.forEach((row, i) => {
    times[i] = new Date(row.event_time).getTime();
    cards[i] = row.card;
    for (let c = 0; c < names.length; c++) {
      const v = row.features[names[c] as string];
      X[i * names.length + c] = typeof v === "number" ? v : Number.NaN;
    }
    if (row.feedback !== null) {
      labels[i] = row.feedback === "confirmed_fraud" ? 1 : 0;
      knownAt[i] = new Date(row.given_at as Date | string).getTime();
      labelSources.feedback++;
    } else {
      labels[i] = row.is_fraud === true ? 1 : 0;
      knownAt[i] = Number.NaN;
      if (row.is_fraud === null) labelSources.assumedLegitimate++;
      else labelSources.imported++;
    }
  });
  return {
    featureNames: names,
    featureSetVersion: opts.featureSetVersion,
    X,
    rows: n,
    labels,
    times,
    knownAt,
    cards,
    source: `postgresql transactions_scored + feedback${opts.since === undefined ? "" : ` since ${opts.since.toISOString()}`}`,
    labelSources,
    now: now === undefined ? Date.now() : new Date(now).getTime(),
  };
}
