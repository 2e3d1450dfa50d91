// The stored explanation is free-form JSON (older rows have `{}` or null); this reads the parts the
// dashboard knows and ignores anything malformed rather than failing the whole panel.
export interface RuleHit {
  id: string;
  weight: number | null;
  description: string | null;
}

export interface Factor {
  feature: string;
  value: number | null;
  contribution: number;
}

export interface Points {
  score: number | null;
  rules: number | null;
  total: number | null;
}

export interface Explanation {
  hits: RuleHit[];
  factors: Factor[];
  points: Points | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const finite = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

export function readExplanation(raw: Record<string, unknown> | null | undefined): Explanation {
  const hits: RuleHit[] = [];
  const factors: Factor[] = [];
  let points: Points | null = null;
  if (raw === null || raw === undefined) return { hits, factors, points };
  if (Array.isArray(raw.hits))
    for (const h of raw.hits) {
      if (!isRecord(h) || typeof h.id !== "string") continue;
      hits.push({
        id: h.id,
        weight: finite(h.weight),
        description: typeof h.description === "string" ? h.description : null,
      });
    }
  if (Array.isArray(raw.factors))
    for (const f of raw.factors) {
      if (!isRecord(f) || typeof f.feature !== "string") continue;
      const contribution = finite(f.contribution);
      // A factor without a contribution cannot be drawn as a bar; its value still shows in the features table.
      if (contribution === null) continue;
      factors.push({ feature: f.feature, value: finite(f.value), contribution });
    }
  factors.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  hits.sort((a, b) => (b.weight ?? 0) - (a.weight ?? 0));
  if (isRecord(raw.points))
    points = {
      score: finite(raw.points.score),
      rules: finite(raw.points.rules),
      total: finite(raw.points.total),
    };
  return { hits, factors, points };
}
