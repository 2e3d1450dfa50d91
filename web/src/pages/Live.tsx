// Live: the alert feed as it arrives, the alert rate and throughput over time, and where the traffic
// and the alerts come from (country, merchant category, local hour).
import { useEffect, useMemo, useState } from "preact/hooks";
import uPlot from "uplot";
import { isFlagged } from "../../../src/contract/levels.ts";
import type { Stats } from "../api.ts";
import { BarList, type BarRow, ErrorNote, Panel, RiskBadge } from "../components/Bits.tsx";
import { AXIS, Chart, type ChartOptions, clockAxis } from "../components/Chart.tsx";
import { money, num, pct, RISK_COLOUR, riskColour, time } from "../format.ts";
import { navigate, useShared, useStream } from "../shared.ts";

const WINDOWS: [number, string][] = [
  [300, "5 min"],
  [900, "15 min"],
  [3600, "1 h"],
  [86_400, "24 h"],
];

export function LivePage() {
  const { stats, statsWindow, setStatsWindow } = useShared();
  const s = stats.data;
  return (
    <div class="live-grid">
      <Feed />
      <div class="stack">
        <Panel
          title="Alert rate over time"
          testid="panel-rate"
          actions={
            <select
              value={statsWindow}
              onChange={(e) => setStatsWindow(Number(e.currentTarget.value))}
              data-testid="window-select"
              aria-label="Statistics window"
            >
              {WINDOWS.map(([seconds, label]) => (
                <option key={seconds} value={seconds}>
                  {label}
                </option>
              ))}
            </select>
          }
        >
          <RateChart stats={s} windowSeconds={statsWindow} />
          <p class="muted small" data-testid="rate-bucket" data-value={s?.bucketSeconds ?? ""}>
            Per {s === undefined ? "bucket" : span(s.bucketSeconds)} of processing time: share of events
            flagged HIGH or CRITICAL.
          </p>
        </Panel>
        <Panel title="Throughput (live)" testid="panel-throughput">
          <ThroughputChart stats={s} />
        </Panel>
      </div>
      <Panel title="By country" testid="panel-country">
        <BarList rows={bars(s?.byCountry ?? [], 12)} testid="dist-country" />
      </Panel>
      <Panel title="By merchant category" testid="panel-category">
        <BarList rows={bars(s?.byCategory ?? [], 12)} testid="dist-category" />
      </Panel>
      <Panel title="By hour of day (local)" testid="panel-hour" class="wide">
        <HourColumns rows={s?.byHour ?? []} />
      </Panel>
    </div>
  );
}

/** 60 → "minute", 900 → "15 min", 3600 → "hour", 7200 → "2 h", 30 → "30 s". */
function span(seconds: number): string {
  if (seconds === 60) return "minute";
  if (seconds === 3600) return "hour";
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function bars(rows: Stats["byCountry"], top: number): BarRow[] {
  return rows.slice(0, top).map((r) => ({
    key: r.key,
    total: r.events,
    part: r.alerts,
    label: `${num(r.alerts)} / ${num(r.events)} · ${pct(r.events === 0 ? null : r.alerts / r.events)}`,
  }));
}

function Feed() {
  const { alerts, error, received } = useStream();
  return (
    <Panel
      title="Live alerts"
      testid="panel-feed"
      class="feed-panel"
      actions={
        <span class="muted small" data-testid="feed-received" data-value={received}>
          {num(received)} received live
        </span>
      }
    >
      <ErrorNote message={error} testid="stream-error" />
      {alerts.length === 0 ? (
        <p class="muted">Waiting for alerts…</p>
      ) : (
        <ul class="feed" data-testid="feed" data-count={alerts.length}>
          {alerts.map((a) => (
            <li key={a.transactionId}>
              <button
                type="button"
                class="feed-row"
                style={{ borderLeftColor: riskColour(a.risk) }}
                onClick={() => navigate(`#/review/${encodeURIComponent(a.transactionId)}`)}
                data-testid="feed-row"
                data-id={a.transactionId}
                data-seq={a.seq}
                data-risk={a.risk}
              >
                <RiskBadge risk={a.risk} />
                <span class="feed-amount">{money(a.amount, a.currency)}</span>
                <span class="feed-where" title={a.userId}>
                  {a.merchantCategory ?? "–"} · {a.country ?? "–"}
                </span>
                <span class="feed-score">{num(a.score, 2)}</span>
                <span class="feed-time">{time(a.createdAt)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}

function RateChart({ stats, windowSeconds }: { stats: Stats | undefined; windowSeconds: number }) {
  const data = useMemo((): uPlot.AlignedData => {
    // `minute` is the bucket's start, whatever the bucket's width.
    const perBucket = new Map<string, { events: number; alerts: number }>();
    for (const r of stats?.riskOverTime ?? []) {
      const m = perBucket.get(r.minute) ?? { events: 0, alerts: 0 };
      m.events += r.count;
      if (isFlagged(r.risk)) m.alerts += r.count;
      perBucket.set(r.minute, m);
    }
    const starts = [...perBucket.keys()].sort();
    return [
      starts.map((m) => Date.parse(m) / 1000),
      starts.map((m) => {
        const v = perBucket.get(m);
        return v === undefined || v.events === 0 ? null : (v.alerts / v.events) * 100;
      }),
      starts.map((m) => perBucket.get(m)?.alerts ?? null),
    ];
  }, [stats]);
  const bucket = stats?.bucketSeconds ?? 60;
  const options = useMemo(
    (): ChartOptions => ({
      scales: {
        // The whole window, not just the buckets with data: one bucket alone would make uPlot guess a
        // range of years.
        x: {
          time: true,
          range: () => {
            const now = Date.now() / 1000;
            return [now - windowSeconds, now + 30];
          },
        },
        rate: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] },
      },
      series: [
        {},
        {
          label: "alert rate %",
          scale: "rate",
          stroke: RISK_COLOUR.CRITICAL,
          fill: "rgba(197, 48, 48, 0.12)",
          width: 2,
          points: { show: true, size: 5 },
          value: (_u, v) => (v === null ? "–" : `${v.toFixed(2)}%`),
        },
        {
          label: `alerts / ${span(bucket)}`,
          scale: "count",
          stroke: "#a0aec0",
          fill: "rgba(160, 174, 192, 0.35)",
          paths: uPlot.paths.bars?.({ size: [0.6, 48] }),
          points: { show: false },
        },
      ],
      axes: [
        clockAxis(false),
        { ...AXIS, scale: "rate", values: (_u, ticks) => ticks.map((t) => `${t}%`), size: 50 },
        { ...AXIS, scale: "count", side: 1, grid: { show: false }, size: 50 },
      ],
      legend: { live: false },
    }),
    [windowSeconds, bucket],
  );
  return <Chart options={options} data={data} height={220} testid="chart-rate" />;
}

interface Sample {
  t: number;
  eps: number;
  p99: number | null;
}

/** The rate chart's buckets are coarse for a live view; this keeps the 2-second samples seen since opening. */
function ThroughputChart({ stats }: { stats: Stats | undefined }) {
  const [samples, setSamples] = useState<Sample[]>([]);
  useEffect(() => {
    if (stats === undefined) return;
    setSamples((old) =>
      [...old, { t: Date.now() / 1000, eps: stats.eventsPerSecond, p99: stats.latencyMs.p99 }].slice(-300),
    );
  }, [stats]);
  const data = useMemo(
    (): uPlot.AlignedData => [samples.map((s) => s.t), samples.map((s) => s.eps), samples.map((s) => s.p99)],
    [samples],
  );
  const options = useMemo(
    (): ChartOptions => ({
      scales: {
        // At least five minutes wide, so the first samples do not stretch over the whole chart.
        x: { time: true, range: (_u, min, max) => [Math.min(min, max - 300), max] },
        eps: { range: (_u, _min, max) => [0, Math.max(10, max * 1.15)] },
      },
      series: [
        {},
        {
          label: "events/s",
          scale: "eps",
          stroke: "#2b6cb0",
          fill: "rgba(43, 108, 176, 0.15)",
          width: 2,
          value: (_u, v) => (v === null ? "–" : v.toFixed(1)),
        },
        {
          label: "p99 latency ms",
          scale: "ms",
          stroke: "#805ad5",
          width: 1.5,
          dash: [4, 4],
          value: (_u, v) => (v === null ? "–" : `${Math.round(v)}`),
        },
      ],
      axes: [
        clockAxis(true),
        { ...AXIS, scale: "eps", size: 50 },
        { ...AXIS, scale: "ms", side: 1, grid: { show: false }, size: 55 },
      ],
      legend: { live: false },
    }),
    [],
  );
  return <Chart options={options} data={data} height={160} testid="chart-throughput" />;
}

const HOURS = Array.from({ length: 24 }, (_, h) => h);

function HourColumns({ rows }: { rows: Stats["byHour"] }) {
  const byHour = new Map(rows.map((r) => [r.hour, r]));
  const max = Math.max(1, ...rows.map((r) => r.events));
  return (
    <div class="cols" data-testid="dist-hour">
      {HOURS.map((h) => {
        const r = byHour.get(h);
        const events = r?.events ?? 0;
        const alerts = r?.alerts ?? 0;
        return (
          <div
            key={h}
            class="col"
            title={`${String(h).padStart(2, "0")}:00 · ${num(events)} events · ${num(alerts)} alerts (${pct(events === 0 ? null : alerts / events)})`}
          >
            <span class="col-track">
              <span class="col-total" style={{ height: `${(events / max) * 100}%` }} />
              <span class="col-part" style={{ height: `${(alerts / max) * 100}%` }} />
            </span>
            <span class="col-label">{h % 3 === 0 ? h : ""}</span>
          </div>
        );
      })}
    </div>
  );
}
