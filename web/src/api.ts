// The dashboard's only door to the API. Payload types come from the API's own zod schemas (type-only
// imports, erased from the bundle), so a change of shape there fails the web typecheck here.
import type { z } from "zod";
import type {
  AlertPageSchema,
  AlertSchema,
  MeSchema,
  ModelPerformanceSchema,
  ModelSummarySchema,
  StatsSchema,
  TransactionDetailSchema,
} from "../../src/api/schemas.ts";

export type Alert = z.output<typeof AlertSchema>;
export type AlertPage = z.output<typeof AlertPageSchema>;
export type Me = z.output<typeof MeSchema>;
export type Stats = z.output<typeof StatsSchema>;
export type TransactionDetail = z.output<typeof TransactionDetailSchema>;
export type ModelPerformance = z.output<typeof ModelPerformanceSchema>;
export type ModelSummary = z.output<typeof ModelSummarySchema>;
export type Label = "confirmed_fraud" | "false_positive";

const STORAGE_KEY = "fraudstream.apiKey";

/**
 * Takes `#key=…` off the address bar (so it ends up neither in the history nor in a shared link) and
 * keeps it for this tab only. Returns the key in use, or null when the user must type one.
 */
export function initKey(): string | null {
  const m = /(?:^#|[&?/])key=([^&]+)/.exec(location.hash);
  if (m?.[1] !== undefined) {
    sessionStorage.setItem(STORAGE_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", `${location.pathname}${location.search}#/live`);
  }
  return sessionStorage.getItem(STORAGE_KEY);
}

export function setKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(STORAGE_KEY);
  else sessionStorage.setItem(STORAGE_KEY, key);
}

function currentKey(): string {
  return sessionStorage.getItem(STORAGE_KEY) ?? "";
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A sentence for people: what went wrong and, for auth failures, what to do about it. */
export function describeError(err: unknown): string {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  switch (err.status) {
    case 401:
      return `Not signed in (401): ${err.message}. Open the dashboard link the demo printed, or enter a key.`;
    case 403:
      return `Not allowed for this key (403): ${err.message}.`;
    case 429:
      return "Too many requests (429): the API's rate limit for this key was reached; retrying shortly.";
    case 0:
      return `The API cannot be reached: ${err.message}.`;
    default:
      return `${err.message} (${err.status})`;
  }
}

type UnauthorizedListener = (err: ApiError) => void;
let onUnauthorized: UnauthorizedListener = () => {};
/** The app shows the key prompt when any call finds the key rejected. */
export function setUnauthorizedListener(fn: UnauthorizedListener): void {
  onUnauthorized = fn;
}

async function request<T>(
  path: string,
  init: { method?: string; body?: unknown; signal?: AbortSignal } = {},
) {
  const headers: Record<string, string> = {
    authorization: `Bearer ${currentKey()}`,
    accept: "application/json",
  };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? "GET",
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      ...(init.signal === undefined ? {} : { signal: init.signal }),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(0, "network", err instanceof Error ? err.message : String(err));
  }
  if (!res.ok) {
    let code = "error";
    let message = res.statusText || "request failed";
    try {
      const body = (await res.json()) as { error?: unknown; message?: unknown };
      if (typeof body.error === "string") code = body.error;
      if (typeof body.message === "string") message = body.message;
    } catch {}
    const err = new ApiError(res.status, code, message);
    if (res.status === 401) onUnauthorized(err);
    throw err;
  }
  return (await res.json()) as T;
}

const q = (params: Record<string, string | number | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") s.set(k, String(v));
  const text = s.toString();
  return text === "" ? "" : `?${text}`;
};

// Relative paths: the dashboard is served by the API itself, possibly behind a path prefix.
export const api = {
  me: (signal?: AbortSignal) => request<Me>("api/me", { signal }),
  stats: (windowSeconds: number, bucketSeconds: number, signal?: AbortSignal) =>
    request<Stats>(`api/stats${q({ window: windowSeconds, bucket: bucketSeconds })}`, { signal }),
  alerts: (
    p: { status?: string; risk?: string; cursor?: number; limit?: number; user_id?: string },
    signal?: AbortSignal,
  ) => request<AlertPage>(`api/alerts${q(p)}`, { signal }),
  transaction: (id: string, signal?: AbortSignal) =>
    request<TransactionDetail>(`api/transactions/${encodeURIComponent(id)}`, { signal }),
  label: (id: string, label: Label, note: string) =>
    request<Alert>(`api/alerts/${encodeURIComponent(id)}/feedback`, {
      method: "POST",
      body: note.trim() === "" ? { label } : { label, note: note.trim() },
    }),
  assign: (id: string, assignee: string | null) =>
    request<Alert>(`api/alerts/${encodeURIComponent(id)}/assign`, { method: "POST", body: { assignee } }),
  modelPerformance: (signal?: AbortSignal) =>
    request<ModelPerformance>(`api/stats/model${q({ points: 200 })}`, { signal }),
  models: (signal?: AbortSignal) => request<ModelSummary[]>("api/models", { signal }),
  promote: (id: string) =>
    request<{ active: string; previous: string | null }>(`api/models/${encodeURIComponent(id)}/promote`, {
      method: "POST",
      body: {},
    }),
  rollback: () => request<{ from: string; to: string }>("api/models/rollback", { method: "POST", body: {} }),
  streamUrl: () => `api/alerts/stream${q({ access_token: currentKey() })}`,
};
