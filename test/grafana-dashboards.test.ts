// The provisioned Grafana dashboards (ops/grafana): their JSON type-checks against @grafana/schema (the
// dashboard model and each panel type's options, for the Grafana release compose.yaml runs); every SQL
// query runs on the real schema in a fresh PostgreSQL database after the migrations, as Grafana's
// read-only role; every PromQL expression names only metrics and labels the app exports.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { defaultDashboard } from "@grafana/schema";
import pg from "pg";
import ts from "typescript";
import { parse as parseYaml } from "yaml";
import { createPgStore, type PgStore } from "../src/io/pg/index.ts";
import type { ScoredRow } from "../src/pipeline/ports.ts";
import {
  allTargets,
  type DashboardFile,
  datasourceOf,
  expandSqlMacros,
  exportedMetrics,
  isKnownPromFunction,
  loadDashboards,
  promqlRefs,
  ROOT,
  TARGET_LABELS,
} from "./helpers/grafana.ts";
import { createTestDatabase, explanation, HIGH_VALUE, scoredRow } from "./helpers/pg.ts";

const dashboards = loadDashboards();
const targets = allTargets(dashboards);

interface ProvisionedDatasource {
  name: string;
  uid: string;
  type: string;
  jsonData?: { database?: string };
}
const datasources = (
  parseYaml(readFileSync(join(ROOT, "ops/grafana/provisioning/datasources/fraudstream.yaml"), "utf8")) as {
    datasources: ProvisionedDatasource[];
  }
).datasources;
const POSTGRES_TYPE = "grafana-postgresql-datasource";

describe("Grafana dashboards", () => {
  it("are the two expected dashboards, with unique uids and panel ids, and no overlapping panels", () => {
    assert.deepEqual(dashboards.map((d) => d.dashboard.title).sort(), [
      "Fraud monitoring",
      "Pipeline health",
    ]);
    assert.equal(new Set(dashboards.map((d) => d.dashboard.uid)).size, dashboards.length);
    for (const { file, dashboard } of dashboards) {
      const ids = dashboard.panels.map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, `${file}: panel ids are unique`);
      const cells = new Map<string, string>();
      for (const p of dashboard.panels) {
        const { x, y, w, h } = p.gridPos;
        assert.ok(x >= 0 && w > 0 && x + w <= 24 && h > 0, `${file} › ${p.title}: within the 24-column grid`);
        for (let cx = x; cx < x + w; cx++)
          for (let cy = y; cy < y + h; cy++) {
            const other = cells.get(`${cx},${cy}`);
            assert.equal(other, undefined, `${file}: "${p.title}" overlaps "${other}"`);
            cells.set(`${cx},${cy}`, p.title);
          }
      }
    }
  });

  it("use the schema version of the @grafana/schema release they are checked against", () => {
    for (const { file, dashboard } of dashboards)
      assert.equal(dashboard.schemaVersion, defaultDashboard.schemaVersion, `${file}: schemaVersion`);
  });

  it("type-check against @grafana/schema: the dashboard model and each panel type's options", () => {
    // A copy with a misspelt enum value and an option the panel type does not have must fail, in the
    // same compilation: the check can tell.
    const broken = structuredClone(dashboards[0] as DashboardFile);
    broken.file = "broken-copy.json";
    const series = broken.dashboard.panels.find((p) => p.type === "timeseries");
    const stat = broken.dashboard.panels.find((p) => p.type === "stat");
    assert.ok(series && stat);
    (series.options as { legend: { displayMode: string } }).legend.displayMode = "lists";
    (stat.options as Record<string, unknown>).colour = "red";
    const diagnostics = typeCheck([...dashboards, broken]);
    const real = diagnostics.filter((d) => !d.startsWith("broken-copy.json"));
    assert.deepEqual(real, [], `type errors:\n${real.join("\n")}`);
    const caught = diagnostics.filter((d) => d.startsWith("broken-copy.json")).join("\n");
    assert.match(caught, /"lists"/);
    assert.match(caught, /colour/);
  });

  it("query only the provisioned datasources, by uid and type", () => {
    const byUid = new Map(datasources.map((d) => [d.uid, d]));
    assert.ok(targets.length > 0);
    for (const q of targets) {
      const ds = datasourceOf(q);
      assert.ok(ds?.uid !== undefined, `${q.where}: names a datasource uid`);
      const provisioned = byUid.get(ds.uid);
      assert.ok(provisioned, `${q.where}: datasource ${ds.uid} is provisioned`);
      assert.equal(ds.type, provisioned.type, `${q.where}: datasource type`);
      if (provisioned.type === "prometheus") assert.equal(typeof q.target.expr, "string", `${q.where}: expr`);
      else assert.equal(typeof q.target.rawSql, "string", `${q.where}: rawSql`);
    }
  });

  it("name in PromQL only metrics, labels and functions the app's /metrics exports", () => {
    const metrics = exportedMetrics();
    const prom = targets.filter((q) => datasourceOf(q)?.type === "prometheus");
    assert.ok(prom.length >= 10);
    const problems: string[] = [];
    for (const q of prom) {
      const refs = promqlRefs(q.target.expr as string);
      if (refs.selectors.length === 0) problems.push(`${q.where}: selects no metric`);
      const labels = new Set<string>(TARGET_LABELS);
      for (const sel of refs.selectors) {
        const info = metrics.get(sel.metric);
        if (info === undefined) {
          problems.push(`${q.where}: ${sel.metric} is not exported`);
          continue;
        }
        for (const l of info.labels) labels.add(l);
        for (const l of sel.labels)
          if (!info.labels.has(l)) problems.push(`${q.where}: ${sel.metric} has no label ${l}`);
      }
      for (const l of refs.grouping)
        if (!labels.has(l)) problems.push(`${q.where}: groups by unknown label ${l}`);
      for (const f of refs.functions)
        if (!isKnownPromFunction(f)) problems.push(`${q.where}: unknown function ${f}`);
    }
    assert.deepEqual(problems, []);
  });

  it("the PromQL scanner finds names, matcher labels and grouping labels", () => {
    const refs = promqlRefs(
      'histogram_quantile(0.99, sum by (le, instance) (rate(a_bucket{job="x", code!~"5.."}[$__rate_interval]))) / ignoring(code) b_total offset 5m > bool 1e3',
    );
    assert.deepEqual(refs.selectors, [
      { metric: "a_bucket", labels: ["job", "code"] },
      { metric: "b_total", labels: [] },
    ]);
    assert.deepEqual(refs.grouping, ["le", "instance", "code"]);
    assert.deepEqual(refs.functions, ["histogram_quantile", "sum", "rate"]);
  });

  describe("SQL on the real schema", () => {
    let db: { url: string; drop(): Promise<void> };
    let store: PgStore;
    const reader = `grafana_reader_test_${process.pid}`;
    const now = Date.now();

    before(async () => {
      db = await createTestDatabase();
      const dbName = new URL(db.url).pathname.slice(1);
      // The deployment's order: the read-only role first (postgres image init), then the migrations.
      execFileSync(
        "psql",
        [
          "-X",
          "-q",
          "-v",
          "ON_ERROR_STOP=1",
          "-v",
          `reader=${reader}`,
          "-v",
          "password=test",
          "-v",
          "owner=postgres",
          "-v",
          `database=${dbName}`,
          "-f",
          join(ROOT, "ops/postgres/grafana-reader.sql"),
          db.url,
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      store = await createPgStore({ url: db.url, partitionDaysAhead: 1 });
      await store.migrate();
      await seed(store, db.url, now);
    });
    after(async () => {
      await store?.close();
      await db?.drop();
      const client = new pg.Client({ connectionString: "postgres://postgres@127.0.0.1:5432/postgres" });
      await client.connect();
      try {
        await client.query(`DROP ROLE IF EXISTS ${reader}`);
      } finally {
        await client.end();
      }
    });

    it("every query runs as Grafana's read-only role and returns rows of the shape its panel expects", async () => {
      const sql = targets.filter((q) => datasourceOf(q)?.type === POSTGRES_TYPE);
      assert.ok(sql.length >= 10);
      const postgres = datasources.find((d) => d.type === POSTGRES_TYPE);
      assert.equal(
        postgres?.jsonData?.database,
        "fraudstream",
        "datasource database = compose's POSTGRES_DB",
      );
      const url = new URL(db.url);
      url.username = reader;
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      const problems: string[] = [];
      try {
        for (const q of sql) {
          const text = expandSqlMacros(q.target.rawSql as string, now - 3_600_000, now + 60_000);
          try {
            const result = await client.query(text);
            const columns = result.fields.map((f) => f.name);
            if (result.rows.length === 0) problems.push(`${q.where}: no rows from the seeded data`);
            if (q.target.format === "time_series" && !columns.includes("time"))
              problems.push(
                `${q.where}: a time series query needs a "time" column (has ${columns.join(", ")})`,
              );
          } catch (err) {
            problems.push(`${q.where}: ${(err as Error).message}\n${text}`);
          }
        }
        // The role reads, and nothing else.
        await assert.rejects(client.query("DELETE FROM alerts"), /read-only transaction|permission denied/);
      } finally {
        await client.end();
      }
      assert.deepEqual(problems, []);
    });
  });
});

/** Scored events of the last hour (some flagged, some labelled), alerts and feedback on them. */
async function seed(store: PgStore, url: string, now: number): Promise<void> {
  const rows: ScoredRow[] = [];
  for (let i = 0; i < 200; i++) {
    const flagged = i % 10 === 0;
    rows.push({
      ...scoredRow({
        eventTime: now - (i % 50) * 60_000,
        country: ["DE", "FR", "BR", null][i % 4] ?? null,
        merchantCategory: ["grocery", "travel", "electronics"][i % 3] ?? null,
        score: flagged ? 0.9 + (i % 7) / 100 : 0.2,
        risk: flagged ? (i % 20 === 0 ? "CRITICAL" : "HIGH") : "LOW",
        decision: flagged ? (i % 20 === 0 ? "BLOCK" : "REVIEW") : "APPROVE",
        isFraud: i % 5 === 0 ? true : i % 5 === 1 ? false : null,
      }),
      explanation: flagged ? explanation([HIGH_VALUE], 3) : null,
    });
  }
  await store.writeBatch({ scored: rows, deadLetters: [], checkpoints: [] });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const flagged = rows.filter((r) => r.risk === "HIGH" || r.risk === "CRITICAL");
    for (const [k, r] of flagged.entries()) {
      const status = ["open", "confirmed_fraud", "false_positive"][k % 3] as string;
      await client.query(
        `INSERT INTO alerts (transaction_id, event_time, user_id, amount, currency, country, merchant_category,
                             score, risk, decision, explanation, model_version, rule_set_version, is_fraud, status,
                             reviewed_by, reviewed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
        [
          r.transactionId,
          new Date(r.eventTime),
          r.userId,
          r.amount,
          r.currency,
          r.country,
          r.merchantCategory,
          r.score,
          r.risk,
          r.decision,
          JSON.stringify(r.explanation ?? {}),
          r.modelVersion,
          r.ruleSetVersion,
          r.isFraud,
          status,
          status === "open" ? null : "analyst-1",
          status === "open" ? null : new Date(now - k * 60_000),
        ],
      );
      if (status !== "open")
        await client.query(
          "INSERT INTO feedback (transaction_id, label, note, given_by, given_at) VALUES ($1, $2, $3, $4, $5)",
          [r.transactionId, status, "seeded", "analyst-1", new Date(now - k * 60_000)],
        );
    }
  } finally {
    await client.end();
  }
}

/**
 * Type-checks each dashboard as a TypeScript literal against @grafana/schema: the Dashboard model, and
 * each panel against its type's Options and FieldConfig. The types use string enums, which a JSON
 * string cannot satisfy in TypeScript, so enums are compared by value (`Plain`).
 */
function typeCheck(files: DashboardFile[]): string[] {
  const panelModules: Record<string, string> = {
    timeseries: "timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen",
    stat: "stat/panelcfg/x/StatPanelCfg_types.gen",
    table: "table/panelcfg/x/TablePanelCfg_types.gen",
    piechart: "piechart/panelcfg/x/PieChartPanelCfg_types.gen",
    barchart: "barchart/panelcfg/x/BarChartPanelCfg_types.gen",
  };
  const withFieldConfig = new Set(["timeseries", "table", "piechart", "barchart"]);
  const lines: string[] = [
    'import type { Dashboard, DataQuery, FieldConfigSource, Panel } from "@grafana/schema";',
    ...Object.entries(panelModules).map(
      ([type, path]) => `import type * as P_${type} from "@grafana/schema/dist/esm/raw/composable/${path}";`,
    ),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a TypeScript template literal type, in generated source
    "type Plain<T> = T extends string ? `${T}` : T extends number | boolean | null | undefined ? T" +
      " : T extends readonly (infer U)[] ? Plain<U>[] : T extends object ? { [K in keyof T]: Plain<T[K]> } : T;",
    "interface PromQuery extends DataQuery { expr: string; legendFormat?: string; range?: boolean;" +
      ' instant?: boolean; format?: "time_series" | "table" | "heatmap"; editorMode?: "code" | "builder" }',
    'interface SqlQuery extends DataQuery { rawSql: string; rawQuery: true; format: "time_series" | "table";' +
      ' editorMode?: "code" | "builder" }',
    "type Typed<T extends string, O, F> = Omit<Plain<Panel>, 'type' | 'options' | 'fieldConfig' | 'targets'>" +
      " & { type: T; options: Plain<O>; fieldConfig: Plain<FieldConfigSource<F>>; targets: Array<Plain<PromQuery> | Plain<SqlQuery>> };",
    `type AnyPanel = ${Object.keys(panelModules)
      .map(
        (t) =>
          `Typed<"${t}", P_${t}.Options, ${withFieldConfig.has(t) ? `P_${t}.FieldConfig` : "Record<string, unknown>"}>`,
      )
      .join(" | ")};`,
  ];
  files.forEach(({ dashboard }, k) => {
    lines.push(`export const dashboard${k}: Plain<Dashboard> = ${JSON.stringify(dashboard, null, 2)};`);
    lines.push(`export const panels${k}: AnyPanel[] = ${JSON.stringify(dashboard.panels, null, 2)};`);
  });
  const source = lines.join("\n");
  const sourceLines = source.split("\n");
  const starts = files.map(({ file }, k) => ({
    file,
    line: sourceLines.findIndex((l) => l.startsWith(`export const dashboard${k}:`)),
  }));
  const fileName = join(ROOT, "test", "__grafana_dashboards_check__.ts");
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (name, version, ...rest) =>
    name === fileName ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const program = ts.createProgram([fileName], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (d.file === undefined || d.start === undefined) return message;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const dashboardFile = [...starts].reverse().find((s) => s.line <= line)?.file ?? "(preamble)";
    // The error points at the start of an object: name the panel by the first title after it.
    const title = sourceLines.slice(line, line + 40).find((l) => l.includes('"title":'));
    return `${dashboardFile} ${title?.trim() ?? `line ${line + 1}`}: ${message}`;
  });
}
