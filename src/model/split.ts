// Time-based train / validation / test split that honours label delay. Fraud labels arrive late
// (chargebacks, analysts' reviews): a row whose label was not yet known at some moment could not have
// been trained on at that moment, and treating it as "legitimate" because no fraud label had arrived
// teaches the model the wrong answer. So, with t(r) the event time and k(r) the time its label became
// known (the label's own known-at, else t(r) + labelDelayMs):
//
//   eligible   k(r) ≤ asOf                       (a label not known yet is no label at all)
//   cuts       on the event times of the eligible rows, in time order: the last `testFraction` of
//              them are the test period, the `validationFraction` before it the validation period
//   train      t(r) < validationFrom and k(r) ≤ validationFrom
//   validation validationFrom ≤ t(r) < testFrom and k(r) ≤ testFrom
//   test       t(r) ≥ testFrom (every eligible row: evaluated in hindsight, as of asOf)
//
// Eligible rows in neither set (their label became known only after their period's cut) are counted in
// `gap`: the train set is what a model trained at validationFrom could have seen, the validation set
// what a model selected at testFrom could have seen. Pure and deterministic: ties in time keep row order.

export interface TimeSplitInput {
  /** Event time of each row, ms since the epoch. */
  readonly times: ArrayLike<number>;
  /** When each row's label became known (ms); NaN or absent: times[r] + labelDelayMs. */
  readonly labelKnownAt?: ArrayLike<number> | undefined;
  /** Delay until a label is known when the row does not say (ms, ≥ 0). */
  readonly labelDelayMs: number;
  /** The moment the split is made (ms); default the latest event time. */
  readonly asOf?: number | undefined;
  /** Share of eligible rows (the latest) in the test period, in [0, 1). */
  readonly testFraction: number;
  /** Share of eligible rows (just before the test period) in the validation period, in [0, 1). */
  readonly validationFraction: number;
}

export interface TimeSplit {
  /** Row indices of each set, in time order. */
  readonly train: Int32Array;
  readonly validation: Int32Array;
  readonly test: Int32Array;
  /** First event time of the validation and of the test period (ms); +∞ for an empty period. */
  readonly validationFrom: number;
  readonly testFrom: number;
  readonly asOf: number;
  /** Rows left out because their label was not known by asOf. */
  readonly unlabelled: number;
  /** Eligible rows left out because their label became known after their period's cut. */
  readonly gap: number;
}

export class SplitError extends Error {
  override name = "SplitError";
}

export function timeSplit(input: TimeSplitInput): TimeSplit {
  const { times, labelKnownAt, labelDelayMs, testFraction, validationFraction } = input;
  const n = times.length;
  const problems: string[] = [];
  if (labelKnownAt !== undefined && labelKnownAt.length !== n)
    problems.push(`labelKnownAt has ${labelKnownAt.length} entries for ${n} rows`);
  if (!(labelDelayMs >= 0 && Number.isFinite(labelDelayMs)))
    problems.push(`labelDelayMs must be a finite number ≥ 0, got ${labelDelayMs}`);
  if (!(testFraction >= 0 && testFraction < 1))
    problems.push(`testFraction must be in [0, 1), got ${testFraction}`);
  if (!(validationFraction >= 0 && validationFraction < 1))
    problems.push(`validationFraction must be in [0, 1), got ${validationFraction}`);
  if (testFraction + validationFraction >= 1)
    problems.push(`testFraction + validationFraction must be < 1, got ${testFraction + validationFraction}`);
  for (let r = 0; r < n; r++)
    if (!Number.isFinite(times[r] as number)) {
      problems.push(`time of row ${r} is ${times[r]}`);
      break;
    }
  if (problems.length > 0) throw new SplitError(problems.join("; "));

  let latest = Number.NEGATIVE_INFINITY;
  for (let r = 0; r < n; r++) latest = Math.max(latest, times[r] as number);
  const asOf = input.asOf ?? latest;
  const known = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const k = labelKnownAt?.[r];
    known[r] = k === undefined || Number.isNaN(k) ? (times[r] as number) + labelDelayMs : k;
  }
  const eligible: number[] = [];
  for (let r = 0; r < n; r++) if ((known[r] as number) <= asOf) eligible.push(r);
  eligible.sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
  const m = eligible.length;
  const nTest = Math.ceil(testFraction * m);
  const nValidation = Math.ceil(validationFraction * m);
  const at = (i: number) => (i < m ? (times[eligible[i] as number] as number) : Number.POSITIVE_INFINITY);
  const testFrom = nTest === 0 ? Number.POSITIVE_INFINITY : at(m - nTest);
  const validationFrom = nValidation === 0 ? testFrom : at(Math.max(0, m - nTest - nValidation));
  const train: number[] = [];
  const validation: number[] = [];
  const test: number[] = [];
  let gap = 0;
  for (const r of eligible) {
    const t = times[r] as number;
    const k = known[r] as number;
    if (t >= testFrom) test.push(r);
    else if (t >= validationFrom) {
      if (k <= testFrom) validation.push(r);
      else gap++;
    } else if (k <= validationFrom) train.push(r);
    else gap++;
  }
  return {
    train: Int32Array.from(train),
    validation: Int32Array.from(validation),
    test: Int32Array.from(test),
    validationFrom,
    testFrom,
    asOf,
    unlabelled: n - m,
    gap,
  };
}

/** `7d`, `36h`, `90m`, `30s`, `500ms` (or a bare number of ms) → milliseconds; NaN when malformed. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(text);
  if (m === null) return Number.NaN;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[
    (m[2] ?? "ms") as "ms"
  ];
  return Number(m[1]) * unit;
}
