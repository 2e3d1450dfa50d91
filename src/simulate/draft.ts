// The simulator's event before rendering, and the names of the fraud scenarios it may belong to. Its
// own module because the simulator (index.ts), the scenarios that create drafts and the renderer that
// turns them into events all need it, and none of them should import another just for a type.
import type { CHANNEL_NAMES } from "./catalog.ts";
import type { Device, User } from "./population.ts";

export const SCENARIO_NAMES = [
  "card_testing",
  "account_takeover",
  "impossible_travel",
  "velocity_burst",
  "high_risk_merchant",
  "amount_spike",
  "location_mismatch",
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** One event before rendering. */
export interface Draft {
  /** Event time, epoch ms (simulated clock). */
  t: number;
  user: User;
  merchant: number;
  amount: number;
  channel: (typeof CHANNEL_NAMES)[number];
  /** A user device, or the merchant's terminal for card-present payments. */
  device: Device | "POS Terminal" | "ATM";
  /** City where the payment happens (the cardholder or the terminal). */
  city: number;
  card: string;
  ip: string | null;
  fraudType: ScenarioName | null;
}
