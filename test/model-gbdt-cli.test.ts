// `fraudstream model train --kind gbdt` through the command line on a simulated labelled file: the
// label-delay error when nothing is trainable, then a fit with a short delay whose model file carries
// the time split and the detection report, deterministic for a seed.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadGbdtModel } from "../src/model/gbdt-format.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "fraudstream-gbdt-"));
const file = (name: string) => join(dir, name);

function run(args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, "src/cli/main.ts"), ...args], {
    cwd: dir,
    env: { ...process.env, FRAUDSTREAM_LOG_LEVEL: "warn" },
    encoding: "utf8",
    timeout: 240_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(() => {
  const r = run([
    "simulate",
    "--count",
    "20000",
    "--users",
    "1000",
    "--seed",
    "3",
    "--out",
    file("sim.jsonl"),
  ]);
  assert.equal(r.status, 0, r.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("fraudstream model train --kind gbdt", () => {
  it("says clearly that nothing is trainable with the default 7-day label delay on 6.4 days of data", () => {
    const r = run([
      "model",
      "train",
      "--kind",
      "gbdt",
      "--input",
      file("sim.jsonl"),
      "--out",
      file("x.json"),
    ]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /nothing is trainable with --label-delay 7d/);
    assert.match(r.stderr, /shorter --label-delay/);
  });

  it("trains with a short delay, early-stops on the validation period and stores the report", () => {
    const args = ["model", "train", "--kind", "gbdt", "--input", file("sim.jsonl"), "--label-delay", "12h"];
    const r = run([...args, "--out", file("g.json"), "--report", file("r.json")]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /test: \d+ rows, \d+ fraud; ROC-AUC/);
    const { ensemble, meta } = loadGbdtModel(readFileSync(file("g.json"), "utf8"));
    assert.ok(ensemble.trees.length > 0);
    const report = meta.report;
    assert.ok(report !== undefined);
    assert.equal(report.labelDelayMs, 12 * 3_600_000);
    assert.ok(report.rows.train > 0 && report.rows.validation > 0 && report.rows.test > 0);
    // Train rows' labels were known before the validation cut: the last train row is ≥ 12 h before it.
    assert.ok(meta.training.timeRange !== null && report.validationFrom !== null);
    assert.ok(Date.parse(meta.training.timeRange.to) + 12 * 3_600_000 <= Date.parse(report.validationFrom));
    assert.ok(report.rows.unlabelled > 0, "the last 12 h have no known label");
    const test = report.test;
    assert.ok(test !== null && test.prAuc !== null && test.rocAuc !== null);
    assert.ok(test.prAuc > 0.5, `PR-AUC ${test.prAuc}`);
    assert.ok(test.review !== null && test.block !== null && test.cardPrecision !== null);
    assert.ok(test.cardPrecision.days >= 1);
    const written = JSON.parse(readFileSync(file("r.json"), "utf8")) as { model: string };
    assert.equal(written.model, meta.modelVersion);
    // Same data, same seed: the same trees and so the same version.
    const again = run([...args, "--out", file("g2.json")]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(loadGbdtModel(readFileSync(file("g2.json"), "utf8")).meta.modelVersion, meta.modelVersion);
  });
});
