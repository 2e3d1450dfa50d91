// Labels with known-at, offline: the delay rule, and no leakage (a feature computed with delay d never
// uses a label known at or after the event), checked against a brute-force count over the history.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { LabelSchema } from "../contract/label.ts";
import { parseEventTime, type Transaction } from "../contract/transaction.ts";
import { resolveEntityFeatures } from "../features/entity.ts";
import { FEATURE_NAMES, FEATURE_SET_VERSION } from "../features/registry.ts";
import { loadDataset } from "./dataset.ts";
import {
  DEFAULT_LABEL_DELAY_MS,
  entityColumns,
  labelsWithDelay,
  loadDatasetWithEntities,
} from "./entity-dataset.ts";

const DAY = 86_400_000;
const T0 = parseEventTime("2026-01-01T00:00:00Z");

function history(n: number): Transaction[] {
  // Deterministic pseudo-random history over 40 days, 5 merchants, fraud ~20 %, in shuffled file order.
  let s = 12345;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: n }, (_, i) => ({
    transaction_id: `t${i}`,
    timestamp: new Date(T0 + Math.floor(rnd() * 40 * DAY)).toISOString(),
    user_id: `u${i % 7}`,
    amount: 1 + Math.floor(rnd() * 100),
    currency: "EUR",
    merchant_id: `m${Math.floor(rnd() * 5)}`,
    is_fraud: rnd() < 0.2,
  }));
}

test("labelsWithDelay: known_at = event time + delay, valid labels, default 7 d", () => {
  const ev = history(3);
  const labels = labelsWithDelay(ev);
  assert.equal(DEFAULT_LABEL_DELAY_MS, 7 * DAY);
  assert.equal(labels.length, 3);
  labels.forEach((l, i) => {
    LabelSchema.parse(l);
    assert.equal(parseEventTime(l.known_at), parseEventTime((ev[i] as Transaction).timestamp) + 7 * DAY);
  });
  assert.equal(labelsWithDelay([{ ...(ev[0] as Transaction), is_fraud: undefined }]).length, 0);
  assert.throws(() => labelsWithDelay(ev, -1), /label delay -1/);
  assert.throws(
    () => LabelSchema.parse({ transaction_id: "x", label: "maybe", known_at: "now", source: "?" }),
    (e: Error) => ["label", "known_at", "source"].every((f) => e.message.includes(f)),
  );
});

test("no leakage: with delay d, each fraud rate equals the brute-force rate over labels known before the event", () => {
  const ev = history(600);
  const feats = resolveEntityFeatures([
    // 30 d window with 1 min buckets: the bucket cut is then below a minute, checked exactly below.
    { key: "merchant", aggregate: { kind: "fraud_rate" }, windowMs: 30 * DAY, bucketMs: 60_000, cold: -1 },
    { key: "merchant", aggregate: { kind: "count" }, windowMs: 30 * DAY, bucketMs: 60_000, cold: 0 },
  ]);
  for (const d of [0, 1 * DAY, 7 * DAY]) {
    const { values } = entityColumns(ev, labelsWithDelay(ev, d), feats);
    ev.forEach((e, i) => {
      const t = parseEventTime(e.timestamp);
      const start = (Math.floor((t - 30 * DAY) / 60_000) + 1) * 60_000;
      let n = 0;
      let fraud = 0;
      ev.forEach((p, j) => {
        const tp = parseEventTime(p.timestamp);
        if (p.merchant_id !== e.merchant_id || tp < start || tp > t || (tp === t && j >= i)) return;
        n++;
        if (p.is_fraud === true && tp + d < t) fraud++;
      });
      assert.equal(values[i * 2 + 1], n, `count of event ${i}, delay ${d}`);
      assert.equal(values[i * 2], n === 0 ? -1 : fraud / n, `fraud rate of event ${i}, delay ${d}`);
    });
  }
  // The check can fail: with delay 0 some event sees fraud that a 7 d delay hides.
  const a = entityColumns(ev, labelsWithDelay(ev, 0), feats).values;
  const b = entityColumns(ev, labelsWithDelay(ev, 7 * DAY), feats).values;
  assert.ok(a.some((x, k) => k % 2 === 0 && x > (b[k] as number)));
});

test("labels of transactions not in the history are refused, by id", () => {
  assert.throws(
    () =>
      entityColumns(history(2), [
        { transaction_id: "zz", label: "fraud", known_at: "2026-01-02T00:00:00Z", source: "analyst" },
      ]),
    /not in the history: zz/,
  );
});

test("loadDatasetWithEntities: the user columns as before, then the entity columns of the same rows", async () => {
  const dir = mkdtempSync(join(tmpdir(), "entity-dataset-"));
  try {
    const ev = history(50);
    const path = join(dir, "h.jsonl");
    writeFileSync(path, `${ev.map((e) => JSON.stringify(e)).join("\n")}\nnot json\n`);
    const opts = { allowedLatenessMs: 100 * DAY, stateTtlMs: 100 * DAY };
    const feats = resolveEntityFeatures([
      { key: "merchant", aggregate: { kind: "fraud_rate" }, windowMs: 30 * DAY, cold: -1 },
      { key: "merchant", aggregate: { kind: "count" }, windowMs: 7 * DAY, cold: 0 },
    ]);
    const base = await loadDataset(path, opts);
    const d = await loadDatasetWithEntities(path, opts, { features: feats, labelDelayMs: DAY });
    assert.equal(base.featureSetVersion, FEATURE_SET_VERSION);
    assert.match(
      d.featureSetVersion ?? "",
      new RegExp(`^${FEATURE_SET_VERSION.replace(/[.+]/g, "\\$&")}\\+ent-`),
    );
    assert.deepEqual(d.featureNames, [...FEATURE_NAMES, "merchant_fraud_rate_30d", "merchant_txn_count_7d"]);
    assert.equal(d.rows, base.rows);
    assert.equal(d.skipped.length, 1);
    const expect = entityColumns(ev, labelsWithDelay(ev, DAY), feats).values;
    const w0 = FEATURE_NAMES.length;
    for (let r = 0; r < d.rows; r++) {
      const i = (d.lines[r] as number) - 1;
      assert.deepEqual(
        [...d.X.subarray(r * (w0 + 2), r * (w0 + 2) + w0)],
        [...base.X.subarray(r * w0, (r + 1) * w0)],
      );
      assert.deepEqual(
        [...d.X.subarray(r * (w0 + 2) + w0, (r + 1) * (w0 + 2))],
        [...expect.subarray(i * 2, i * 2 + 2)],
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
