// Supervised training of boosted trees on labelled rows, whichever source they came from (a labelled
// file through the worker's features, or PostgreSQL's stored features joined with analysts' labels):
// time split honouring label delay (src/model/split.ts), fit with early stopping on the validation
// period (time-ordered: the trainer holds out the last rows it is given, which are the validation
// period's), the detection report on the validation and test periods, and the model file.
// Deterministic for the same rows, options and seed; `trainedAt` is the caller's.
import type { ScoreThresholds } from "../decide/score-thresholds.ts";
import { detectionReport, evaluate } from "../model/evaluate.ts";
import { ensembleFingerprint, type GbdtTrainingReport, saveGbdtModel } from "../model/gbdt-format.ts";
import { GbdtScorer } from "../model/gbdt-scorer.ts";
import { type FitReport, fitGbdt, type GbdtHyperparametersInput } from "../model/gbdt-train.ts";
import { timeSplit } from "../model/split.ts";

/** Rows with features, labels and the times the split needs (row order is free). */
export interface LabelledRows {
  featureNames: string[];
  featureSetVersion: string | null;
  /** rows × featureNames.length, row-major; NaN = missing. */
  X: Float64Array;
  rows: number;
  labels: Uint8Array;
  /** Event time per row (ms). */
  times: Float64Array;
  /** When each row's label became known (ms); NaN: event time + the label delay. */
  knownAt: Float64Array;
  /** Card of each row (the user when the event names no card): card precision's unit. */
  cards: string[];
  /** What the rows came from (recorded in the model file). */
  source: string;
}

export interface TrainGbdtOptions {
  labelDelayMs: number;
  /** The moment of training (ms): labels known later do not exist yet. Default: the latest event. */
  asOf?: number | undefined;
  testFraction: number;
  validationFraction: number;
  hyperparameters: GbdtHyperparametersInput;
  /** The REVIEW/BLOCK score thresholds the report gives precision and recall at. */
  thresholds: ScoreThresholds;
  /** Cards per day for card precision. */
  topK: number;
  modelVersion?: string | undefined;
  /** ISO 8601, recorded as the model's training time. */
  trainedAt: string;
  onIteration?: ((iteration: number, maxIter: number) => void) | undefined;
}

export interface TrainGbdtResult {
  modelVersion: string;
  text: string;
  report: GbdtTrainingReport;
  fit: FitReport;
}

export class TrainingError extends Error {
  override name = "TrainingError";
}

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

function pick(data: LabelledRows, rows: Int32Array): { X: Float64Array; labels: Uint8Array } {
  const w = data.featureNames.length;
  const X = new Float64Array(rows.length * w);
  const labels = new Uint8Array(rows.length);
  rows.forEach((r, i) => {
    X.set(data.X.subarray(r * w, r * w + w), i * w);
    labels[i] = data.labels[r] as number;
  });
  return { X, labels };
}

function durationText(ms: number): string {
  return ms % DAY === 0 ? `${ms / DAY}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 1000}s`;
}

export function trainGbdt(data: LabelledRows, opts: TrainGbdtOptions): TrainGbdtResult {
  if (data.rows === 0) throw new TrainingError(`${data.source}: no rows to train on`);
  const split = timeSplit({
    times: data.times,
    labelKnownAt: data.knownAt,
    labelDelayMs: opts.labelDelayMs,
    asOf: opts.asOf,
    testFraction: opts.testFraction,
    validationFraction: opts.validationFraction,
  });
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const t of data.times) {
    first = Math.min(first, t);
    last = Math.max(last, t);
  }
  const delay = durationText(opts.labelDelayMs);
  if (split.train.length === 0)
    throw new TrainingError(
      `nothing is trainable with --label-delay ${delay}: the data spans ${iso(first)} to ${iso(last)} (${((last - first) / DAY).toFixed(1)} days) and, as of ${iso(split.asOf)}, ${split.unlabelled} of ${data.rows} rows have no label known yet (a label counts from event time + ${delay} unless the row says when it became known); ${split.gap} more became known only after the validation cut. Use a shorter --label-delay, a later --as-of, or more history`,
    );
  const train = pick(data, split.train);
  let positives = 0;
  for (const y of train.labels) positives += y;
  if (positives === 0 || positives === train.labels.length)
    throw new TrainingError(
      `the ${train.labels.length} training rows (event time before ${iso(split.validationFrom)}, labels known by then) are all of class ${positives === 0 ? 0 : 1}; both fraud and legitimate rows are needed`,
    );
  const validation = pick(data, split.validation);
  const w = data.featureNames.length;
  // Train then validation rows, in time order: the trainer's validation set is the last rows given.
  const nFit = split.train.length + split.validation.length;
  const X = new Float64Array(nFit * w);
  X.set(train.X);
  X.set(validation.X, train.X.length);
  const labels = new Uint8Array(nFit);
  labels.set(train.labels);
  labels.set(validation.labels, train.labels.length);
  const early = split.validation.length > 0;
  const fit = fitGbdt(
    { X, rows: nFit, cols: w, labels, featureNames: data.featureNames },
    {
      ...opts.hyperparameters,
      earlyStopping: early,
      // ⌈(v − ½)/n · n⌉ = v: exactly the validation period's rows.
      ...(early ? { validationFraction: (split.validation.length - 0.5) / nFit } : {}),
    },
    { onIteration: opts.onIteration },
  );
  const scorer = new GbdtScorer(fit.ensemble, { modelVersion: "pending", scoreThreshold: null });
  const reportOn = (set: string, rows: Int32Array, part: { X: Float64Array; labels: Uint8Array }) => {
    if (rows.length === 0) return null;
    const scores = new Float64Array(rows.length);
    scorer.scoreBatch(part.X, rows.length, scores);
    return {
      scores,
      report: detectionReport({
        set,
        scores,
        labels: part.labels,
        thresholds: opts.thresholds,
        cards: {
          times: Float64Array.from(rows, (r) => data.times[r] as number),
          ids: Array.from(rows, (r) => data.cards[r] as string),
          k: opts.topK,
        },
      }),
    };
  };
  const v = reportOn("validation", split.validation, validation);
  const testPart = pick(data, split.test);
  const t = reportOn("test", split.test, testPart);
  const report: GbdtTrainingReport = {
    labelDelayMs: opts.labelDelayMs,
    asOf: iso(split.asOf),
    validationFrom: Number.isFinite(split.validationFrom) ? iso(split.validationFrom) : null,
    testFrom: Number.isFinite(split.testFrom) ? iso(split.testFrom) : null,
    rows: {
      train: split.train.length,
      validation: split.validation.length,
      test: split.test.length,
      unlabelled: split.unlabelled,
      gap: split.gap,
    },
    validation: v?.report ?? null,
    test: t?.report ?? null,
  };
  let trainFrom = Number.POSITIVE_INFINITY;
  let trainTo = Number.NEGATIVE_INFINITY;
  for (const r of split.train) {
    trainFrom = Math.min(trainFrom, data.times[r] as number);
    trainTo = Math.max(trainTo, data.times[r] as number);
  }
  const modelVersion =
    opts.modelVersion ??
    `gbdt-${opts.trainedAt.slice(0, 10).replaceAll("-", "")}-${ensembleFingerprint(fit.ensemble).slice(0, 10)}`;
  const text = saveGbdtModel(fit.ensemble, {
    modelVersion,
    featureSetVersion: data.featureSetVersion,
    hyperparameters: fit.report.hyperparameters,
    training: {
      rows: split.train.length,
      timeRange: { from: iso(trainFrom), to: iso(trainTo) },
      trainedAt: opts.trainedAt,
      trainer: "fraudstream",
      source: data.source,
    },
    scoreThreshold: opts.thresholds.review,
    metrics:
      t === null
        ? null
        : evaluate(t.scores, testPart.labels, {
            ...(opts.thresholds.review === null ? {} : { threshold: opts.thresholds.review }),
          }),
    report,
  });
  return { modelVersion, text, report, fit: fit.report };
}
