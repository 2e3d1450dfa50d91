// The provisioned Grafana dashboards (ops/grafana/dashboards) as the tests read them: their panels and
// queries, Grafana's SQL macros turned into plain SQL, and the metric and label names a PromQL
// expression refers to.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createPipelineMetrics } from "../../src/observe/metrics.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const DASHBOARD_DIR = join(ROOT, "ops/grafana/dashboards");

export interface DatasourceRef {
  type?: string;
  uid?: string;
}

export interface Target {
  refId: string;
  datasource?: DatasourceRef;
  /** PromQL (Prometheus datasource). */
  expr?: string;
  /** SQL (PostgreSQL datasource). */
  rawSql?: string;
  format?: string;
  [key: string]: unknown;
}

export interface PanelJson {
  id: number;
  type: string;
  title: string;
  datasource?: DatasourceRef;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  [key: string]: unknown;
}

export interface DashboardJson {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: PanelJson[];
  [key: string]: unknown;
}

export interface DashboardFile {
  file: string;
  text: string;
  dashboard: DashboardJson;
}

export function loadDashboards(): DashboardFile[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => {
      const text = readFileSync(join(DASHBOARD_DIR, file), "utf8");
      return { file, text, dashboard: JSON.parse(text) as DashboardJson };
    });
}

export interface QueryRef {
  file: string;
  panel: PanelJson;
  target: Target;
  /** "where" for messages: dashboard file, panel title, refId. */
  where: string;
}

export function allTargets(files: DashboardFile[]): QueryRef[] {
  const out: QueryRef[] = [];
  for (const { file, dashboard } of files)
    for (const panel of dashboard.panels)
      for (const target of panel.targets ?? [])
        out.push({ file, panel, target, where: `${file} › "${panel.title}" › ${target.refId}` });
  return out;
}

/** The datasource a query runs on: its own, else its panel's. */
export function datasourceOf(q: QueryRef): DatasourceRef | undefined {
  return q.target.datasource ?? q.panel.datasource;
}

// ---- SQL ----

const iso = (ms: number) => `'${new Date(ms).toISOString()}'::timestamptz`;

/**
 * Expands the Grafana PostgreSQL macros the dashboards use, the way Grafana does for a time range
 * [fromMs, toMs) and an interval, so that the query can run on PostgreSQL as it is. An unknown macro
 * is an error: teach this function before using a new one.
 */
export function expandSqlMacros(sql: string, fromMs: number, toMs: number, intervalSeconds = 60): string {
  const out = sql
    .replace(
      /\$__timeFilter\(([^)]+)\)/g,
      (_, col: string) => `${col.trim()} BETWEEN ${iso(fromMs)} AND ${iso(toMs)}`,
    )
    .replace(
      /\$__timeGroupAlias\(([^,)]+),\s*([^,)]+)(?:,[^)]*)?\)/g,
      (_, col: string) =>
        `floor(extract(epoch from ${col.trim()})/${intervalSeconds})*${intervalSeconds} AS "time"`,
    )
    .replace(
      /\$__timeGroup\(([^,)]+),\s*([^,)]+)(?:,[^)]*)?\)/g,
      (_, col: string) => `floor(extract(epoch from ${col.trim()})/${intervalSeconds})*${intervalSeconds}`,
    )
    .replace(/\$__timeFrom\(\)/g, iso(fromMs))
    .replace(/\$__timeTo\(\)/g, iso(toMs))
    .replace(/\$__interval_ms\b/g, String(intervalSeconds * 1000))
    .replace(/\$__interval\b/g, `'${intervalSeconds}s'`);
  const left = /\$\{?\w+/.exec(out);
  if (left !== null) throw new Error(`unknown Grafana macro or variable ${left[0]} in:\n${sql}`);
  return out;
}

// ---- PromQL ----

/** Grafana's interval variables, as the tests substitute them. */
export function expandPromVariables(expr: string, interval = "1m"): string {
  const out = expr.replace(/\$__rate_interval\b|\$__interval\b|\$__range\b/g, interval);
  const left = /\$\{?\w+/.exec(out);
  if (left !== null) throw new Error(`unknown Grafana variable ${left[0]} in: ${expr}`);
  return out;
}

const GROUPING = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);
const OPERATOR_WORDS = new Set(["and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"]);
const FUNCTIONS = new Set([
  // aggregations
  "sum",
  "min",
  "max",
  "avg",
  "group",
  "stddev",
  "stdvar",
  "count",
  "count_values",
  "bottomk",
  "topk",
  "quantile",
  // functions
  "abs",
  "absent",
  "absent_over_time",
  "avg_over_time",
  "ceil",
  "changes",
  "clamp",
  "clamp_max",
  "clamp_min",
  "count_over_time",
  "day_of_week",
  "delta",
  "deriv",
  "exp",
  "floor",
  "histogram_quantile",
  "hour",
  "idelta",
  "increase",
  "irate",
  "label_join",
  "label_replace",
  "last_over_time",
  "ln",
  "log10",
  "log2",
  "max_over_time",
  "min_over_time",
  "predict_linear",
  "quantile_over_time",
  "rate",
  "resets",
  "round",
  "scalar",
  "sgn",
  "sort",
  "sort_desc",
  "sqrt",
  "sum_over_time",
  "time",
  "timestamp",
  "vector",
]);

export interface PromRefs {
  /** Metric names selected, with the label names their matchers use. */
  selectors: { metric: string; labels: string[] }[];
  /** Label names in by/without/on/ignoring/group_* clauses. */
  grouping: string[];
  functions: string[];
}

/**
 * The metric names, matcher labels, grouping labels and functions of a PromQL expression. A small
 * scanner rather than a full parser: enough for dashboards (the Prometheus test runs every
 * expression on the real server, which parses it properly).
 */
export function promqlRefs(expr: string): PromRefs {
  const refs: PromRefs = { selectors: [], grouping: [], functions: [] };
  const s = expandPromVariables(expr);
  let i = 0;
  const skipSpace = () => {
    while (i < s.length && /\s/.test(s[i] as string)) i++;
  };
  const readBlock = (open: string, close: string): string => {
    // s[i] === open; returns the content and leaves i after the matching close (strings respected).
    let depth = 0;
    const start = i + 1;
    for (; i < s.length; i++) {
      const c = s[i];
      if (c === '"' || c === "'" || c === "`") {
        const q = c;
        for (i++; i < s.length && s[i] !== q; i++) if (s[i] === "\\") i++;
      } else if (c === open) depth++;
      else if (c === close && --depth === 0) {
        i++;
        return s.slice(start, i - 1);
      }
    }
    throw new Error(`unbalanced ${open}${close} in: ${expr}`);
  };
  const matcherLabels = (body: string): string[] =>
    [
      ...body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')/g),
    ].map((m) => m[1] as string);
  while (i < s.length) {
    const c = s[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'" || c === "`") {
      for (i++; i < s.length && s[i] !== c; i++) if (s[i] === "\\") i++;
      i++;
    } else if (c === "[") {
      readBlock("[", "]"); // range or subquery durations
    } else if (c === "{") {
      throw new Error(`selector without a metric name in: ${expr}`);
    } else if (/[0-9.]/.test(c)) {
      // A duration (offset 5m, 1h30m) or a number.
      const m = /^((?:[0-9]+(?:ms|[smhdwy]))+|0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)/.exec(
        s.slice(i),
      );
      i += m?.[0].length || 1;
    } else if (/[a-zA-Z_:]/.test(c)) {
      const word = (/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(s.slice(i)) as RegExpExecArray)[0];
      i += word.length;
      skipSpace();
      const next = s[i];
      if (GROUPING.has(word)) {
        if (next === "(") {
          const list = readBlock("(", ")");
          refs.grouping.push(
            ...list
              .split(",")
              .map((l) => l.trim())
              .filter((l) => l !== ""),
          );
        }
      } else if (OPERATOR_WORDS.has(word)) {
        // keyword
      } else if (next === "(" || (FUNCTIONS.has(word) && /^(by|without)\s*\(/.test(s.slice(i)))) {
        refs.functions.push(word);
      } else {
        const labels = next === "{" ? matcherLabels(readBlock("{", "}")) : [];
        refs.selectors.push({ metric: word, labels });
      }
    } else {
      i++;
    }
  }
  return refs;
}

export function isKnownPromFunction(name: string): boolean {
  return FUNCTIONS.has(name);
}

export interface MetricInfo {
  type: string;
  labels: Set<string>;
}

/** Labels Prometheus itself attaches to every scraped series. */
export const TARGET_LABELS = ["job", "instance"];

/**
 * Every series name the app exports, from the same registry the worker serves on /metrics, with its
 * label names: a histogram exports `_bucket` (with `le`), `_sum` and `_count`. Prometheus's own `up` is
 * added, since dashboards count scrape targets with it.
 */
export function exportedMetrics(): Map<string, MetricInfo> {
  const { registry } = createPipelineMetrics();
  const out = new Map<string, MetricInfo>();
  for (const metric of registry.getMetricsAsArray()) {
    const { name, type, labelNames } = metric as unknown as {
      name: string;
      type: string;
      labelNames?: string[];
    };
    const labels = new Set([...(labelNames ?? []), ...TARGET_LABELS]);
    if (type === "histogram") {
      out.set(`${name}_bucket`, { type, labels: new Set([...labels, "le"]) });
      out.set(`${name}_sum`, { type, labels });
      out.set(`${name}_count`, { type, labels });
    } else if (type === "summary") {
      out.set(name, { type, labels: new Set([...labels, "quantile"]) });
      out.set(`${name}_sum`, { type, labels });
      out.set(`${name}_count`, { type, labels });
    } else {
      out.set(name, { type, labels });
    }
  }
  out.set("up", { type: "gauge", labels: new Set(TARGET_LABELS) });
  return out;
}
