// `fraudstream backtest`: a candidate rule set and/or model over historical events, side by side with the
// classic weighted rules alone and the model alone (src/offline/backtest.ts).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { loadConfig } from "../config/config.ts";
import type { Transaction } from "../contract/transaction.ts";
import { compileRuleSet } from "../decide/compile.ts";
import { classicRuleSet, defaultRuleSet, modelOnlyRuleSet } from "../decide/defaults.ts";
import { loadRuleSet, type RuleSet, RuleSetError } from "../decide/rules.ts";
import { openEvents } from "../io/files/events.ts";
import { createModelRegistry, createPgStore } from "../io/pg/index.ts";
import { ModelFormatError } from "../model/format.ts";
import type { ServedScorer } from "../model/model-file.ts";
import { servingScorer } from "../model/serving.ts";
import { Backtest, type BacktestReport } from "../offline/backtest.ts";
import { ModelCliError } from "./model.ts";
import { requireServices } from "./options.ts";
import { printAbove, progressBar } from "./progress.ts";

async function loadScorer(model: string | undefined): Promise<ServedScorer> {
  try {
    if (model !== undefined && (model.endsWith(".json") || existsSync(model)))
      return servingScorer(await readFile(model, "utf8"));
    const config = loadConfig();
    const { databaseUrl } = requireServices(config, "backtest without a model file", { kafka: false });
    const store = await createPgStore({ url: databaseUrl });
    try {
      await store.migrate();
      const registry = createModelRegistry(store.db);
      const body = model === undefined ? (await registry.active())?.body : (await registry.get(model))?.body;
      if (body === undefined)
        throw new ModelCliError(
          model === undefined
            ? "no model is active; pass --model FILE or ID"
            : `no model ${model} in the registry`,
        );
      return servingScorer(body);
    } finally {
      await store.close();
    }
  } catch (err) {
    if (err instanceof ModelFormatError)
      throw new ModelCliError(`model ${model ?? "(active)"}: ${err.message}`);
    throw err;
  }
}

function table(report: BacktestReport): string {
  const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);
  const num = (x: number | null) => (x === null ? "n/a" : x.toFixed(4));
  const lines = [
    `${report.labelled} labelled events (${report.fraud} fraud), ${report.skipped} skipped; model ${report.modelVersion}`,
    "",
    `${"configuration".padEnd(28)} ${"alerts".padStart(8)} ${"rate".padStart(7)} ${"precision".padStart(10)} ${"recall".padStart(8)} ${"PR-AUC".padStart(8)} ${"ROC-AUC".padStart(8)}`,
  ];
  for (const c of report.configs)
    lines.push(
      `${c.name.padEnd(28)} ${String(c.alerts).padStart(8)} ${pct(c.alertRate).padStart(7)} ${pct(c.precision).padStart(10)} ${pct(c.recall).padStart(8)} ${num(c.prAuc).padStart(8)} ${num(c.rocAuc).padStart(8)}`,
    );
  for (const c of report.configs) {
    if (c.rules.length === 0) continue;
    lines.push("", `rules of ${c.name} (${c.ruleSetVersion}):`);
    for (const r of c.rules)
      lines.push(
        `  ${r.id.padEnd(32)} hits ${String(r.hits).padStart(7)}   fraud among them ${pct(r.precision)}`,
      );
    const top = c.overlaps.slice(0, 5);
    if (top.length > 0)
      lines.push(`  most frequent overlaps: ${top.map((o) => `${o.a} & ${o.b} (${o.events})`).join(", ")}`);
  }
  return lines.join("\n");
}

export function registerBacktest(program: Command): void {
  program
    .command("backtest")
    .description(
      "Run rules and a model over labelled history; compare with the classic rules and the model alone",
    )
    .requiredOption("--input <file>", "transactions with is_fraud labels: CSV, JSON Lines or Parquet")
    .option("--rules <file>", "candidate rule set (JSON; default: the shipped default rule set)")
    .option("--model <file|id>", "model file, or a registry id (DATABASE_URL); default: the active model")
    .option("--json", "print JSON")
    .action(async (flags: { input: string; rules?: string; model?: string; json?: boolean }) => {
      const config = loadConfig();
      let candidate: RuleSet;
      try {
        candidate =
          flags.rules === undefined ? defaultRuleSet() : loadRuleSet(await readFile(flags.rules, "utf8"));
      } catch (err) {
        if (err instanceof RuleSetError) throw new ModelCliError(`${flags.rules}: ${err.message}`);
        throw err;
      }
      const scorer = await loadScorer(flags.model);
      const backtest = new Backtest({
        scorer,
        allowedLatenessMs: config.allowedLatenessMs,
        stateTtlMs: config.stateTtlMs,
        configs: [
          { name: "classic rules only", rules: compileRuleSet(classicRuleSet(candidate)) },
          { name: "model only", rules: compileRuleSet(modelOnlyRuleSet(candidate)), rankByScore: true },
          { name: `combination (${candidate.version})`, rules: compileRuleSet(candidate) },
        ],
      });
      const reader = await openEvents(flags.input);
      const bar = progressBar("backtest {bar} {percentage}% | ETA {eta}s");
      bar?.start(reader.rows.size, 0);
      let shown = 0;
      for await (const batch of reader.batches()) {
        const events: Transaction[] = [];
        let bad = 0;
        for (const row of batch) {
          if (row.ok) events.push(row.event);
          else {
            bad++;
            if (shown++ < 20) printAbove(bar, `${reader.rows.unit} ${row.line}: ${row.detail}`);
          }
        }
        backtest.add(events, bad);
        bar?.update(reader.rows.position());
      }
      bar?.stop();
      const report = backtest.report(scorer.version);
      process.stdout.write(`${flags.json ? JSON.stringify(report, null, 2) : table(report)}\n`);
    });
}
