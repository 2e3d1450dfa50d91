// `fraudstream model train --kind gbdt`: supervised boosted trees from a labelled file (features through
// the worker's engine) or from PostgreSQL (stored features + analysts' labels + imported history), with
// the label-delay-aware time split, early stopping on the validation period, and the detection report
// (src/offline/train-gbdt.ts) printed and stored in the model file.
import { writeFile } from "node:fs/promises";
import { type Command, InvalidArgumentError, Option } from "commander";
import { loadConfig } from "../config/config.ts";
import { defaultRuleSet } from "../decide/defaults.ts";
import { scoreThresholds } from "../decide/score-thresholds.ts";
import { FEATURE_NAMES, FEATURE_SET_VERSION } from "../features/registry.ts";
import { createPgStore, loadStoredLabelledRows } from "../io/pg/index.ts";
import type { Confusion, DetectionReport } from "../model/evaluate.ts";
import type { GbdtHyperparametersInput } from "../model/gbdt-train.ts";
import { parseDuration } from "../model/split.ts";
import { DatasetError } from "../offline/dataset.ts";
import { labelledFromFile } from "../offline/labelled.ts";
import { type LabelledRows, type TrainGbdtResult, TrainingError, trainGbdt } from "../offline/train-gbdt.ts";
import { intFlag, numberFlag, requireServices } from "./options.ts";
import { printSummary, progressBar } from "./progress.ts";

export class GbdtCliError extends Error {
  override name = "GbdtCliError";
}

export function durationFlag(value: string): number {
  const ms = parseDuration(value);
  if (!Number.isFinite(ms))
    throw new InvalidArgumentError(`expected a duration such as 7d, 12h, 30m, got "${value}"`);
  return ms;
}

function timeFlag(value: string): number {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`expected an ISO 8601 time, got "${value}"`);
  return t;
}

function classWeightFlag(value: string): GbdtHyperparametersInput["classWeight"] {
  if (value === "none") return null;
  if (value === "balanced") return "balanced";
  const w = Number(value);
  if (!(w > 0 && Number.isFinite(w)))
    throw new InvalidArgumentError(
      `expected none, balanced or the weight of a fraud row (> 0), got "${value}"`,
    );
  return { 0: 1, 1: w };
}

/** The gbdt-only options of `model train` (ignored by --kind iforest). */
export function addGbdtTrainOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--kind <kind>", "model kind").choices(["iforest", "gbdt"]).default("iforest"))
    .option(
      "--from-db",
      "gbdt: train on PostgreSQL's scored transactions and labels (DATABASE_URL), not --input",
    )
    .option("--since <time>", "gbdt --from-db: only transactions from this event time", timeFlag)
    .option(
      "--label-delay <duration>",
      "gbdt: time until a label is known (e.g. 7d, 36h)",
      durationFlag,
      7 * 86_400_000,
    )
    .option(
      "--as-of <time>",
      "gbdt: train as of this time (default: the latest event; --from-db: now)",
      timeFlag,
    )
    .option(
      "--test-fraction <share>",
      "gbdt: share of labelled rows, the latest, for the test report",
      numberFlag(0, 0.9),
      0.2,
    )
    .option(
      "--validation-fraction <share>",
      "gbdt: share of labelled rows before the test period for early stopping",
      numberFlag(0, 0.9),
      0.15,
    )
    .option("--max-iter <n>", "gbdt: boosting iterations at most", intFlag(1, 100_000), 200)
    .option("--learning-rate <r>", "gbdt: shrinkage", numberFlag(1e-6, 1), 0.1)
    .option("--max-leaf-nodes <n>", "gbdt: leaves per tree", intFlag(2, 1_000_000), 31)
    .option("--max-depth <n>", "gbdt: depth per tree (default: unbounded)", intFlag(1, 1000))
    .option("--min-samples-leaf <n>", "gbdt: rows per leaf at least", intFlag(1), 20)
    .option("--l2 <lambda>", "gbdt: L2 regularization of leaf values", numberFlag(0, 1e9), 0)
    .option("--class-weight <w>", "gbdt: none, balanced, or the weight of a fraud row", classWeightFlag, null)
    .option("--top-k <n>", "gbdt: cards per day for card precision@k", intFlag(1), 100)
    .option("--report <file.json>", "gbdt: also write the report as JSON");
}

export interface GbdtTrainFlags {
  input?: string;
  out: string;
  label?: string;
  features?: string[];
  seed: number;
  id?: string;
  fromDb?: boolean;
  since?: number;
  labelDelay: number;
  asOf?: number;
  testFraction: number;
  validationFraction: number;
  maxIter: number;
  learningRate: number;
  maxLeafNodes: number;
  maxDepth?: number;
  minSamplesLeaf: number;
  l2: number;
  classWeight: GbdtHyperparametersInput["classWeight"];
  topK: number;
  report?: string;
}

async function rowsFromDb(flags: GbdtTrainFlags): Promise<LabelledRows & { now: number }> {
  const config = loadConfig();
  const { databaseUrl } = requireServices(config, "model train --kind gbdt --from-db", { kafka: false });
  const store = await createPgStore({ url: databaseUrl });
  try {
    await store.migrate();
    const rows = await loadStoredLabelledRows(store.db, {
      featureNames: flags.features ?? FEATURE_NAMES,
      featureSetVersion: flags.features === undefined ? FEATURE_SET_VERSION : null,
      since: flags.since === undefined ? undefined : new Date(flags.since),
    });
    process.stderr.write(
      `${rows.rows} scored transactions: ${rows.labelSources.feedback} labelled by analysts, ${rows.labelSources.imported} by imported history, ${rows.labelSources.assumedLegitimate} taken as legitimate after the label delay\n`,
    );
    return rows;
  } finally {
    await store.close();
  }
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const num = (x: number | null) => (x === null ? "n/a" : x.toFixed(4));
const at = (name: string, c: Confusion | null) =>
  c === null
    ? `  ${name}: no threshold (the model alone never reaches it)`
    : `  ${name} at score ≥ ${c.threshold.toFixed(3)}: precision ${pct(c.precision)}, recall ${pct(c.recall)}, ${c.tp + c.fp} alerts (${c.tp} fraud)`;

function reportText(r: TrainGbdtResult): string {
  const { report, fit } = r;
  const lines = [
    `model ${r.modelVersion}: ${fit.iterationsRun} trees fitted${fit.earlyStopped ? " (early stopped)" : ""}, ${fit.bestIteration ?? fit.iterationsRun} kept`,
    `split as of ${report.asOf} with label delay ${report.labelDelayMs / 3_600_000} h: train ${report.rows.train}, validation ${report.rows.validation} (from ${report.validationFrom ?? "-"}), test ${report.rows.test} (from ${report.testFrom ?? "-"}); ${report.rows.unlabelled} without a known label, ${report.rows.gap} in the gaps`,
  ];
  for (const d of [report.validation, report.test] as (DetectionReport | null)[]) {
    if (d === null) continue;
    lines.push(
      `${d.set}: ${d.rows} rows, ${d.positives} fraud; ROC-AUC ${num(d.rocAuc)}  PR-AUC ${num(d.prAuc)}  card precision@${d.cardPrecision?.k ?? "-"} ${num(d.cardPrecision?.mean ?? null)} (${d.cardPrecision?.days ?? 0} days)`,
      at("REVIEW", d.review),
      at("BLOCK", d.block),
    );
  }
  return lines.join("\n");
}

export async function trainGbdtCommand(flags: GbdtTrainFlags): Promise<void> {
  if ((flags.input === undefined) === (flags.fromDb !== true))
    throw new GbdtCliError("model train --kind gbdt: give exactly one of --input FILE and --from-db");
  let data: LabelledRows;
  let asOf = flags.asOf;
  try {
    if (flags.fromDb === true) {
      const rows = await rowsFromDb(flags);
      asOf ??= rows.now;
      data = rows;
    } else {
      const config = loadConfig();
      data = await labelledFromFile(flags.input as string, {
        label: flags.label,
        features: flags.features,
        allowedLatenessMs: config.allowedLatenessMs,
        stateTtlMs: config.stateTtlMs,
      });
    }
  } catch (err) {
    if (err instanceof DatasetError) throw new GbdtCliError(err.message);
    throw err;
  }
  const bar = progressBar("training {bar} {value}/{total} trees");
  bar?.start(flags.maxIter, 0);
  let result: TrainGbdtResult;
  try {
    result = trainGbdt(data, {
      labelDelayMs: flags.labelDelay,
      asOf,
      testFraction: flags.testFraction,
      validationFraction: flags.validationFraction,
      hyperparameters: {
        maxIter: flags.maxIter,
        learningRate: flags.learningRate,
        maxLeafNodes: flags.maxLeafNodes,
        maxDepth: flags.maxDepth ?? null,
        minSamplesLeaf: flags.minSamplesLeaf,
        l2Regularization: flags.l2,
        classWeight: flags.classWeight,
        seed: flags.seed,
      },
      thresholds: scoreThresholds(defaultRuleSet()),
      topK: flags.topK,
      modelVersion: flags.id,
      trainedAt: new Date().toISOString(),
      onIteration: (i) => bar?.update(i),
    });
  } catch (err) {
    if (err instanceof TrainingError) throw new GbdtCliError(err.message);
    throw err;
  } finally {
    bar?.stop();
  }
  if (result.report.rows.validation === 0)
    process.stderr.write(
      `no validation rows (each period's labels must be known by its cut: try a shorter --label-delay or a larger --validation-fraction): early stopping was off, all ${result.fit.iterationsRun} trees kept\n`,
    );
  await writeFile(flags.out, result.text);
  if (flags.report !== undefined)
    await writeFile(
      flags.report,
      `${JSON.stringify({ model: result.modelVersion, ...result.report }, null, 2)}\n`,
    );
  process.stdout.write(`${reportText(result)}\n`);
  const test = result.report.test;
  printSummary({
    model: result.modelVersion,
    out: flags.out,
    kind: "gbdt",
    rows: data.rows,
    train: result.report.rows.train,
    validation: result.report.rows.validation,
    test: result.report.rows.test,
    trees: result.fit.bestIteration ?? result.fit.iterationsRun,
    rocAuc: test?.rocAuc ?? null,
    prAuc: test?.prAuc ?? null,
    cardPrecisionAtK: test?.cardPrecision?.mean ?? null,
  });
}
