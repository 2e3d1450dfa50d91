// Data hooks: polling that never overlaps itself and can be nudged, and loading (with "load more") with
// cancellation.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { describeError } from "./api.ts";

export interface Polled<T> {
  data: T | undefined;
  error: string | undefined;
  /** Fetch now (after a write whose effect should show at once). */
  refresh: () => void;
}

/**
 * Calls `load` every `intervalMs`, waiting for each call to finish before scheduling the next, so a slow
 * API sees at most one request in flight from this hook. Restarts when `key` changes.
 */
export function usePolling<T>(
  load: (signal: AbortSignal) => Promise<T>,
  intervalMs: number,
  key: string,
): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const kick = useRef<() => void>(() => {});
  const loadRef = useRef(load);
  loadRef.current = load;

  // biome-ignore lint/correctness/useExhaustiveDependencies: key names what is polled; a new one restarts
  useEffect(() => {
    const ctrl = new AbortController();
    let timer: number | undefined;
    let inFlight = false;
    let again = false;
    const tick = async () => {
      window.clearTimeout(timer);
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      try {
        const value = await loadRef.current(ctrl.signal);
        if (ctrl.signal.aborted) return;
        setData(value);
        setError(undefined);
      } catch (err) {
        if (ctrl.signal.aborted) return;
        setError(describeError(err));
      } finally {
        inFlight = false;
      }
      if (ctrl.signal.aborted) return;
      if (again) {
        again = false;
        void tick();
      } else timer = window.setTimeout(() => void tick(), intervalMs);
    };
    kick.current = () => void tick();
    void tick();
    return () => {
      ctrl.abort();
      window.clearTimeout(timer);
    };
  }, [intervalMs, key]);

  const refresh = useCallback(() => kick.current(), []);
  return { data, error, refresh };
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  /** A first load or a `more` is in flight. */
  loading: boolean;
  reload: () => void;
  set: (value: T) => void;
  /** Replaces the data with `fn(data)`, applied to the newest data; nothing while there is none. */
  update: (fn: (current: T) => T) => void;
  /**
   * Continues the current key's data ("load more"): `fetch`es the next part and folds it in with
   * `merge(data, next)`, applied to the data as it is when the part arrives. Loading and errors are
   * reported as for the first load (an error keeps the data), and a newer key or a reload drops the
   * part. Nothing is fetched while the key is null, and nothing merged while there is no data.
   */
  more: <P>(fetch: (signal: AbortSignal) => Promise<P>, merge: (current: T, next: P) => T) => void;
}

/**
 * Loads once per `key` (null: nothing to load); a newer key (or a reload) cancels the older request,
 * and any `more` still on its way.
 */
export function useLoad<T>(
  load: (key: string, signal: AbortSignal) => Promise<T>,
  key: string | null,
): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  // The current key's controller: `more` runs under it, so whatever ends the first load ends it too.
  const live = useRef<AbortController | null>(null);

  /** Runs `request` under `ctrl`, keeping its result, error and loading state only while `ctrl` is live. */
  const track = useCallback(<V>(ctrl: AbortController, request: Promise<V>, keep: (value: V) => void) => {
    setLoading(true);
    request
      .then((value) => {
        if (ctrl.signal.aborted) return;
        keep(value);
        setError(undefined);
      })
      .catch((err: unknown) => {
        if (!ctrl.signal.aborted) setError(describeError(err));
      })
      .finally(() => {
        if (!ctrl.signal.aborted) setLoading(false);
      });
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: generation is the reload trigger
  useEffect(() => {
    if (key === null) {
      live.current = null;
      setData(undefined);
      setError(undefined);
      return;
    }
    const ctrl = new AbortController();
    live.current = ctrl;
    track(ctrl, loadRef.current(key, ctrl.signal), setData);
    return () => ctrl.abort();
  }, [key, generation]);

  const update = useCallback(
    (fn: (current: T) => T) => setData((old) => (old === undefined ? old : fn(old))),
    [],
  );
  const more = useCallback(
    <P>(fetch: (signal: AbortSignal) => Promise<P>, merge: (current: T, next: P) => T) => {
      const ctrl = live.current;
      if (ctrl === null || ctrl.signal.aborted) return;
      track(ctrl, fetch(ctrl.signal), (next) => update((old) => merge(old, next)));
    },
    [track, update],
  );

  return {
    data,
    error,
    loading,
    reload: useCallback(() => setGeneration((g) => g + 1), []),
    set: useCallback((value: T) => setData(value), []),
    update,
    more,
  };
}
