// Number and time formatting shared by every panel; one place so tiles, tables and charts agree.
import type { RiskLevel } from "../../src/contract/outputs.ts";

/** A colour for every risk level (the type makes a new level without one a typecheck error). */
export const RISK_COLOUR: Record<RiskLevel, string> = {
  LOW: "#2f855a",
  MEDIUM: "#b7791f",
  HIGH: "#dd6b20",
  CRITICAL: "#c53030",
};

export const riskColour = (risk: string): string => RISK_COLOUR[risk as RiskLevel] ?? "#718096";

export function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? "–" : `${(x * 100).toFixed(digits)}%`;
}

export function num(x: number | null | undefined, digits = 0): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  return x.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function ms(x: number | null | undefined): string {
  if (x === null || x === undefined) return "–";
  return x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`;
}

export function money(amount: number, currency: string): string {
  try {
    return amount.toLocaleString("en", {
      style: "currency",
      currency,
      currencyDisplay: "narrowSymbol",
      // Cents add nothing to a large amount but width, which a phone-wide feed row does not have.
      ...(Math.abs(amount) >= 10_000 ? { minimumFractionDigits: 0, maximumFractionDigits: 0 } : {}),
    });
  } catch {
    return `${amount.toFixed(2)} ${currency}`;
  }
}

export function time(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString("en-GB", { hour12: false });
}

export function dateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toLocaleDateString("en-CA")} ${d.toLocaleTimeString("en-GB", { hour12: false })}`;
}

/** Feature values span counts, money and ratios: show integers as such and the rest to 3 significant digits. */
export function featureValue(v: number | null | undefined): string {
  if (v === null || v === undefined) return "–";
  if (Number.isInteger(v)) return v.toLocaleString("en");
  return Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(3);
}
