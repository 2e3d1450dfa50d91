// The explanation panel's reading of a stored explanation. Its shape is StoredExplanation (declared
// once in src/contract/outputs.ts; every part optional, as older rows have `{}` or null). The API
// already serves only the parts that match, but this still checks each part and ignores anything
// malformed rather than failing the whole panel (the response is cast, not validated, on this side).
import type {
  StoredExplanation,
  StoredFactor,
  StoredPoints,
  StoredRuleHit,
} from "../../src/contract/outputs.ts";

/** A factor that can be drawn as a bar: it has a contribution. */
export type DrawnFactor = StoredFactor & { contribution: number };

export interface ShownExplanation {
  /** Heaviest first. */
  hits: StoredRuleHit[];
  /** Largest |contribution| first. */
  factors: DrawnFactor[];
  points: StoredPoints | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const finite = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isFinite(v) ? v : undefined;

export function readExplanation(raw: StoredExplanation | null | undefined): ShownExplanation {
  const hits: StoredRuleHit[] = [];
  const factors: DrawnFactor[] = [];
  let points: StoredPoints | null = null;
  if (!isRecord(raw)) return { hits, factors, points };
  if (Array.isArray(raw.hits))
    for (const h of raw.hits as unknown[]) {
      if (!isRecord(h) || typeof h.id !== "string") continue;
      hits.push({
        id: h.id,
        weight: finite(h.weight),
        description: typeof h.description === "string" ? h.description : undefined,
      });
    }
  if (Array.isArray(raw.factors))
    for (const f of raw.factors as unknown[]) {
      if (!isRecord(f) || typeof f.feature !== "string") continue;
      const contribution = finite(f.contribution);
      // A factor without a contribution cannot be drawn as a bar; its value still shows in the features table.
      if (contribution === undefined) continue;
      factors.push({ feature: f.feature, value: finite(f.value), contribution });
    }
  factors.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  hits.sort((a, b) => (b.weight ?? 0) - (a.weight ?? 0));
  const p: unknown = raw.points;
  if (isRecord(p)) points = { score: finite(p.score), rules: finite(p.rules), total: finite(p.total) };
  return { hits, factors, points };
}
