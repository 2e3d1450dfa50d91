// Review: the queue of open alerts (newest first, a page at a time, with how many match) and, for the
// selected one, everything that explains it (features, model factors, rule hits, the user's recent
// history) with the assign and label buttons for keys allowed to use them.
import { useCallback, useEffect, useState } from "preact/hooks";
import { isFlagged, RISK_LEVELS } from "../../../src/contract/levels.ts";
import {
  type Alert,
  type AlertPage,
  api,
  describeError,
  type Label,
  type TransactionDetail,
} from "../api.ts";
import { ErrorNote, Panel, RiskBadge } from "../components/Bits.tsx";
import { readExplanation, type ShownExplanation } from "../explanation.ts";
import { dateTime, featureValue, money, num, riskColour, time } from "../format.ts";
import { useLoad } from "../hooks.ts";
import { navigate, useShared } from "../shared.ts";

const PAGE = 30;
/** The levels an alert can have, most severe first: the queue's risk filter. */
const FLAGGED = RISK_LEVELS.filter(isFlagged).reverse();

export function ReviewPage({ selected }: { selected: string | null }) {
  const [removed, setRemoved] = useState<string | null>(null);
  const onLabelled = useCallback((a: Alert) => setRemoved(a.transactionId), []);
  return (
    <div class={`review-grid ${selected === null ? "" : "has-selection"}`}>
      <Queue selected={selected} removed={removed} />
      <div class="detail-col">
        {selected === null ? (
          <Panel title="Alert detail" testid="detail-empty">
            <p class="muted">Select an alert from the queue or the live feed.</p>
          </Panel>
        ) : (
          <Detail id={selected} onLabelled={onLabelled} />
        )}
      </div>
    </div>
  );
}

/** Alerts matching the queue's filter, from the API's count (a lower bound when `capped`). */
interface Total {
  n: number;
  capped: boolean;
}

/** The queue's pages so far, and where the next one starts (null: no more). */
interface QueuePages {
  items: Alert[];
  cursor: number | null;
  total: Total;
}

const firstPage = (page: AlertPage): QueuePages => ({
  items: page.items,
  cursor: page.nextCursor,
  total: { n: page.total, capped: page.totalCapped },
});

/** Appends the next page, minus any alert already shown (new alerts shift the pages under the cursor). */
function appendPage(pages: QueuePages, page: AlertPage): QueuePages {
  const have = new Set(pages.items.map((a) => a.transactionId));
  return {
    ...firstPage(page),
    items: [...pages.items, ...page.items.filter((a) => !have.has(a.transactionId))],
  };
}

function Queue({ selected, removed }: { selected: string | null; removed: string | null }) {
  const [risk, setRisk] = useState("");
  // A page for a filter the user has since left (or a refresh replaced) is dropped, first or appended.
  const queue = useLoad(
    (key, signal) => api.alerts({ status: "open", risk: key, limit: PAGE }, signal).then(firstPage),
    risk,
  );
  const items = queue.data?.items ?? [];
  const cursor = queue.data?.cursor ?? null;
  const { loading, update } = queue;

  // A labelled alert leaves the open queue at once, and the count with it when the queue showed it (one
  // it did not show may lie outside the filter); Refresh asks the API again.
  useEffect(() => {
    if (removed === null) return;
    update((q) => {
      if (!q.items.some((a) => a.transactionId === removed)) return q;
      const left = q.items.filter((a) => a.transactionId !== removed);
      return {
        ...q,
        items: left,
        total: q.total.capped ? q.total : { ...q.total, n: Math.max(0, q.total.n - 1) },
      };
    });
  }, [removed, update]);

  const more = () => {
    if (cursor === null) return;
    queue.more((signal) => api.alerts({ status: "open", risk, limit: PAGE, cursor }, signal), appendPage);
  };

  return (
    <Panel
      title="Review queue"
      testid="queue"
      class="queue-panel"
      actions={
        <span class="actions">
          <QueueTotal total={queue.data?.total} shown={items.length} />
          <select
            value={risk}
            onChange={(e) => setRisk(e.currentTarget.value)}
            aria-label="Risk filter"
            data-testid="queue-risk"
          >
            <option value="">all risks</option>
            {FLAGGED.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <button type="button" onClick={queue.reload} data-testid="queue-refresh">
            Refresh
          </button>
        </span>
      }
    >
      <ErrorNote message={queue.error} testid="queue-error" />
      {items.length === 0 && !loading ? <p class="muted">No open alerts.</p> : null}
      <ul class="queue" data-testid="queue-list">
        {items.map((a) => (
          <li key={a.transactionId}>
            <button
              type="button"
              class={`queue-row ${a.transactionId === selected ? "selected" : ""}`}
              style={{ borderLeftColor: riskColour(a.risk) }}
              onClick={() => navigate(`#/review/${encodeURIComponent(a.transactionId)}`)}
              data-testid="queue-row"
              data-id={a.transactionId}
            >
              <RiskBadge risk={a.risk} />
              <span class="queue-amount">{money(a.amount, a.currency)}</span>
              <span class="queue-where">
                {a.userId} · {a.merchantCategory ?? "–"} · {a.country ?? "–"}
              </span>
              <span class="queue-time">{time(a.createdAt)}</span>
            </button>
          </li>
        ))}
      </ul>
      {cursor === null ? null : (
        <button type="button" class="more" onClick={more} disabled={loading} data-testid="load-more">
          {loading ? "Loading…" : "Load more"}
        </button>
      )}
    </Panel>
  );
}

/** "page 2 of 41 · 1,213 open": pages of PAGE alerts, as far as "Load more" has gone. */
function QueueTotal({ total, shown }: { total: Total | undefined; shown: number }) {
  if (total === undefined)
    return (
      <span class="muted small" data-testid="queue-total" data-value="">
        –
      </span>
    );
  const more = total.capped ? "+" : "";
  const pages = Math.max(1, Math.ceil(total.n / PAGE));
  const page = Math.min(pages, Math.max(1, Math.ceil(shown / PAGE)));
  return (
    <span
      class="muted small"
      data-testid="queue-total"
      data-value={total.n}
      data-capped={total.capped}
      title={total.capped ? "Counting stops at this many; more alerts match" : undefined}
    >
      page {page} of {num(pages)}
      {more} · {num(total.n)}
      {more} open
    </span>
  );
}

function Detail({ id, onLabelled }: { id: string; onLabelled: (a: Alert) => void }) {
  const detail = useLoad((key, signal) => api.transaction(key, signal), id);
  const d = detail.data?.transaction.transactionId === id ? detail.data : undefined;
  if (d === undefined)
    return (
      <Panel title="Alert detail" testid="detail">
        {detail.error === undefined ? <p class="muted">Loading…</p> : <ErrorNote message={detail.error} />}
      </Panel>
    );
  const t = d.transaction;
  const explanation = readExplanation(t.explanation ?? d.alert?.explanation);
  return (
    <div class="stack" data-testid="detail" data-id={t.transactionId}>
      <Panel title="Alert detail" testid="detail-summary">
        <div class="summary">
          <RiskBadge risk={t.risk} />
          <strong class="summary-amount">{money(t.amount, t.currency)}</strong>
          <span>score {num(t.score, 3)}</span>
          <span>{t.decision}</span>
          <span class={`status status-${d.alert?.status ?? "none"}`} data-testid="detail-status">
            {d.alert === null ? "no alert" : d.alert.status.replace("_", " ")}
          </span>
        </div>
        <dl class="facts">
          <Fact k="Transaction" v={t.transactionId} />
          <Fact k="User" v={t.userId} />
          <Fact k="Event time" v={dateTime(t.eventTime)} />
          <Fact
            k="Merchant"
            v={`${t.merchantCategory ?? "–"}${t.merchantId === null ? "" : ` (${t.merchantId})`}`}
          />
          <Fact k="Country / channel" v={`${t.country ?? "–"} / ${t.channel ?? "–"}`} />
          <Fact k="Device / card" v={`${t.device ?? "–"} / ${t.cardId ?? "–"}`} />
          <Fact k="Model / rules" v={`${t.modelVersion} / ${t.ruleSetVersion}`} />
          {t.isFraud === null ? null : (
            <Fact
              k="Source label"
              v={t.isFraud ? `fraud${t.fraudType === null ? "" : ` (${t.fraudType})`}` : "legitimate"}
            />
          )}
          {d.alert?.reviewedBy == null ? null : (
            <Fact
              k="Reviewed"
              v={`${d.alert.reviewedBy} at ${dateTime(d.alert.reviewedAt ?? "")}${d.alert.note ? `: ${d.alert.note}` : ""}`}
            />
          )}
        </dl>
        {d.alert === null ? null : (
          <AssignBox
            id={t.transactionId}
            assignee={d.alert.assignee}
            onDone={(a) => detail.set({ ...d, alert: a })}
          />
        )}
        {d.alert === null ? null : (
          <LabelBox
            id={t.transactionId}
            status={d.alert.status}
            onDone={(a) => {
              detail.set({ ...d, alert: a });
              detail.reload();
              onLabelled(a);
            }}
          />
        )}
      </Panel>
      <Panel title="Why it was flagged" testid="explanation">
        <ExplanationView e={explanation} />
      </Panel>
      <Panel title="Features" testid="features">
        <FeatureTable features={t.features} factors={explanation} />
      </Panel>
      <Panel title={`${t.userId}: recent history`} testid="history">
        <History rows={d.history} current={t.transactionId} />
      </Panel>
      {d.feedback.length === 0 ? null : (
        <Panel title="Feedback" testid="feedback">
          <ul class="plain">
            {d.feedback.map((f) => (
              <li key={`${f.at}-${f.by}`}>
                {dateTime(f.at)} · {f.by}: <strong>{f.label.replace("_", " ")}</strong>
                {f.note === null ? "" : ` (${f.note})`}
              </li>
            ))}
          </ul>
        </Panel>
      )}
    </div>
  );
}

function Fact({ k, v }: { k: string; v: string }) {
  return (
    <>
      <dt>{k}</dt>
      <dd>{v}</dd>
    </>
  );
}

/** Who works on the alert, and "Assign to me" (or "Unassign" when it is the key's) for keys that may. */
function AssignBox({
  id,
  assignee,
  onDone,
}: {
  id: string;
  assignee: string | null;
  onDone: (a: Alert) => void;
}) {
  const { me, abilities, deny } = useShared();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  // biome-ignore lint/correctness/useExhaustiveDependencies: another alert starts without the old error
  useEffect(() => setError(undefined), [id]);

  const mine = me !== undefined && assignee === me.name;
  const send = async () => {
    setBusy(true);
    try {
      onDone(await api.assign(id, mine ? null : (me?.name ?? null)));
      setError(undefined);
    } catch (err) {
      deny("assign", err);
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  // Offered only when /api/me named the key (its name is what gets assigned) and allows it.
  const allowed = me !== undefined && abilities.assign === null;
  return (
    <div class="assign-box" data-testid="assign-box">
      <span>
        <span class="muted">Assignee </span>
        <strong data-testid="detail-assignee" data-value={assignee ?? ""}>
          {assignee ?? "nobody"}
        </strong>
      </span>
      {allowed ? (
        <button type="button" disabled={busy} onClick={() => void send()} data-testid="assign-me">
          {mine ? "Unassign" : "Assign to me"}
        </button>
      ) : null}
      {error === undefined ? null : (
        <p class="error" role="status" data-testid="assign-error">
          {error}
        </p>
      )}
    </div>
  );
}

function LabelBox({ id, status, onDone }: { id: string; status: string; onDone: (a: Alert) => void }) {
  const { stats, abilities, deny } = useShared();
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string }>();
  // biome-ignore lint/correctness/useExhaustiveDependencies: another alert starts with an empty form
  useEffect(() => {
    setNote("");
    setResult(undefined);
  }, [id]);

  const send = async (label: Label) => {
    setBusy(true);
    try {
      const a = await api.label(id, label, note);
      setResult({
        ok: true,
        text: `Labelled ${label === "confirmed_fraud" ? "confirmed fraud" : "false positive"}.`,
      });
      onDone(a);
      stats.refresh();
    } catch (err) {
      deny("label", err);
      setResult({ ok: false, text: describeError(err) });
    } finally {
      setBusy(false);
    }
  };
  const refused = abilities.label;
  // Until /api/me answers the buttons wait, so a viewer never sees them enabled.
  const off = busy || !abilities.known || refused !== null;
  return (
    <div class="label-box" data-testid="label-box">
      <input
        type="text"
        placeholder="Note (optional)"
        maxLength={2000}
        value={note}
        onInput={(e) => setNote(e.currentTarget.value)}
        disabled={off}
        aria-label="Note"
        data-testid="label-note"
      />
      <button
        type="button"
        class="danger"
        disabled={off}
        onClick={() => void send("confirmed_fraud")}
        title={refused ?? "Mark as fraud"}
        data-testid="label-fraud"
      >
        Confirm fraud
      </button>
      <button
        type="button"
        disabled={off}
        onClick={() => void send("false_positive")}
        title={refused ?? "Mark as a false alarm"}
        data-testid="label-fp"
      >
        False positive
      </button>
      {status === "open" ? null : <span class="muted small">Relabelling replaces the current label.</span>}
      {result === undefined ? null : (
        <p class={result.ok ? "ok" : "error"} role="status" data-testid="label-result">
          {result.text}
        </p>
      )}
      {refused === null || result !== undefined ? null : (
        <p class="error" data-testid="label-denied">
          This key cannot label alerts: {refused}.
        </p>
      )}
    </div>
  );
}

function ExplanationView({ e }: { e: ShownExplanation }) {
  if (e.factors.length === 0 && e.hits.length === 0 && e.points === null)
    return (
      <p class="muted" data-testid="explanation-empty">
        No explanation was stored with this decision (rows scored before explanations were recorded have
        none).
      </p>
    );
  const top = e.factors.slice(0, 12);
  const max = Math.max(1e-9, ...top.map((f) => Math.abs(f.contribution)));
  return (
    <div class="explanation">
      {e.points === null ? null : (
        <p class="points" data-testid="explanation-points">
          Points: model {featureValue(e.points.score)} + rules {featureValue(e.points.rules)} ={" "}
          <strong>{featureValue(e.points.total)}</strong>
        </p>
      )}
      {top.length === 0 ? null : (
        <>
          <h3>Model factors</h3>
          <ul class="factors" data-testid="explanation-factors">
            {top.map((f) => (
              <li key={f.feature} data-testid="factor">
                <span class="factor-name" title={f.feature}>
                  {f.feature}
                  <span class="muted"> = {featureValue(f.value)}</span>
                </span>
                <span class="factor-track">
                  <span
                    class={f.contribution >= 0 ? "factor-pos" : "factor-neg"}
                    style={{ width: `${(Math.abs(f.contribution) / max) * 50}%` }}
                  />
                </span>
                <span class="factor-value">
                  {f.contribution >= 0 ? "+" : ""}
                  {f.contribution.toFixed(3)}
                </span>
              </li>
            ))}
          </ul>
          <p class="muted small">
            Right (red): pushed the score towards anomalous; left (green): towards normal.
          </p>
        </>
      )}
      {e.hits.length === 0 ? null : (
        <>
          <h3>Rule hits</h3>
          <ul class="hits" data-testid="explanation-hits">
            {e.hits.map((h) => (
              <li key={h.id} data-testid="rule-hit">
                <code>{h.id}</code>
                <span class="hit-weight">{h.weight === undefined ? "" : `+${featureValue(h.weight)}`}</span>
                {h.description === undefined ? null : <span class="muted"> {h.description}</span>}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function FeatureTable({
  features,
  factors,
}: {
  features: Record<string, number | null>;
  factors: ShownExplanation;
}) {
  const contribution = new Map(factors.factors.map((f) => [f.feature, f.contribution]));
  const names = Object.keys(features).sort();
  if (names.length === 0) return <p class="muted">No features stored.</p>;
  return (
    <div class="table-wrap">
      <table class="compact" data-testid="features-table">
        <thead>
          <tr>
            <th>Feature</th>
            <th class="num">Value</th>
            {contribution.size === 0 ? null : <th class="num">Contribution</th>}
          </tr>
        </thead>
        <tbody>
          {names.map((n) => {
            const c = contribution.get(n);
            return (
              <tr key={n} data-testid="feature-row">
                <td>{n}</td>
                <td class="num">{featureValue(features[n])}</td>
                {contribution.size === 0 ? null : (
                  <td class="num">{c === undefined ? "" : `${c >= 0 ? "+" : ""}${c.toFixed(3)}`}</td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function History({ rows, current }: { rows: TransactionDetail["history"]; current: string }) {
  if (rows.length === 0) return <p class="muted">No earlier transactions of this user.</p>;
  return (
    <div class="table-wrap">
      <table class="compact" data-testid="history-table">
        <thead>
          <tr>
            <th>Time</th>
            <th class="num">Amount</th>
            <th>Category</th>
            <th>Country</th>
            <th>Channel</th>
            <th class="num">Score</th>
            <th>Risk</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((h) => (
            <tr
              key={h.transactionId}
              class={h.transactionId === current ? "current" : ""}
              data-testid="history-row"
            >
              <td>{dateTime(h.eventTime)}</td>
              <td class="num">{money(h.amount, h.currency)}</td>
              <td>{h.merchantCategory ?? "–"}</td>
              <td>{h.country ?? "–"}</td>
              <td>{h.channel ?? "–"}</td>
              <td class="num">{num(h.score, 2)}</td>
              <td>
                <span class="dot" style={{ background: riskColour(h.risk) }} />
                {h.risk}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
