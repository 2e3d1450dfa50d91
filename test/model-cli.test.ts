// `fraudstream model …` end to end through the command line: train on simulated transactions (features
// through the worker's engine) and on a plain feature table, score in input order, evaluate, and the
// registry commands against the real PostgreSQL. Clear errors for inputs that cannot be served.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { defaultRuleSet } from "../src/decide/defaults.ts";
import { FEATURE_NAMES, FEATURE_SET_VERSION } from "../src/features/registry.ts";
import { createTestDatabase } from "./helpers/pg.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "fraudstream-model-"));
const file = (name: string) => join(dir, name);

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(ROOT, "src/cli/main.ts"), ...args], {
    cwd: dir,
    env: { ...process.env, FRAUDSTREAM_LOG_LEVEL: "warn", ...env },
    encoding: "utf8",
    timeout: 240_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let db: Awaited<ReturnType<typeof createTestDatabase>>;
before(async () => {
  db = await createTestDatabase();
  for (const [name, seed, count] of [
    ["train.jsonl", 3, 20_000],
    ["test.jsonl", 4, 10_000],
  ] as const) {
    const r = run([
      "simulate",
      "--count",
      String(count),
      "--users",
      "1000",
      "--seed",
      String(seed),
      "--out",
      file(name),
    ]);
    assert.equal(r.status, 0, r.stderr);
  }
});
after(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("fraudstream model", () => {
  it("trains on transactions through the worker's feature code and detects the simulated fraud", () => {
    const r = run(["model", "train", "--input", file("train.jsonl"), "--out", file("m.json"), "--seed", "7"]);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stderr.trim().split("\n").at(-1) as string) as {
      rows: number;
      rocAuc: number;
      kind: string;
    };
    assert.equal(summary.kind, "transactions");
    assert.equal(summary.rows, 20_000);
    const m = JSON.parse(readFileSync(file("m.json"), "utf8")) as {
      featureNames: string[];
      featureSetVersion: string;
      training: { rows: number; timeRange: { from: string; to: string } };
    };
    assert.deepEqual(m.featureNames, [...FEATURE_NAMES]);
    assert.ok(!m.featureNames.includes("is_fraud"), "the label never becomes a feature");
    assert.equal(m.featureSetVersion, FEATURE_SET_VERSION);
    assert.ok(m.training.timeRange.from < m.training.timeRange.to);

    const e = run(["model", "evaluate", "--model", file("m.json"), "--input", file("test.jsonl"), "--json"]);
    assert.equal(e.status, 0, e.stderr);
    const report = JSON.parse(e.stdout) as {
      rows: number;
      rocAuc: number;
      prAuc: number;
      atThreshold: { tp: number; fp: number; tn: number; fn: number };
      forAlertRate: { tp: number; fp: number };
    };
    assert.equal(report.rows, 10_000);
    assert.ok(report.rocAuc > 0.85, `held-out ROC-AUC ${report.rocAuc}`);
    assert.ok(report.prAuc > 0.2, `held-out PR-AUC ${report.prAuc}`);
    const c = report.atThreshold;
    assert.equal(c.tp + c.fp + c.tn + c.fn, 10_000);
    assert.equal(report.forAlertRate.tp + report.forAlertRate.fp, 100, "1% of the rows flagged");
    const text = run(["model", "evaluate", "--model", file("m.json"), "--input", file("test.jsonl")]);
    assert.match(text.stdout, /ROC-AUC 0\.\d{4}\s+PR-AUC 0\.\d{4}/);
    assert.match(text.stdout, /actual fraud/);
  });

  it("scores one row per input row, in input order, identically on a second run", () => {
    const a = run([
      "model",
      "score",
      "--model",
      file("m.json"),
      "--input",
      file("test.jsonl"),
      "--out",
      file("a.csv"),
    ]);
    assert.equal(a.status, 0, a.stderr);
    run(["model", "score", "--model", file("m.json"), "--input", file("test.jsonl"), "--out", file("b.csv")]);
    const lines = readFileSync(file("a.csv"), "utf8").trim().split("\n");
    assert.equal(lines[0], "score");
    assert.equal(lines.length, 10_001);
    for (const l of lines.slice(1)) {
      const s = Number(l);
      assert.ok(s > 0 && s <= 1, l);
    }
    assert.equal(readFileSync(file("a.csv"), "utf8"), readFileSync(file("b.csv"), "utf8"));
  });

  it("backtests: the combination of rules and model beats the classic rules and the model alone on PR-AUC", () => {
    const r = run(["backtest", "--input", file("test.jsonl"), "--model", file("m.json"), "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      labelled: number;
      fraud: number;
      configs: {
        name: string;
        alerts: number;
        truePositives: number;
        precision: number;
        recall: number;
        prAuc: number;
        rules: { id: string; hits: number; fraudHits: number }[];
        overlaps: { a: string; b: string; events: number }[];
      }[];
    };
    assert.equal(report.labelled, 10_000);
    const [classic, model, combined] = report.configs as [
      (typeof report.configs)[number],
      (typeof report.configs)[number],
      (typeof report.configs)[number],
    ];
    assert.deepEqual(
      report.configs.map((c) => c.name.split(" (")[0]),
      ["classic rules only", "model only", "combination"],
    );
    assert.ok(combined.prAuc > classic.prAuc, `combination ${combined.prAuc} vs classic ${classic.prAuc}`);
    assert.ok(combined.prAuc > model.prAuc, `combination ${combined.prAuc} vs model ${model.prAuc}`);
    for (const c of report.configs) {
      assert.ok(c.truePositives <= c.alerts && c.truePositives <= report.fraud);
      if (c.alerts > 0) assert.equal(c.precision, c.truePositives / c.alerts);
      for (const rule of c.rules) assert.ok(rule.fraudHits <= rule.hits, rule.id);
      for (const o of c.overlaps) {
        const hits = (id: string) => c.rules.find((x) => x.id === id)?.hits ?? 0;
        assert.ok(o.events <= Math.min(hits(o.a), hits(o.b)), `${o.a} & ${o.b}`);
      }
    }
    assert.deepEqual(
      classic.rules.map((x) => x.id),
      ["high_value", "location_change", "high_frequency"],
    );
    assert.ok(classic.rules.every((x) => x.hits > 0));
    const text = run(["backtest", "--input", file("test.jsonl"), "--model", file("m.json")]);
    assert.match(text.stdout, /classic rules only\s+\d+/);
    writeFileSync(
      file("bad-rules.json"),
      JSON.stringify({
        ...defaultRuleSet(),
        rules: [{ id: "r", description: "d", when: { field: "txn_cnt_1m", op: ">", value: 1 }, weight: 1 }],
      }),
    );
    const bad = run([
      "backtest",
      "--input",
      file("test.jsonl"),
      "--model",
      file("m.json"),
      "--rules",
      file("bad-rules.json"),
    ]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /rules\[0\]\.when\.field: .*did you mean txn_count_1m/);
  });

  it("trains on a feature table: numeric columns but the label, or the ones named", () => {
    const rows = ["x,y,note,label"];
    for (let i = 0; i < 2000; i++) {
      const out = i % 100 === 0;
      rows.push(
        `${out ? 40 + (i % 7) : Math.sin(i) * 3},${out ? -35 : Math.cos(i) * 3},n${i},${out ? 1 : 0}`,
      );
    }
    writeFileSync(file("table.csv"), `${rows.join("\n")}\n`);
    const r = run([
      "model",
      "train",
      "--input",
      file("table.csv"),
      "--label",
      "label",
      "--out",
      file("t.json"),
    ]);
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(readFileSync(file("t.json"), "utf8")) as {
      featureNames: string[];
      featureSetVersion: null;
    };
    assert.deepEqual(m.featureNames, ["x", "y"], "the label and the text column are not features");
    assert.equal(m.featureSetVersion, null);
    const e = run([
      "model",
      "evaluate",
      "--model",
      file("t.json"),
      "--input",
      file("table.csv"),
      "--label",
      "label",
      "--json",
    ]);
    assert.ok((JSON.parse(e.stdout) as { rocAuc: number }).rocAuc > 0.99);
    const only = run([
      "model",
      "train",
      "--input",
      file("table.csv"),
      "--label",
      "label",
      "--features",
      "y",
      "--out",
      file("y.json"),
    ]);
    assert.equal(only.status, 0, only.stderr);
    assert.deepEqual(
      (JSON.parse(readFileSync(file("y.json"), "utf8")) as { featureNames: string[] }).featureNames,
      ["y"],
    );
  });

  it("says clearly what is wrong with an input, a label or a model", () => {
    writeFileSync(file("holes.csv"), "x,y\n1,2\n3,\n");
    const holes = run(["model", "train", "--input", file("holes.csv"), "--out", file("h.json")]);
    assert.equal(holes.status, 2);
    assert.match(holes.stderr, /line 3: column y is missing/);
    writeFileSync(file("plain.csv"), "x,y\n1,2\n3,4\n");
    const noLabel = run(["model", "evaluate", "--model", file("t.json"), "--input", file("plain.csv")]);
    assert.equal(noLabel.status, 2);
    assert.match(noLabel.stderr, /has no labels; name the label column with --label/);
    const wrong = run([
      "model",
      "score",
      "--model",
      file("t.json"),
      "--input",
      file("test.jsonl"),
      "--out",
      file("w.csv"),
    ]);
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /the model needs feature "x"/);
    writeFileSync(
      file("bad.json"),
      JSON.stringify({ format: "fraudstream.isolation-forest", formatVersion: 99 }),
    );
    const bad = run([
      "model",
      "score",
      "--model",
      file("bad.json"),
      "--input",
      file("test.jsonl"),
      "--out",
      file("x.csv"),
    ]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /version/);
    const unknown = run([
      "model",
      "train",
      "--input",
      file("train.jsonl"),
      "--features",
      "amount,txn_cnt",
      "--out",
      file("u.json"),
    ]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /"txn_cnt" is not a feature/);
  });

  it("registers, lists, promotes and rolls back through the registry", () => {
    const env = { DATABASE_URL: db.url };
    const t2 = run(
      [
        "model",
        "train",
        "--input",
        file("train.jsonl"),
        "--out",
        file("m2.json"),
        "--seed",
        "8",
        "--trees",
        "50",
      ],
      env,
    );
    assert.equal(t2.status, 0, t2.stderr);
    for (const m of ["m.json", "m2.json"]) assert.equal(run(["model", "register", file(m)], env).status, 0);
    const ids = (
      JSON.parse(run(["model", "list", "--json"], env).stdout) as { id: string; status: string }[]
    ).map((m) => m.id);
    assert.equal(ids.length, 2);
    const [second, first] = ids as [string, string];
    assert.equal(run(["model", "promote", first], env).status, 0);
    assert.equal(run(["model", "promote", second, "--note", "fewer trees"], env).status, 0);
    const back = run(["model", "rollback"], env);
    assert.equal(back.status, 0, back.stderr);
    assert.deepEqual(JSON.parse(back.stderr.trim()), { from: second, to: first });
    const listed = run(["model", "list"], env).stdout;
    assert.match(listed, new RegExp(`^active\\s+${first}`, "m"));
    const missing = run(["model", "promote", "no-such-model"], env);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no model no-such-model/);
  });
});
