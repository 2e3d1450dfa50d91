// `fraudstream model …`: train, score and evaluate isolation forests on files, and manage the registry
// that running workers load their model from (register, list, promote, rollback).
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { type Command, InvalidArgumentError } from "commander";
import { loadConfig } from "../config/config.ts";
import { createModelRegistry, createPgStore, ModelRegistryError } from "../io/pg/index.ts";
import {
  type Confusion,
  confusionAt,
  evaluate,
  thresholdForPrecision,
  thresholdForRecall,
} from "../model/evaluate.ts";
import { loadModel, ModelFormatError, saveModel } from "../model/format.ts";
import { IsolationForest } from "../model/iforest.ts";
import { type Dataset, DatasetError, loadDataset } from "../offline/dataset.ts";
import { addGbdtTrainOptions, type GbdtTrainFlags, trainGbdtCommand } from "./model-gbdt.ts";
import { intFlag, numberFlag, requireServices } from "./options.ts";
import { printSummary, progressBar } from "./progress.ts";

class CliError extends Error {
  override name = "CliError";
}

function listFlag(value: string): string[] {
  const names = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0) throw new InvalidArgumentError("expected comma-separated column names");
  return names;
}

function contaminationFlag(value: string): "auto" | number {
  if (value === "auto") return "auto";
  const f = Number(value);
  if (!(f > 0 && f <= 0.5))
    throw new InvalidArgumentError(`expected "auto" or a share in (0, 0.5], got "${value}"`);
  return f;
}

/** Reads the input with a progress bar on a terminal. */
async function dataset(
  path: string,
  label: string | undefined,
  features: string[] | undefined,
): Promise<Dataset> {
  const config = loadConfig();
  const bar = progressBar("reading {bar} {percentage}% | {value}/{total} | ETA {eta}s");
  let started = false;
  try {
    return await loadDataset(path, {
      label,
      features,
      allowedLatenessMs: config.allowedLatenessMs,
      stateTtlMs: config.stateTtlMs,
      onProgress: (position, size) => {
        if (!started) bar?.start(size, 0);
        started = true;
        bar?.update(position);
      },
    });
  } catch (err) {
    if (err instanceof DatasetError) throw new CliError(err.message);
    throw err;
  } finally {
    bar?.stop();
  }
}

async function readModel(path: string) {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new CliError(`cannot read model ${path}: ${(err as Error).message}`);
  }
  try {
    return { text, ...loadModel(text) };
  } catch (err) {
    if (err instanceof ModelFormatError) throw new CliError(`${path}: ${err.message}`);
    throw err;
  }
}

/** The model's columns out of a dataset, in the model's order; a missing column is an error. */
function columnsFor(data: Dataset, featureNames: readonly string[]): Float64Array {
  const index = featureNames.map((name) => {
    const i = data.featureNames.indexOf(name);
    if (i < 0)
      throw new CliError(
        `the model needs feature "${name}", which the input lacks (it has ${data.featureNames.join(", ")})`,
      );
    return i;
  });
  const width = data.featureNames.length;
  const X = new Float64Array(data.rows * index.length);
  for (let r = 0; r < data.rows; r++)
    for (let c = 0; c < index.length; c++)
      X[r * index.length + c] = data.X[r * width + (index[c] as number)] as number;
  return X;
}

function confusionText(c: Confusion): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return [
    `  threshold ${c.threshold.toFixed(4)}: precision ${pct(c.precision)}, recall ${pct(c.recall)}, F1 ${c.f1.toFixed(3)}, alert rate ${pct((c.tp + c.fp) / (c.tp + c.fp + c.tn + c.fn))}`,
    "                 predicted fraud   predicted normal",
    `  actual fraud   ${String(c.tp).padStart(15)}   ${String(c.fn).padStart(16)}`,
    `  actual normal  ${String(c.fp).padStart(15)}   ${String(c.tn).padStart(16)}`,
  ].join("\n");
}

export function registerModel(program: Command): void {
  const model = program
    .command("model")
    .description("Train, score, evaluate and manage isolation forest models");

  const train = model
    .command("train")
    .description(
      "Fit an isolation forest (--kind iforest, on transactions or a feature table) or supervised boosted trees (--kind gbdt, on labelled transactions or PostgreSQL)",
    )
    .option("--input <file>", "CSV, JSON Lines or Parquet")
    .requiredOption("--out <model.json>", "where to write the model")
    .option("--label <column>", "label column (0/1): left out of the features, used for the evaluation")
    .option("--features <a,b,…>", "feature columns in order (default: all)", listFlag)
    .option("--trees <n>", "trees (n_estimators)", intFlag(1, 100_000), 100)
    .option("--sample-size <n>", "rows per tree (max_samples; default min(256, rows))", intFlag(2, 1_000_000))
    .option("--max-features <share>", "share of features per tree", numberFlag(0.01, 1), 1)
    .option(
      "--contamination <auto|share>",
      "expected share of anomalies (sets the threshold)",
      contaminationFlag,
      "auto",
    )
    .option("--seed <n>", "random seed", intFlag(0, 0xffffffff), 0)
    .option("--id <version>", "model version stamped on every decision (default: derived from the content)");
  addGbdtTrainOptions(train).action(
    async (
      flags: GbdtTrainFlags & {
        kind: "iforest" | "gbdt";
        input?: string;
        out: string;
        label?: string;
        features?: string[];
        trees: number;
        sampleSize?: number;
        maxFeatures: number;
        contamination: "auto" | number;
        seed: number;
        id?: string;
      },
    ) => {
      if (flags.kind === "gbdt") return trainGbdtCommand(flags);
      if (flags.input === undefined) throw new CliError("model train --kind iforest needs --input FILE");
      const data = await dataset(flags.input, flags.label, flags.features);
      const started = performance.now();
      process.stderr.write(
        `fitting ${flags.trees} trees on ${data.rows} rows × ${data.featureNames.length} features…\n`,
      );
      const forest = new IsolationForest({
        nEstimators: flags.trees,
        maxSamples: flags.sampleSize ?? "auto",
        maxFeatures: flags.maxFeatures,
        contamination: flags.contamination,
        seed: flags.seed,
      }).fit(data.X, data.rows, data.featureNames.length);
      const fitMs = performance.now() - started;
      let metrics = null;
      if (data.labels !== null) {
        const scores = new Float64Array(data.rows);
        forest.anomalyScores(data.X, data.rows, scores);
        metrics = evaluate(scores, data.labels, { threshold: -forest.offset });
      }
      const draft = {
        modelVersion: flags.id ?? "pending",
        featureNames: data.featureNames,
        featureSetVersion: data.featureSetVersion,
        training: {
          rows: data.rows,
          timeRange: data.timeRange,
          trainedAt: new Date().toISOString(),
          trainer: "fraudstream",
          source: flags.input,
        },
        metrics,
      };
      // Without --id the version is a digest of the trees and settings: the same fit gets the same id.
      const version =
        flags.id ??
        `iforest-${new Date().toISOString().slice(0, 10).replaceAll("-", "")}-${createHash("sha256")
          .update(
            saveModel(forest, {
              ...draft,
              training: { ...draft.training, trainedAt: "1970-01-01T00:00:00Z" },
            }),
          )
          .digest("hex")
          .slice(0, 10)}`;
      await writeFile(flags.out, saveModel(forest, { ...draft, modelVersion: version }));
      printSummary({
        model: version,
        out: flags.out,
        kind: data.kind,
        rows: data.rows,
        skipped: data.skipped.length,
        features: data.featureNames.length,
        fitMs: Math.round(fitMs),
        rocAuc: metrics?.rocAuc ?? null,
        averagePrecision: metrics?.averagePrecision ?? null,
      });
    },
  );

  model
    .command("score")
    .description("Score every row of a file: one column `score` (higher = more anomalous), in input order")
    .requiredOption("--model <model.json>", "model file")
    .requiredOption("--input <file>", "CSV, JSON Lines or Parquet")
    .requiredOption("--out <scores.csv>", "where to write the scores")
    .action(async (flags: { model: string; input: string; out: string }) => {
      const m = await readModel(flags.model);
      const data = await dataset(flags.input, undefined, undefined);
      if (data.skipped.length > 0) {
        const first = data.skipped[0] as Dataset["skipped"][number];
        throw new CliError(
          `${data.skipped.length} input rows cannot be scored (first: line ${first.line}: ${first.detail}); one score per input row is promised, so nothing was written`,
        );
      }
      const X = columnsFor(data, m.meta.featureNames);
      const scores = new Float64Array(data.rows);
      m.model.anomalyScores(X, data.rows, scores);
      const lines = ["score"];
      for (const s of scores) lines.push(String(s));
      await writeFile(flags.out, `${lines.join("\n")}\n`);
      printSummary({ model: m.meta.modelVersion, rows: data.rows, out: flags.out });
    });

  model
    .command("evaluate")
    .description(
      "ROC-AUC, PR-AUC, precision/recall/F1 and confusion at the threshold, thresholds for targets",
    )
    .requiredOption("--model <model.json>", "model file")
    .requiredOption("--input <file>", "labelled CSV, JSON Lines or Parquet")
    .option("--label <column>", "label column (default is_fraud for transactions)")
    .option(
      "--target-precision <p>",
      "report the lowest threshold reaching this precision",
      numberFlag(0, 1),
      0.9,
    )
    .option("--target-recall <r>", "report the highest threshold reaching this recall", numberFlag(0, 1), 0.8)
    .option(
      "--target-alert-rate <r>",
      "report the threshold that flags this share of rows",
      numberFlag(0, 1),
      0.01,
    )
    .option("--json", "print JSON instead of text")
    .action(
      async (flags: {
        model: string;
        input: string;
        label?: string;
        targetPrecision: number;
        targetRecall: number;
        targetAlertRate: number;
        json?: boolean;
      }) => {
        const m = await readModel(flags.model);
        const data = await dataset(flags.input, flags.label, undefined);
        if (data.labels === null)
          throw new CliError(`${flags.input} has no labels; name the label column with --label`);
        const X = columnsFor(data, m.meta.featureNames);
        const scores = new Float64Array(data.rows);
        m.model.anomalyScores(X, data.rows, scores);
        const threshold = m.meta.scoreThreshold ?? -m.model.offset;
        const summary = evaluate(scores, data.labels, { threshold });
        const sorted = Float64Array.from(scores).sort().reverse();
        const k = Math.max(1, Math.round(flags.targetAlertRate * data.rows));
        const alertRateThreshold = sorted[Math.min(k, sorted.length) - 1] as number;
        const report = {
          model: m.meta.modelVersion,
          rows: data.rows,
          skipped: data.skipped.length,
          positives: summary.positives,
          rocAuc: summary.rocAuc,
          prAuc: summary.averagePrecision,
          threshold,
          atThreshold: summary.atThreshold ?? null,
          forPrecision: {
            target: flags.targetPrecision,
            ...(thresholdForPrecision(scores, data.labels, flags.targetPrecision) ?? {}),
          },
          forRecall: {
            target: flags.targetRecall,
            ...(thresholdForRecall(scores, data.labels, flags.targetRecall) ?? {}),
          },
          forAlertRate: {
            target: flags.targetAlertRate,
            ...confusionAt(scores, data.labels, alertRateThreshold),
          },
        };
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          return;
        }
        const f = (x: number | null) => (x === null ? "n/a" : x.toFixed(4));
        const out = [
          `model ${report.model}: ${report.rows} rows, ${report.positives} positive (${report.skipped} skipped)`,
          `ROC-AUC ${f(report.rocAuc)}   PR-AUC ${f(report.prAuc)}`,
          "at the model's threshold:",
          report.atThreshold === null ? "  n/a" : confusionText(report.atThreshold),
          `for precision ≥ ${flags.targetPrecision}:`,
          "threshold" in report.forPrecision
            ? confusionText(report.forPrecision as Confusion)
            : "  not reachable",
          `for recall ≥ ${flags.targetRecall}:`,
          "threshold" in report.forRecall ? confusionText(report.forRecall as Confusion) : "  not reachable",
          `for an alert rate of ${flags.targetAlertRate}:`,
          confusionText(report.forAlertRate),
        ];
        process.stdout.write(`${out.join("\n")}\n`);
      },
    );

  const registry = async <T>(fn: (r: ReturnType<typeof createModelRegistry>) => Promise<T>): Promise<T> => {
    const config = loadConfig();
    const { databaseUrl } = requireServices(config, "model", { kafka: false });
    const store = await createPgStore({ url: databaseUrl });
    try {
      await store.migrate();
      return await fn(createModelRegistry(store.db));
    } catch (err) {
      if (err instanceof ModelRegistryError) throw new CliError(err.message);
      throw err;
    } finally {
      await store.close();
    }
  };
  const who = () => process.env.FRAUDSTREAM_USER ?? process.env.USER ?? "cli";

  model
    .command("register")
    .description("Store a model file in the registry as a candidate (DATABASE_URL)")
    .argument("<model.json>", "model file")
    .action(async (path: string) => {
      const m = await readModel(path);
      const s = await registry((r) =>
        r.register({
          id: m.meta.modelVersion,
          kind: "isolation_forest",
          featureSetVersion: m.meta.featureSetVersion ?? "custom",
          featureNames: m.meta.featureNames,
          body: m.text,
          metrics: m.meta.metrics,
          params: m.model.params,
          registeredBy: who(),
        }),
      );
      printSummary({ registered: s.id, status: s.status, sha256: s.sha256 });
    });

  model
    .command("list")
    .description("Registered models, newest first")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }) => {
      const list = await registry((r) => r.list());
      if (flags.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      for (const m of list)
        process.stdout.write(
          `${m.status.padEnd(9)} ${m.id}  ${m.registeredAt.toISOString()}  by ${m.registeredBy}  roc_auc=${String((m.metrics as { rocAuc?: number } | null)?.rocAuc ?? "n/a")}\n`,
        );
    });

  model
    .command("promote")
    .description(
      "Make a registered model the active one; running workers switch within FRAUDSTREAM_RELOAD_MS",
    )
    .argument("<id>", "model id (version)")
    .option("--note <text>", "why")
    .action(async (id: string, flags: { note?: string }) => {
      const r = await registry((reg) => reg.promote(id, who(), flags.note));
      printSummary({ active: id, previous: r.previous });
    });

  model
    .command("rollback")
    .description("Re-activate the model that was active before the current one")
    .option("--note <text>", "why")
    .action(async (flags: { note?: string }) => {
      const r = await registry((reg) => reg.rollback(who(), flags.note));
      printSummary(r);
    });
}

export { CliError as ModelCliError };
