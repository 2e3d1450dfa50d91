// Small shared pieces: the risk badge, horizontal bar lists, error and empty notes.
import type { ComponentChildren } from "preact";
import { riskColour } from "../format.ts";

export function RiskBadge({ risk }: { risk: string }) {
  return (
    <span class="badge" style={{ background: riskColour(risk) }} data-testid="risk-badge" data-risk={risk}>
      {risk}
    </span>
  );
}

export function ErrorNote({ message, testid = "error" }: { message: string | undefined; testid?: string }) {
  if (message === undefined) return null;
  return (
    <p class="error" role="alert" data-testid={testid}>
      {message}
    </p>
  );
}

export function Panel(props: {
  title: string;
  testid: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
  class?: string;
}) {
  return (
    <section class={`panel ${props.class ?? ""}`} data-testid={props.testid}>
      <header class="panel-head">
        <h2>{props.title}</h2>
        {props.actions}
      </header>
      {props.children}
    </section>
  );
}

export interface BarRow {
  key: string;
  /** Length of the grey bar (events). */
  total: number;
  /** Length of the coloured part (alerts), drawn over the grey one. */
  part: number;
  label: string;
}

/** Categorical distributions as plain HTML: exact labels, no canvas, readable on a phone. */
export function BarList({ rows, testid }: { rows: BarRow[]; testid: string }) {
  const max = Math.max(1, ...rows.map((r) => r.total));
  if (rows.length === 0) return <p class="muted">No data in this window yet.</p>;
  return (
    <ul class="bars" data-testid={testid}>
      {rows.map((r) => (
        <li key={r.key} data-testid="bar-row">
          <span class="bar-key" title={r.key}>
            {r.key}
          </span>
          <span class="bar-track">
            <span class="bar-total" style={{ width: `${(r.total / max) * 100}%` }} />
            <span class="bar-part" style={{ width: `${(r.part / max) * 100}%` }} />
          </span>
          <span class="bar-label">{r.label}</span>
        </li>
      ))}
    </ul>
  );
}
