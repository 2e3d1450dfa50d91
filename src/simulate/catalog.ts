// Merchant categories with their ISO 18245 merchant category codes, how people pay there, typical
// amounts relative to a person's own spending level, and the merchant risk tier.

export type RiskTier = "low" | "medium" | "high";

export interface Category {
  name: string;
  mcc: string;
  /** Channel weights: pos, online, mobile, atm, transfer. */
  channels: readonly [number, number, number, number, number];
  /** Multiplier of the user's median amount. */
  amountScale: number;
  risk: RiskTier;
  /** Share of normal spending (before the user's own preferences). */
  popularity: number;
}

export const CHANNEL_NAMES = ["pos", "online", "mobile", "atm", "transfer"] as const;

export const CATEGORIES: readonly Category[] = [
  { name: "grocery", mcc: "5411", channels: [8, 1, 2, 0, 0], amountScale: 1, risk: "low", popularity: 26 },
  {
    name: "restaurants",
    mcc: "5812",
    channels: [8, 1, 2, 0, 0],
    amountScale: 0.9,
    risk: "low",
    popularity: 18,
  },
  { name: "fuel", mcc: "5541", channels: [9, 0, 1, 0, 0], amountScale: 1.6, risk: "low", popularity: 8 },
  { name: "pharmacy", mcc: "5912", channels: [8, 1, 1, 0, 0], amountScale: 0.7, risk: "low", popularity: 5 },
  { name: "clothing", mcc: "5651", channels: [4, 5, 2, 0, 0], amountScale: 2.2, risk: "low", popularity: 8 },
  {
    name: "electronics",
    mcc: "5732",
    channels: [3, 6, 1, 0, 0],
    amountScale: 4,
    risk: "medium",
    popularity: 4,
  },
  {
    name: "online_retail",
    mcc: "5964",
    channels: [0, 7, 3, 0, 0],
    amountScale: 1.5,
    risk: "low",
    popularity: 12,
  },
  {
    name: "digital_goods",
    mcc: "5818",
    channels: [0, 6, 4, 0, 0],
    amountScale: 0.4,
    risk: "medium",
    popularity: 5,
  },
  {
    name: "entertainment",
    mcc: "7832",
    channels: [5, 3, 2, 0, 0],
    amountScale: 1,
    risk: "low",
    popularity: 4,
  },
  { name: "travel", mcc: "4511", channels: [1, 8, 1, 0, 0], amountScale: 9, risk: "medium", popularity: 1.5 },
  { name: "hotels", mcc: "7011", channels: [5, 5, 0, 0, 0], amountScale: 6, risk: "medium", popularity: 1.5 },
  {
    name: "cash_withdrawal",
    mcc: "6011",
    channels: [0, 0, 0, 1, 0],
    amountScale: 3,
    risk: "low",
    popularity: 5,
  },
  { name: "gambling", mcc: "7995", channels: [0, 7, 3, 0, 0], amountScale: 2, risk: "high", popularity: 0.5 },
  { name: "crypto", mcc: "6051", channels: [0, 6, 4, 0, 0], amountScale: 5, risk: "high", popularity: 0.3 },
  {
    name: "money_transfer",
    mcc: "4829",
    channels: [0, 2, 3, 0, 5],
    amountScale: 4,
    risk: "high",
    popularity: 0.7,
  },
];

export const HIGH_RISK_CATEGORIES: readonly number[] = CATEGORIES.flatMap((c, i) =>
  c.risk === "high" ? [i] : [],
);
export const categoryIndex = (name: string): number => {
  const i = CATEGORIES.findIndex((c) => c.name === name);
  if (i < 0) throw new Error(`unknown merchant category ${name}`);
  return i;
};

export const DEVICE_TYPES = ["Mobile", "Desktop", "Tablet"] as const;
