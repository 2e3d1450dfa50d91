// The live alert feed: the newest alerts from the list endpoint, then new ones from the SSE stream.
// EventSource reconnects by itself and sends Last-Event-ID, so the server replays from its mark; an
// alert may then arrive twice, never be missed, hence the de-duplication by transaction id. Arrivals
// are applied in batches a few times a second: at 1,000+ alerts a minute a render per event would
// spend the main thread on layout.
import { useEffect, useRef, useState } from "preact/hooks";
import { type Alert, ApiError, api, describeError } from "./api.ts";

/** Alerts kept in the feed; older ones are for the review queue. */
const KEEP = 150;
const FLUSH_MS = 250;

export type StreamState = "connecting" | "live" | "reconnecting" | "closed";

export interface AlertStream {
  alerts: Alert[];
  state: StreamState;
  error: string | undefined;
  /** Distinct alerts received over the stream since the page opened. */
  received: number;
}

export function useAlertStream(key: string): AlertStream {
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [state, setState] = useState<StreamState>("connecting");
  const [error, setError] = useState<string>();
  const [received, setReceived] = useState(0);
  const seen = useRef(new Set<string>());

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new key must reconnect (the URL carries it)
  useEffect(() => {
    let closed = false;
    let pending: Alert[] = [];
    let receivedCount = 0;
    seen.current.clear();

    const merge = (incoming: Alert[], fromStream: boolean) => {
      const fresh: Alert[] = [];
      for (const a of incoming) {
        if (seen.current.has(a.transactionId)) continue;
        seen.current.add(a.transactionId);
        fresh.push(a);
      }
      if (fresh.length === 0) return;
      if (fromStream) {
        receivedCount += fresh.length;
        setReceived(receivedCount);
      }
      setAlerts((old) => {
        const next = [...fresh, ...old].sort((a, b) => b.seq - a.seq).slice(0, KEEP);
        // The set only has to remember what could still come again: the kept window.
        if (seen.current.size > KEEP * 20) seen.current = new Set(next.map((a) => a.transactionId));
        return next;
      });
    };

    const es = new EventSource(api.streamUrl());
    es.addEventListener("alert", (ev: MessageEvent<string>) => {
      try {
        pending.push(JSON.parse(ev.data) as Alert);
      } catch {}
    });
    es.onopen = () => {
      setState("live");
      setError(undefined);
    };
    es.onerror = () => {
      if (es.readyState !== EventSource.CLOSED) {
        setState("reconnecting");
        return;
      }
      // EventSource hides the status of a refused connection; ask the API why.
      setState("closed");
      api
        .alerts({ limit: 1 })
        .then(() => setError("The live stream closed; reload the page to reconnect."))
        .catch((err: unknown) => setError(describeError(err)));
    };
    const timer = window.setInterval(() => {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      merge(batch, true);
    }, FLUSH_MS);

    // Seed with the newest alerts so the feed is not empty until the next one arrives.
    api
      .alerts({ limit: 50 })
      .then((page) => {
        if (!closed) merge(page.items, false);
      })
      .catch((err: unknown) => {
        if (!closed && err instanceof ApiError) setError(describeError(err));
      });

    return () => {
      closed = true;
      es.close();
      window.clearInterval(timer);
    };
  }, [key]);

  return { alerts, state, error, received };
}
