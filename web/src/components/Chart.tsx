// A uPlot chart that fills its container's width. uPlot draws on a canvas and updates in place
// (setData), which keeps charts that refresh every two seconds cheap.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export type ChartOptions = Omit<uPlot.Options, "width" | "height">;

interface Props {
  /** Must be stable (useMemo): a new object rebuilds the chart. */
  options: ChartOptions;
  data: uPlot.AlignedData;
  height: number;
  testid: string;
  /** Read by the draw hooks of `options`; a change redraws without rebuilding. */
  redrawKey?: unknown;
}

export function Chart({ options, data, height, testid, redrawKey }: Props) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    const target = el.current;
    if (target === null) return;
    const width = Math.max(200, target.clientWidth);
    const u = new uPlot({ ...options, width, height }, latest.current, target);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, target.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height });
    });
    ro.observe(target);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [options, height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: redrawKey is the trigger
  useEffect(() => {
    plot.current?.redraw(false, false);
  }, [redrawKey]);

  return <div class="chart" ref={el} data-testid={testid} />;
}

/** Clock times on a time axis: uPlot's default adds a date line that collides at the left edge. */
export function clockAxis(seconds: boolean): uPlot.Axis {
  return {
    ...AXIS,
    values: (_u, ticks) =>
      ticks.map((t) =>
        new Date(t * 1000).toLocaleTimeString("en-GB", {
          hour12: false,
          hour: "2-digit",
          minute: "2-digit",
          ...(seconds ? { second: "2-digit" } : {}),
        }),
      ),
  };
}

export const AXIS = {
  stroke: "#4a5568",
  grid: { stroke: "#edf2f7", width: 1 },
  ticks: { stroke: "#e2e8f0", width: 1 },
};
