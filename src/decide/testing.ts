// Hand-made events and feature rows for the decide tests (not shipped to the worker).
import { parseEventTime, type Transaction } from "../contract/transaction.ts";
import { FEATURES, featureIndex } from "../features/registry.ts";
import { STATELESS_FEATURES, writeStatelessFeatures } from "../features/stateless.ts";

export const WIDTH = FEATURES.length;

export function tx(overrides: Partial<Transaction> = {}): Transaction {
  return {
    transaction_id: "t-1",
    timestamp: "2026-11-26T14:30:00+01:00",
    user_id: "u-1",
    card_id: "c-1",
    amount: 42.5,
    currency: "EUR",
    merchant_id: "m-1",
    merchant_category: "grocery",
    mcc: "5411",
    channel: "pos",
    device: "Mobile",
    device_id: "d-1",
    country: "DE",
    home_country: "DE",
    ...overrides,
  };
}

/**
 * The feature row of `event` as the engine would write it for a user with some history: stateless
 * columns from the event, behavioural columns at a warm, unremarkable default (10 prior payments of
 * about the same amount, nothing new), then `features` by name on top.
 */
export function row(event: Transaction, features: Record<string, number> = {}): Float64Array {
  const out = new Float64Array(WIDTH);
  writeStatelessFeatures(event, parseEventTime(event.timestamp), out, 0);
  const warm: Record<string, number> = {
    txn_count_1h: 1,
    txn_count_24h: 3,
    user_txn_count: 10,
    amount_mean: event.amount,
    amount_std: event.amount / 4,
    seconds_since_prev: 3600,
    category_spend_share: 0.3,
    distinct_cards: 1,
  };
  for (let i = STATELESS_FEATURES.length; i < WIDTH; i++) {
    const name = (FEATURES[i] as { name: string }).name;
    out[i] = warm[name] ?? 0;
  }
  for (const [name, v] of Object.entries(features)) out[featureIndex(name)] = v;
  return out;
}
