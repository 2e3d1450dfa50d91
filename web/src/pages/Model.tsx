// Model: how well the score separates fraud on labelled transactions (analysts' labels where given, the
// source's labels otherwise): ROC and precision-recall curves, and the confusion matrix at a threshold
// chosen with the slider, marked on both curves.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type uPlot from "uplot";
import { api, type ModelPerformance } from "../api.ts";
import { ErrorNote, Panel } from "../components/Bits.tsx";
import { AXIS, Chart, type ChartOptions } from "../components/Chart.tsx";
import { num, pct } from "../format.ts";
import { useLoad } from "../hooks.ts";

type Threshold = ModelPerformance["thresholds"][number];

export function ModelPage() {
  const perf = useLoad((_k, signal) => api.modelPerformance(signal), "model");
  const p = perf.data;
  const [index, setIndex] = useState<number | null>(null);

  // Start at the threshold with the best F1: the most informative place on a first look.
  useEffect(() => {
    if (p === undefined || index !== null) return;
    let best = 50;
    p.thresholds.forEach((t, i) => {
      if (t.f1 > (p.thresholds[best]?.f1 ?? -1)) best = i;
    });
    setIndex(best);
  }, [p, index]);

  const at = index === null ? undefined : p?.thresholds[index];
  return (
    <div class="model-grid">
      <Panel
        title="Model performance"
        testid="model-summary"
        class="wide"
        actions={
          <button type="button" onClick={perf.reload} disabled={perf.loading} data-testid="model-refresh">
            {perf.loading ? "Loading…" : "Refresh"}
          </button>
        }
      >
        <ErrorNote message={perf.error} />
        {p === undefined ? (
          perf.error === undefined ? (
            <p class="muted">Computing curves…</p>
          ) : null
        ) : (
          <div class="kpis">
            <Kpi testid="model-auc" label="ROC AUC" value={p.rocAuc === null ? "–" : p.rocAuc.toFixed(3)} />
            <Kpi
              testid="model-ap"
              label="Average precision"
              value={p.averagePrecision === null ? "–" : p.averagePrecision.toFixed(3)}
            />
            <Kpi testid="model-rows" label="Labelled rows" value={num(p.rows)} />
            <Kpi
              testid="model-positives"
              label="Fraud among them"
              value={`${num(p.positives)} (${pct(p.rows === 0 ? null : p.positives / p.rows)})`}
            />
            <Kpi testid="model-analyst" label="Analyst labels" value={num(p.analystLabels)} />
          </div>
        )}
        {p !== undefined && p.rows > 0 && p.positives === 0 ? (
          <p class="muted">No fraud among the labelled rows yet: the curves need both classes.</p>
        ) : null}
      </Panel>
      {p === undefined ? null : (
        <>
          <Panel title="Threshold" testid="threshold-panel" class="wide">
            <ThresholdControl p={p} index={index ?? 50} onIndex={setIndex} />
          </Panel>
          <Panel title="ROC curve" testid="roc-panel">
            <Curve points={p.roc} kind="roc" at={at} baseline={null} />
          </Panel>
          <Panel title="Precision–recall curve" testid="pr-panel">
            <Curve points={p.pr} kind="pr" at={at} baseline={p.rows === 0 ? null : p.positives / p.rows} />
          </Panel>
        </>
      )}
    </div>
  );
}

function Kpi({ testid, label, value }: { testid: string; label: string; value: string }) {
  return (
    <div class="kpi" data-testid={testid}>
      <span class="tile-label">{label}</span>
      <span class="kpi-value">{value}</span>
    </div>
  );
}

function ThresholdControl({
  p,
  index,
  onIndex,
}: {
  p: ModelPerformance;
  index: number;
  onIndex: (i: number) => void;
}) {
  const t = p.thresholds[index];
  if (t === undefined) return <p class="muted">No thresholds.</p>;
  const flagged = t.tp + t.fp;
  return (
    <div class="threshold">
      <label class="slider">
        <span>
          Flag when score ≥ <strong data-testid="threshold-value">{t.threshold.toFixed(2)}</strong>
        </span>
        <input
          type="range"
          min={0}
          max={p.thresholds.length - 1}
          step={1}
          value={index}
          onInput={(e) => onIndex(Number(e.currentTarget.value))}
          aria-label="Score threshold"
          data-testid="threshold-slider"
        />
      </label>
      <div class="kpis">
        <Kpi testid="precision" label="Precision" value={pct(t.precision)} />
        <Kpi testid="recall" label="Recall" value={pct(t.recall)} />
        <Kpi testid="f1" label="F1" value={t.f1.toFixed(3)} />
        <Kpi
          testid="flagged"
          label="Flagged"
          value={`${num(flagged)} (${pct(p.rows === 0 ? null : flagged / p.rows)})`}
        />
      </div>
      <Confusion t={t} />
    </div>
  );
}

/** The 2×2 matrix as a table shaded by each cell's share of its actual class (a row-normalised heatmap). */
function Confusion({ t }: { t: Threshold }) {
  const pos = t.tp + t.fn;
  const neg = t.fp + t.tn;
  const cell = (testid: string, n: number, of: number, good: boolean, name: string) => {
    const share = of === 0 ? 0 : n / of;
    const hue = good ? "47, 133, 90" : "197, 48, 48";
    return (
      <td
        data-testid={testid}
        data-value={n}
        style={{ background: `rgba(${hue}, ${0.08 + share * 0.6})` }}
        title={`${name}: ${num(n)} (${pct(of === 0 ? null : share)} of the row)`}
      >
        <span class="cm-n">{num(n)}</span>
        <span class="cm-name">{name}</span>
        <span class="cm-share">{pct(of === 0 ? null : share)}</span>
      </td>
    );
  };
  return (
    <table class="confusion" data-testid="confusion">
      <thead>
        <tr>
          <th />
          <th>flagged</th>
          <th>not flagged</th>
        </tr>
      </thead>
      <tbody>
        <tr>
          <th>fraud</th>
          {cell("cm-tp", t.tp, pos, true, "true positive")}
          {cell("cm-fn", t.fn, pos, false, "false negative")}
        </tr>
        <tr>
          <th>legitimate</th>
          {cell("cm-fp", t.fp, neg, false, "false positive")}
          {cell("cm-tn", t.tn, neg, true, "true negative")}
        </tr>
      </tbody>
    </table>
  );
}

type CurvePoints = ModelPerformance["roc"];

/**
 * uPlot wants x ascending; the API's curves run along the threshold, so they are ordered by x (ties keep
 * the API's order, which is the curve's own). The current threshold is drawn as a dot by a draw hook.
 */
function Curve(props: {
  points: CurvePoints;
  kind: "roc" | "pr";
  at: Threshold | undefined;
  baseline: number | null;
}) {
  const { points, kind, at, baseline } = props;
  const data = useMemo((): uPlot.AlignedData => {
    const sorted = points.map((p, i) => ({ ...p, i })).sort((a, b) => a.x - b.x || a.i - b.i);
    const xs = sorted.map((p) => p.x);
    const ys = sorted.map((p) => p.y);
    const ref = kind === "roc" ? xs : xs.map(() => baseline);
    return [xs, ys, ref];
  }, [points, kind, baseline]);

  // The dot's position, read by the draw hook through a ref so that moving it only redraws the chart.
  const marker = useRef<{ x: number | null; y: number | null }>({ x: null, y: null });
  if (at === undefined) marker.current = { x: null, y: null };
  else if (kind === "roc") {
    const neg = at.fp + at.tn;
    marker.current = { x: neg === 0 ? null : at.fp / neg, y: at.recall };
  } else marker.current = { x: at.recall, y: at.tp + at.fp === 0 ? null : at.precision };

  const options = useMemo(
    (): ChartOptions => ({
      scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } },
      series: [
        {
          label: kind === "roc" ? "false-positive rate" : "recall",
          value: (_u, v) => (v === null ? "–" : v.toFixed(3)),
        },
        {
          label: kind === "roc" ? "true-positive rate" : "precision",
          stroke: "#2b6cb0",
          fill: "rgba(43, 108, 176, 0.10)",
          width: 2,
          points: { show: false },
          value: (_u, v) => (v === null ? "–" : v.toFixed(3)),
        },
        {
          label: kind === "roc" ? "chance" : "prevalence",
          stroke: "#a0aec0",
          dash: [5, 5],
          width: 1,
          points: { show: false },
        },
      ],
      axes: [
        { ...AXIS, label: kind === "roc" ? "false-positive rate" : "recall", labelSize: 20 },
        { ...AXIS, label: kind === "roc" ? "true-positive rate" : "precision", labelSize: 20, size: 45 },
      ],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      hooks: {
        draw: [
          (u) => {
            const { x, y } = marker.current;
            if (x === null || y === null) return;
            const ctx = u.ctx;
            const cx = u.valToPos(x, "x", true);
            const cy = u.valToPos(y, "y", true);
            ctx.save();
            ctx.beginPath();
            ctx.arc(cx, cy, 6 * devicePixelRatio, 0, Math.PI * 2);
            ctx.fillStyle = "#c53030";
            ctx.strokeStyle = "#fff";
            ctx.lineWidth = 2 * devicePixelRatio;
            ctx.fill();
            ctx.stroke();
            ctx.restore();
          },
        ],
      },
    }),
    [kind],
  );
  const empty = points.length === 0;
  return (
    <>
      {empty ? <p class="muted">No labelled data yet.</p> : null}
      <Chart
        options={options}
        data={data}
        height={300}
        testid={`chart-${kind}`}
        redrawKey={`${marker.current.x}:${marker.current.y}`}
      />
    </>
  );
}
