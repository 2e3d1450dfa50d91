// The shell: the API key (from the link, the tab's session storage, or a prompt) and what it may do
// (GET /api/me), the hash routes, the stats tiles every page shares (polled every 2 s) and the live
// stream, which stays open across pages.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, api, describeError, initKey, setKey, setUnauthorizedListener } from "./api.ts";
import { ms, num, pct } from "./format.ts";
import { useLoad, usePolling } from "./hooks.ts";
import { LivePage } from "./pages/Live.tsx";
import { ModelPage } from "./pages/Model.tsx";
import { ModelsPage } from "./pages/Models.tsx";
import { ReviewPage } from "./pages/Review.tsx";
import {
  type Ability,
  abilitiesOf,
  bucketFor,
  SharedContext,
  StreamContext,
  useShared,
  useStream,
} from "./shared.ts";
import { useAlertStream } from "./stream.ts";

const STATS_EVERY_MS = 2000;

type Route =
  | { page: "live" }
  | { page: "review"; id: string | null }
  | { page: "model" }
  | { page: "models" };

function parseRoute(hash: string): Route {
  const [page, ...rest] = hash.replace(/^#\/?/, "").split("/");
  switch (page) {
    case "review": {
      const id = rest.join("/");
      return { page: "review", id: id === "" ? null : decodeURIComponent(id) };
    }
    case "model":
      return { page: "model" };
    case "models":
      return { page: "models" };
    default:
      return { page: "live" };
  }
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

export function App() {
  const [key, setKeyState] = useState<string | null>(() => initKey());
  const [authError, setAuthError] = useState<string>();

  useEffect(() => {
    setUnauthorizedListener((err) => {
      setKey(null);
      setKeyState(null);
      setAuthError(describeError(err));
    });
  }, []);

  if (key === null)
    return (
      <KeyPrompt
        error={authError}
        onKey={(k) => {
          setKey(k);
          setAuthError(undefined);
          setKeyState(k);
        }}
      />
    );
  return (
    <Dashboard
      apiKey={key}
      onForget={() => {
        setKey(null);
        setKeyState(null);
      }}
    />
  );
}

function KeyPrompt({ error, onKey }: { error: string | undefined; onKey: (key: string) => void }) {
  const [value, setValue] = useState("");
  const [checking, setChecking] = useState(false);
  const [problem, setProblem] = useState(error);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    const k = value.trim();
    if (k === "") return;
    setChecking(true);
    // Try the key before switching to the dashboard, so a typo is reported here.
    setKey(k);
    try {
      await api.me();
      onKey(k);
    } catch (err) {
      setKey(null);
      setProblem(err instanceof ApiError ? describeError(err) : String(err));
    } finally {
      setChecking(false);
    }
  };
  return (
    <main class="prompt" data-testid="key-prompt">
      <form onSubmit={submit}>
        <h1>fraudstream</h1>
        <p>
          Enter an API key. <code>fraudstream demo</code> prints a link that signs in by itself; the key is
          kept for this browser tab only.
        </p>
        <label>
          API key
          <input
            type="password"
            autoComplete="off"
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
            data-testid="key-input"
          />
        </label>
        <button type="submit" disabled={checking} data-testid="key-submit">
          {checking ? "Checking…" : "Open dashboard"}
        </button>
        {problem === undefined ? null : (
          <p class="error" role="alert" data-testid="auth-error">
            {problem}
          </p>
        )}
      </form>
    </main>
  );
}

function Dashboard({ apiKey, onForget }: { apiKey: string; onForget: () => void }) {
  const route = useRoute();
  const [statsWindow, setStatsWindow] = useState(900);
  const stats = usePolling(
    (signal) => api.stats(statsWindow, bucketFor(statsWindow), signal),
    STATS_EVERY_MS,
    `${apiKey}:${statsWindow}`,
  );
  const me = useLoad((_key, signal) => api.me(signal), apiKey);
  const [denied, setDenied] = useState<Partial<Record<Ability, string>>>({});
  const deny = useCallback((what: Ability, err: unknown) => {
    if (err instanceof ApiError && err.status === 403) setDenied((d) => ({ ...d, [what]: err.message }));
  }, []);
  const meFailed = me.error !== undefined;
  const abilities = useMemo(() => abilitiesOf(me.data, meFailed, denied), [me.data, meFailed, denied]);
  const shared = useMemo(
    () => ({ stats, statsWindow, setStatsWindow, me: me.data, abilities, deny }),
    [stats, statsWindow, me.data, abilities, deny],
  );

  return (
    <SharedContext.Provider value={shared}>
      <StreamProvider apiKey={apiKey}>
        <header class="top">
          <span class="brand">fraudstream</span>
          <nav>
            {(
              [
                ["live", "Live"],
                ["review", "Review"],
                ["model", "Model"],
                ["models", "Models"],
              ] as const
            ).map(([page, label]) => (
              <a
                key={page}
                href={`#/${page}`}
                class={route.page === page ? "active" : ""}
                aria-current={route.page === page ? "page" : undefined}
                data-testid={`nav-${page}`}
              >
                {label}
              </a>
            ))}
          </nav>
          <StreamState />
          {me.data === undefined ? null : (
            <span class="key-role" title={`Signed in as ${me.data.name}`} data-testid="key-role">
              {me.data.role}
            </span>
          )}
          <button type="button" class="link" onClick={onForget} data-testid="sign-out">
            Forget key
          </button>
        </header>
        <Tiles />
        <main class="page">
          {route.page === "live" && <LivePage />}
          {route.page === "review" && <ReviewPage selected={route.id} />}
          {route.page === "model" && <ModelPage />}
          {route.page === "models" && <ModelsPage />}
        </main>
      </StreamProvider>
    </SharedContext.Provider>
  );
}

// Owns the stream so that its frequent updates re-render only its consumers: the children arrive as
// already-built elements, which Preact does not diff again when the provider alone re-renders.
function StreamProvider({ apiKey, children }: { apiKey: string; children: ComponentChildren }) {
  const stream = useAlertStream(apiKey);
  return <StreamContext.Provider value={stream}>{children}</StreamContext.Provider>;
}

function StreamState() {
  const { state } = useStream();
  return (
    <span class={`stream-state ${state}`} data-testid="stream-state" title="Live alert stream">
      {state}
    </span>
  );
}

function Tile(props: {
  testid: string;
  label: string;
  value: string;
  raw: number | null | undefined;
  hint?: string;
}) {
  return (
    <div class="tile" data-testid={props.testid} data-value={props.raw ?? ""} title={props.hint}>
      <span class="tile-label">{props.label}</span>
      <span class="tile-value">{props.value}</span>
    </div>
  );
}

function Tiles() {
  const { stats, statsWindow } = useShared();
  const s = stats.data;
  const span = `last ${statsWindow >= 3600 ? `${statsWindow / 3600} h` : `${statsWindow / 60} min`}`;
  return (
    <div class="tiles-wrap">
      <div class="tiles" data-testid="tiles">
        <Tile
          testid="tile-eps"
          label="Events / s"
          value={num(s?.eventsPerSecond, 1)}
          raw={s?.eventsPerSecond}
          hint="over the last 10 s"
        />
        <Tile
          testid="tile-alert-rate"
          label="Alert rate"
          value={pct(s?.alertRate, 2)}
          raw={s?.alertRate}
          hint={`HIGH + CRITICAL share, ${span}`}
        />
        <Tile
          testid="tile-p99"
          label="p99 latency"
          value={ms(s?.latencyMs.p99)}
          raw={s?.latencyMs.p99}
          hint="produced → decided, last minute"
        />
        <Tile testid="tile-open" label="Open alerts" value={num(s?.openAlerts)} raw={s?.openAlerts} />
        <Tile
          testid="tile-labels"
          label="Labelled fraud / FP"
          value={s === undefined ? "–" : `${num(s.labels.confirmedFraud)} / ${num(s.labels.falsePositive)}`}
          raw={s === undefined ? null : s.labels.confirmedFraud + s.labels.falsePositive}
          hint="analyst labels, all time"
        />
        <Tile
          testid="tile-fp-rate"
          label="False-positive rate"
          value={pct(s?.labels.falsePositiveRate)}
          raw={s?.labels.falsePositiveRate}
          hint="false positives / labelled alerts"
        />
      </div>
      {stats.error === undefined ? null : (
        <p class="error" role="alert" data-testid="stats-error">
          {stats.error}
        </p>
      )}
    </div>
  );
}
