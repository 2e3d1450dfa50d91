// State every page shares, as contexts: the stats poll, what the key was refused, and the live stream.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Stats } from "./api.ts";
import type { Polled } from "./hooks.ts";
import type { AlertStream } from "./stream.ts";

/**
 * Why the key may not label or administer, as the API said in a 403; null until it refuses. Learnt on
 * the first attempt because no endpoint tells a key's role.
 */
export interface Abilities {
  label: string | null;
  admin: string | null;
}

interface Shared {
  stats: Polled<Stats>;
  statsWindow: number;
  setStatsWindow: (s: number) => void;
  denied: Abilities;
  deny: (what: keyof Abilities, err: unknown) => void;
}

export const SharedContext = createContext<Shared | null>(null);
export function useShared(): Shared {
  const s = useContext(SharedContext);
  if (s === null) throw new Error("useShared outside the app");
  return s;
}

// Separate from the rest: it changes several times a second, and only the feed needs it.
export const StreamContext = createContext<AlertStream | null>(null);
export function useStream(): AlertStream {
  const s = useContext(StreamContext);
  if (s === null) throw new Error("useStream outside the app");
  return s;
}

export function navigate(hash: string): void {
  if (location.hash !== hash) location.hash = hash;
}
