// Data hooks: polling that never overlaps itself and can be nudged, and loading with cancellation.
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
  loading: boolean;
  reload: () => void;
  set: (value: T) => void;
}

/** Loads once per `key` (null: nothing to load); a newer key cancels the older request. */
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

  // biome-ignore lint/correctness/useExhaustiveDependencies: generation is the reload trigger
  useEffect(() => {
    if (key === null) {
      setData(undefined);
      setError(undefined);
      return;
    }
    const ctrl = new AbortController();
    setLoading(true);
    loadRef
      .current(key, ctrl.signal)
      .then((value) => {
        if (ctrl.signal.aborted) return;
        setData(value);
        setError(undefined);
      })
      .catch((err: unknown) => {
        if (!ctrl.signal.aborted) setError(describeError(err));
      })
      .finally(() => {
        if (!ctrl.signal.aborted) setLoading(false);
      });
    return () => ctrl.abort();
  }, [key, generation]);

  return {
    data,
    error,
    loading,
    reload: useCallback(() => setGeneration((g) => g + 1), []),
    set: useCallback((value: T) => setData(value), []),
  };
}
