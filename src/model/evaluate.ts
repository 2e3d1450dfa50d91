// Detection quality of scores against labels (1 / true = fraud): ROC AUC, average precision, curve
// points for the dashboard, the confusion matrix at a threshold and the threshold meeting a target
// precision or recall. Higher score = more suspicious, and a row is flagged when score >= threshold
// (the Scorer's convention). Definitions follow scikit-learn's roc_auc_score,
// average_precision_score, roc_curve and precision_recall_curve so figures can be compared.
import { z } from "zod";

/** Per-label truth: 1 or true = positive (fraud), 0 or false = negative. */
export type Labels = ArrayLike<number | boolean>;

export const confusionSchema = z
  .object({
    threshold: z.number(),
    tp: z.number().int().min(0),
    fp: z.number().int().min(0),
    tn: z.number().int().min(0),
    fn: z.number().int().min(0),
    /** tp / (tp + fp); 0 when nothing is flagged (scikit-learn's zero_division=0). */
    precision: z.number().min(0).max(1),
    /** tp / (tp + fn); 0 when there are no positives. */
    recall: z.number().min(0).max(1),
    f1: z.number().min(0).max(1),
    /** fp / (fp + tn): share of legitimate rows flagged. */
    falsePositiveRate: z.number().min(0).max(1),
  })
  .strict();
export type Confusion = z.infer<typeof confusionSchema>;

export const evaluationSchema = z
  .object({
    rows: z.number().int().min(0),
    positives: z.number().int().min(0),
    /** null when only one class is present (undefined, as scikit-learn's error). */
    rocAuc: z.number().min(0).max(1).nullable(),
    /** Average precision (step-wise area under the precision-recall curve); null without positives. */
    averagePrecision: z.number().min(0).max(1).nullable(),
    atThreshold: confusionSchema.optional(),
  })
  .strict();
export type Evaluation = z.infer<typeof evaluationSchema>;

/** One point per distinct score, from the highest threshold down. */
interface Sweep {
  positives: number;
  negatives: number;
  /** Distinct scores, descending. */
  thresholds: Float64Array;
  /** Cumulative true / false positives when flagging score >= thresholds[k]. */
  tp: Float64Array;
  fp: Float64Array;
}

function isPositive(v: number | boolean): boolean {
  return v === true || v === 1;
}

function sweep(scores: ArrayLike<number>, labels: Labels): Sweep {
  const n = scores.length;
  if (labels.length !== n) throw new RangeError(`${n} scores but ${labels.length} labels`);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const s = scores[i] as number;
    if (Number.isNaN(s)) throw new RangeError(`score ${i} is NaN`);
    const l = labels[i] as number | boolean;
    if (!(l === 0 || l === 1 || l === true || l === false)) {
      throw new RangeError(`label ${i} is ${String(l)}; labels are 0/1 or booleans`);
    }
    order[i] = i;
  }
  order.sort((a, b) => (scores[b] as number) - (scores[a] as number));
  const thresholds = new Float64Array(n);
  const tp = new Float64Array(n);
  const fp = new Float64Array(n);
  let k = -1;
  let t = 0;
  let f = 0;
  let last = Number.NaN;
  for (let j = 0; j < n; j++) {
    const i = order[j] as number;
    const s = scores[i] as number;
    if (s !== last) {
      k++;
      last = s;
    }
    if (isPositive(labels[i] as number | boolean)) t++;
    else f++;
    thresholds[k] = s;
    tp[k] = t;
    fp[k] = f;
  }
  return {
    positives: t,
    negatives: f,
    thresholds: thresholds.slice(0, k + 1),
    tp: tp.slice(0, k + 1),
    fp: fp.slice(0, k + 1),
  };
}

/** Area under the ROC curve (ties count half, as the trapezoidal rule). Undefined (NaN) with one class. */
export function rocAuc(scores: ArrayLike<number>, labels: Labels): number {
  return rocAucOf(sweep(scores, labels));
}

function rocAucOf(s: Sweep): number {
  if (s.positives === 0 || s.negatives === 0) return Number.NaN;
  let area = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (let k = 0; k < s.thresholds.length; k++) {
    const tp = s.tp[k] as number;
    const fp = s.fp[k] as number;
    area += (fp - prevFp) * (prevTp + (tp - prevTp) / 2);
    prevTp = tp;
    prevFp = fp;
  }
  return area / (s.positives * s.negatives);
}

/**
 * Average precision Σₖ (Rₖ − Rₖ₋₁)·Pₖ over distinct thresholds (scikit-learn's
 * average_precision_score; the usual estimate of the area under the precision-recall curve, without
 * the optimistic linear interpolation). NaN without positives.
 */
export function averagePrecision(scores: ArrayLike<number>, labels: Labels): number {
  return averagePrecisionOf(sweep(scores, labels));
}

function averagePrecisionOf(s: Sweep): number {
  if (s.positives === 0) return Number.NaN;
  let ap = 0;
  let prevRecall = 0;
  for (let k = 0; k < s.thresholds.length; k++) {
    const tp = s.tp[k] as number;
    const recall = tp / s.positives;
    ap += (recall - prevRecall) * (tp / (tp + (s.fp[k] as number)));
    prevRecall = recall;
  }
  return ap;
}

export interface RocPoint {
  threshold: number;
  falsePositiveRate: number;
  truePositiveRate: number;
}

export interface PrPoint {
  threshold: number;
  precision: number;
  recall: number;
}

/** Keeps at most `max` points, evenly spaced, always the first and the last. */
function thin<T>(points: T[], max: number | undefined): T[] {
  if (max === undefined || points.length <= max) return points;
  if (max < 2) throw new RangeError(`maxPoints ${max}: a curve needs at least 2 points`);
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(points[Math.round((i * (points.length - 1)) / (max - 1))] as T);
  return out;
}

/**
 * ROC curve from (0, 0) at threshold +∞ through one point per distinct score, descending (scikit-learn's
 * roc_curve with drop_intermediate=false). `maxPoints` thins it for display.
 */
export function rocCurve(
  scores: ArrayLike<number>,
  labels: Labels,
  opts: { maxPoints?: number } = {},
): RocPoint[] {
  const s = sweep(scores, labels);
  const points: RocPoint[] = [
    { threshold: Number.POSITIVE_INFINITY, falsePositiveRate: 0, truePositiveRate: 0 },
  ];
  for (let k = 0; k < s.thresholds.length; k++) {
    points.push({
      threshold: s.thresholds[k] as number,
      falsePositiveRate: s.negatives === 0 ? 0 : (s.fp[k] as number) / s.negatives,
      truePositiveRate: s.positives === 0 ? 0 : (s.tp[k] as number) / s.positives,
    });
  }
  return thin(points, opts.maxPoints);
}

/**
 * Precision-recall curve from (recall 0, precision 1) at threshold +∞ (scikit-learn's end point),
 * then one point per distinct score, descending, so recall never decreases along it.
 */
export function prCurve(
  scores: ArrayLike<number>,
  labels: Labels,
  opts: { maxPoints?: number } = {},
): PrPoint[] {
  const s = sweep(scores, labels);
  const points: PrPoint[] = [{ threshold: Number.POSITIVE_INFINITY, precision: 1, recall: 0 }];
  for (let k = 0; k < s.thresholds.length; k++) {
    const tp = s.tp[k] as number;
    points.push({
      threshold: s.thresholds[k] as number,
      precision: tp / (tp + (s.fp[k] as number)),
      recall: s.positives === 0 ? 0 : tp / s.positives,
    });
  }
  return thin(points, opts.maxPoints);
}

function confusionFrom(
  threshold: number,
  tp: number,
  fp: number,
  positives: number,
  negatives: number,
): Confusion {
  const fn = positives - tp;
  const tn = negatives - fp;
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = positives === 0 ? 0 : tp / positives;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return {
    threshold,
    tp,
    fp,
    tn,
    fn,
    precision,
    recall,
    f1,
    falsePositiveRate: negatives === 0 ? 0 : fp / negatives,
  };
}

/** Confusion matrix, precision, recall and F1 when rows with score >= threshold are flagged. */
export function confusionAt(scores: ArrayLike<number>, labels: Labels, threshold: number): Confusion {
  if (scores.length !== labels.length)
    throw new RangeError(`${scores.length} scores but ${labels.length} labels`);
  let tp = 0;
  let fp = 0;
  let positives = 0;
  for (let i = 0; i < scores.length; i++) {
    const pos = isPositive(labels[i] as number | boolean);
    if (pos) positives++;
    if ((scores[i] as number) >= threshold) {
      if (pos) tp++;
      else fp++;
    }
  }
  return confusionFrom(threshold, tp, fp, positives, scores.length - positives);
}

/**
 * The lowest threshold whose precision is at least `target` (so the most fraud caught at that
 * precision), with its confusion; undefined when no threshold reaches it.
 */
export function thresholdForPrecision(
  scores: ArrayLike<number>,
  labels: Labels,
  target: number,
): Confusion | undefined {
  const s = sweep(scores, labels);
  let best: number | undefined;
  for (let k = 0; k < s.thresholds.length; k++) {
    const tp = s.tp[k] as number;
    if (tp / (tp + (s.fp[k] as number)) >= target) best = k;
  }
  if (best === undefined) return undefined;
  return confusionFrom(
    s.thresholds[best] as number,
    s.tp[best] as number,
    s.fp[best] as number,
    s.positives,
    s.negatives,
  );
}

/**
 * The highest threshold whose recall is at least `target` (so the fewest rows flagged for that
 * recall), with its confusion; undefined without positives.
 */
export function thresholdForRecall(
  scores: ArrayLike<number>,
  labels: Labels,
  target: number,
): Confusion | undefined {
  const s = sweep(scores, labels);
  if (s.positives === 0) return undefined;
  for (let k = 0; k < s.thresholds.length; k++) {
    if ((s.tp[k] as number) / s.positives >= target) {
      return confusionFrom(
        s.thresholds[k] as number,
        s.tp[k] as number,
        s.fp[k] as number,
        s.positives,
        s.negatives,
      );
    }
  }
  return undefined;
}

/** The summary stored with a model and printed by `model evaluate`. */
export function evaluate(
  scores: ArrayLike<number>,
  labels: Labels,
  opts: { threshold?: number } = {},
): Evaluation {
  const s = sweep(scores, labels);
  const auc = rocAucOf(s);
  const ap = averagePrecisionOf(s);
  const out: Evaluation = {
    rows: scores.length,
    positives: s.positives,
    rocAuc: Number.isNaN(auc) ? null : auc,
    averagePrecision: Number.isNaN(ap) ? null : ap,
  };
  if (opts.threshold !== undefined) out.atThreshold = confusionAt(scores, labels, opts.threshold);
  return out;
}

/** PR-AUC as this project reports it: average precision (see averagePrecision). */
export const prAuc = averagePrecision;

export const cardPrecisionSchema = z
  .object({
    k: z.number().int().min(1),
    /** Days (UTC) with at least one row. */
    days: z.number().int().min(0),
    /** Mean over the days of (compromised cards among the day's top k) / k; null without days. */
    mean: z.number().min(0).max(1).nullable(),
    /** Per day: its start (ISO 8601), the cards seen, and that day's precision. */
    perDay: z.array(
      z
        .object({ day: z.string(), cards: z.number().int().min(1), precision: z.number().min(0).max(1) })
        .strict(),
    ),
  })
  .strict();
export type CardPrecision = z.infer<typeof cardPrecisionSchema>;

const DAY_MS = 86_400_000;

/**
 * Card precision at top k per day, as in "Reproducible Machine Learning for Credit Card Fraud
 * Detection" (Le Borgne et al., ch. 4.2): per UTC day, each card's risk is the maximum score of its
 * transactions that day and it is compromised when any of them is fraud; the day's precision is the
 * number of compromised cards among the k riskiest, divided by k (an investigator team checks k cards a
 * day, so a day with fewer cards cannot do better than cards/k); the result is the mean over days. Ties
 * in a card's risk are broken by first appearance. The handbook also drops cards already found
 * compromised on earlier days; this does not (the caller's data rarely says when a card was blocked).
 */
export function cardPrecisionAtK(
  scores: ArrayLike<number>,
  labels: Labels,
  times: ArrayLike<number>,
  cards: ArrayLike<string>,
  k: number,
): CardPrecision {
  const n = scores.length;
  if (labels.length !== n || times.length !== n || cards.length !== n)
    throw new RangeError(
      `${n} scores but ${labels.length} labels, ${times.length} times and ${cards.length} cards`,
    );
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be a whole number ≥ 1, got ${k}`);
  const days = new Map<number, Map<string, { risk: number; fraud: boolean; first: number }>>();
  for (let i = 0; i < n; i++) {
    const s = scores[i] as number;
    if (Number.isNaN(s)) throw new RangeError(`score ${i} is NaN`);
    const t = times[i] as number;
    if (!Number.isFinite(t)) throw new RangeError(`time ${i} is ${t}`);
    const day = Math.floor(t / DAY_MS);
    let perCard = days.get(day);
    if (perCard === undefined) {
      perCard = new Map();
      days.set(day, perCard);
    }
    const card = cards[i] as string;
    const fraud = isPositive(labels[i] as number | boolean);
    const c = perCard.get(card);
    if (c === undefined) perCard.set(card, { risk: s, fraud, first: i });
    else {
      if (s > c.risk) c.risk = s;
      if (fraud) c.fraud = true;
    }
  }
  const perDay: CardPrecision["perDay"] = [];
  for (const day of [...days.keys()].sort((a, b) => a - b)) {
    const ranked = [
      ...(days.get(day) as Map<string, { risk: number; fraud: boolean; first: number }>).values(),
    ].sort((a, b) => b.risk - a.risk || a.first - b.first);
    let hit = 0;
    for (let j = 0; j < Math.min(k, ranked.length); j++) if ((ranked[j] as { fraud: boolean }).fraud) hit++;
    perDay.push({ day: new Date(day * DAY_MS).toISOString(), cards: ranked.length, precision: hit / k });
  }
  const mean = perDay.length === 0 ? null : perDay.reduce((s, d) => s + d.precision, 0) / perDay.length;
  return { k, days: perDay.length, mean, perDay };
}

/**
 * What `model train --kind gbdt` prints and stores with the model: ranking quality, the confusion at
 * the REVIEW and BLOCK score thresholds (the scores at which the model alone reaches the rule set's
 * review and block risk levels), and card precision at top k per day.
 */
export const detectionReportSchema = z
  .object({
    /** Which rows: "test", "validation", "train", or a file. */
    set: z.string(),
    rows: z.number().int().min(0),
    positives: z.number().int().min(0),
    rocAuc: z.number().min(0).max(1).nullable(),
    prAuc: z.number().min(0).max(1).nullable(),
    review: confusionSchema.nullable(),
    block: confusionSchema.nullable(),
    cardPrecision: cardPrecisionSchema.nullable(),
  })
  .strict();
export type DetectionReport = z.infer<typeof detectionReportSchema>;

export interface DetectionInput {
  set: string;
  scores: ArrayLike<number>;
  labels: Labels;
  /** Score thresholds of REVIEW and BLOCK (flag at score >= threshold); null: not reported. */
  thresholds: { review: number | null; block: number | null };
  /** Event times (ms) and card (or user) of each row, for card precision; absent: not reported. */
  cards?: { times: ArrayLike<number>; ids: ArrayLike<string>; k: number } | undefined;
}

export function detectionReport(input: DetectionInput): DetectionReport {
  const { scores, labels } = input;
  const s = sweep(scores, labels);
  const auc = rocAucOf(s);
  const ap = averagePrecisionOf(s);
  const { review, block } = input.thresholds;
  return detectionReportSchema.parse({
    set: input.set,
    rows: scores.length,
    positives: s.positives,
    rocAuc: Number.isNaN(auc) ? null : auc,
    prAuc: Number.isNaN(ap) ? null : ap,
    review: review === null ? null : confusionAt(scores, labels, review),
    block: block === null ? null : confusionAt(scores, labels, block),
    cardPrecision:
      input.cards === undefined || scores.length === 0
        ? null
        : cardPrecisionAtK(scores, labels, input.cards.times, input.cards.ids, input.cards.k),
  });
}
