// State every page shares, as contexts: the stats poll, the key's identity and what it may do, and the
// live stream.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Me, Stats } from "./api.ts";
import type { Polled } from "./hooks.ts";
import type { AlertStream } from "./stream.ts";

export type Ability = "label" | "assign" | "admin";

/**
 * What the key may do: null when allowed, otherwise why not. From GET /api/me; a 403 the API answers
 * anyway (the API restarted with other keys under an open tab) overrides it.
 */
export interface Abilities extends Record<Ability, string | null> {
  /** False until /api/me answered, so that a viewer never sees a button enabled for a moment. */
  known: boolean;
}

/**
 * Abilities from /api/me (`me`), or, when it failed (`failed`), none refused up front: the API still
 * decides, and a 403 lands in `denied`.
 */
export function abilitiesOf(
  me: Me | undefined,
  failed: boolean,
  denied: Partial<Record<Ability, string>>,
): Abilities {
  const known = me !== undefined || failed;
  const why = (allowed: boolean | undefined) =>
    allowed === false && me !== undefined ? `its role is ${me.role}` : null;
  return {
    known,
    label: denied.label ?? why(me?.canLabel),
    assign: denied.assign ?? why(me?.canAssign),
    admin: denied.admin ?? why(me?.canAdmin),
  };
}

/** Width of the rate chart's buckets for a stats window: a round size giving about 60 points. */
export function bucketFor(windowSeconds: number): number {
  const sizes = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400];
  return sizes.find((s) => s >= windowSeconds / 60) ?? 86_400;
}

interface Shared {
  stats: Polled<Stats>;
  statsWindow: number;
  setStatsWindow: (s: number) => void;
  /** The key as the API sees it; undefined until GET /api/me answers (or if it fails). */
  me: Me | undefined;
  abilities: Abilities;
  deny: (what: Ability, err: unknown) => void;
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
