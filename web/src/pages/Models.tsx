// Models: the registry, newest first, with promote and roll back for admin keys. Workers pick a change
// up on their next reload poll, so the page says so rather than pretending it is instant.
import { useState } from "preact/hooks";
import { api, describeError, type ModelSummary } from "../api.ts";
import { ErrorNote, Panel } from "../components/Bits.tsx";
import { dateTime } from "../format.ts";
import { useLoad } from "../hooks.ts";
import { useShared } from "../shared.ts";

export function ModelsPage() {
  const models = useLoad((_k, signal) => api.models(signal), "models");
  const { abilities, deny } = useShared();
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState<string | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string }>();

  const act = async (what: () => Promise<string>) => {
    setBusy(true);
    setConfirm(null);
    try {
      setResult({ ok: true, text: await what() });
      models.reload();
    } catch (err) {
      deny("admin", err);
      setResult({ ok: false, text: describeError(err) });
    } finally {
      setBusy(false);
    }
  };
  const promote = (id: string) =>
    act(async () => {
      const r = await api.promote(id);
      return `${r.active} is now active${r.previous === null ? "" : ` (was ${r.previous})`}; workers switch on their next reload.`;
    });
  const rollback = () =>
    act(async () => {
      const r = await api.rollback();
      return `Rolled back from ${r.from} to ${r.to}; workers switch on their next reload.`;
    });
  const refused = abilities.admin;
  const off = busy || !abilities.known || refused !== null;
  const list = models.data ?? [];

  return (
    <Panel
      title="Models"
      testid="models"
      actions={
        <span class="actions">
          <button
            type="button"
            onClick={() => (confirm === "rollback" ? void rollback() : setConfirm("rollback"))}
            disabled={off || list.length < 2}
            title={refused ?? "Re-activate the model that was active before the current one"}
            data-testid="rollback"
          >
            {confirm === "rollback" ? "Confirm roll back" : "Roll back"}
          </button>
          <button type="button" onClick={models.reload} disabled={models.loading}>
            Refresh
          </button>
        </span>
      }
    >
      <ErrorNote message={models.error} />
      {result === undefined ? null : (
        <p class={result.ok ? "ok" : "error"} role="status" data-testid="models-result">
          {result.text}
        </p>
      )}
      {refused === null ? null : <p class="muted small">Promoting and rolling back need an admin key.</p>}
      {models.data !== undefined && list.length === 0 ? (
        <p class="muted" data-testid="models-empty">
          No models registered yet. Until one is promoted, workers score with the built-in scorer whose
          version each alert shows. Register one with <code>fraudstream model register</code>.
        </p>
      ) : null}
      {list.length === 0 ? null : (
        <div class="table-wrap">
          <table class="compact" data-testid="models-table">
            <thead>
              <tr>
                <th>Model</th>
                <th>Status</th>
                <th>Kind</th>
                <th class="num">Features</th>
                <th>Metrics</th>
                <th>Registered</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((m) => (
                <tr key={m.id} data-testid="model-row" data-status={m.status}>
                  <td>
                    <code title={`sha256 ${m.sha256}`}>{m.id}</code>
                  </td>
                  <td>
                    <span class={`status status-${m.status}`}>{m.status}</span>
                  </td>
                  <td>{m.kind}</td>
                  <td class="num" title={m.featureNames.join(", ")}>
                    {m.featureNames.length}
                  </td>
                  <td>{metrics(m)}</td>
                  <td>
                    {dateTime(m.registeredAt)} · {m.registeredBy}
                  </td>
                  <td>
                    {m.status === "active" ? null : (
                      <button
                        type="button"
                        onClick={() => (confirm === m.id ? void promote(m.id) : setConfirm(m.id))}
                        disabled={off}
                        title={refused ?? "Make this the active model"}
                        data-testid="promote"
                      >
                        {confirm === m.id ? "Confirm promote" : "Promote"}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}

/** Registered metrics are free-form; show the few numeric ones an analyst compares models by. */
function metrics(m: ModelSummary): string {
  if (m.metrics === null) return "–";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(m.metrics)) {
    if (typeof v !== "number" || !Number.isFinite(v)) continue;
    parts.push(`${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`);
    if (parts.length === 4) break;
  }
  return parts.length === 0 ? "–" : parts.join(" · ");
}
