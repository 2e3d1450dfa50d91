import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FEATURE_NAMES } from "../features/registry.ts";
import { createProvisionalScorer, type PROVISIONAL_FEATURES } from "./provisional-scorer.ts";

type Row = Partial<Record<(typeof PROVISIONAL_FEATURES)[number], number>>;

function score(...rows: Row[]): [number, number, number, number, number, number] {
  const scorer = createProvisionalScorer();
  const w = scorer.featureNames.length;
  const data = new Float64Array(rows.length * w);
  rows.forEach((r, i) => {
    const full: Row = { user_txn_count: 10, hour_of_day: 12, ...r };
    scorer.featureNames.forEach((name, j) => {
      data[i * w + j] = full[name as keyof Row] ?? 0;
    });
  });
  const out = new Float64Array(rows.length);
  scorer.scoreBatch(data, rows.length, out);
  return [...out] as [number, number, number, number, number, number];
}

describe("provisional scorer", () => {
  it("reads only registered features and says it is provisional", () => {
    const scorer = createProvisionalScorer();
    for (const name of scorer.featureNames) assert.ok(FEATURE_NAMES.includes(name), name);
    assert.match(scorer.version, /^provisional-/);
  });

  it("scores ordinary payments low and each fraud signal higher", () => {
    const [ordinary, spike, takeover, travel, burst, cold] = score(
      { amount_zscore: 0.3 },
      { amount_zscore: 9 },
      { is_new_device: 1, is_new_country: 1, is_foreign: 1, amount_zscore: 5 },
      { speed_from_prev_kmh: 4000 },
      { txn_count_1m: 6 },
      { user_txn_count: 0, is_new_device: 1, is_new_country: 1 },
    );
    assert.ok(ordinary < 0.1, `ordinary ${ordinary}`);
    assert.ok(spike > 0.75, `spike ${spike}`);
    assert.ok(takeover > 0.75, `takeover ${takeover}`);
    assert.ok(travel >= 0.75, `travel ${travel}`);
    assert.ok(burst >= 0.75, `burst ${burst}`);
    // A first payment is new in every way; that alone is not suspicious.
    assert.ok(cold < 0.1, `cold ${cold}`);
    for (const s of [ordinary, spike, takeover, travel, burst, cold]) assert.ok(s >= 0 && s < 1);
  });
});
