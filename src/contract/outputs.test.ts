import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DECISIONS, isFlagged, RISK_LEVELS } from "./levels.ts";
import {
  AlertSchema,
  AnomalyMessageSchema,
  anomalyMessage,
  DecisionSchema,
  type Explanation,
  ExplanationSchema,
  FeatureMessageSchema,
  featureMessage,
  RiskLevelSchema,
  readStoredExplanation,
  type ScoredRow,
  StoredExplanationSchema,
} from "./outputs.ts";

const explanation: Explanation = {
  points: { score: 2.3, rules: 2, total: 4.3 },
  hits: [{ id: "high_value", weight: 2, description: "Amount above 3,000" }],
  factors: [{ feature: "amount_zscore", value: 4.2, contribution: 0.3125 }],
};

function scored(overrides: Partial<ScoredRow> = {}): ScoredRow {
  return {
    transactionId: "tx-1",
    eventTime: Date.UTC(2026, 10, 26, 13, 30),
    userId: "u-1",
    cardId: "c-1",
    amount: 4200.5,
    currency: "EUR",
    merchantId: "m-1",
    merchantCategory: "electronics",
    country: "DE",
    channel: "online",
    device: "Desktop",
    features: { amount: 4200.5, amount_zscore: 4.2 },
    score: 0.61,
    risk: "CRITICAL",
    decision: "BLOCK",
    modelVersion: "model-1",
    ruleSetVersion: "rules-1",
    explanation,
    isFraud: null,
    fraudType: null,
    payload: { transaction_id: "tx-1" },
    source: { topic: "transactions_raw", partition: 2, offset: 17n },
    producedAt: 1,
    ingestedAt: 2,
    ...overrides,
  };
}

const TIMESTAMP = "2026-11-26T14:30:00+01:00";

describe("risk levels and decisions", () => {
  it("go in increasing order, and HIGH and CRITICAL are flagged", () => {
    assert.deepEqual(RiskLevelSchema.options, ["LOW", "MEDIUM", "HIGH", "CRITICAL"]);
    assert.deepEqual(RiskLevelSchema.options, [...RISK_LEVELS]);
    assert.deepEqual(DecisionSchema.options, ["APPROVE", "REVIEW", "BLOCK"]);
    assert.deepEqual(DecisionSchema.options, [...DECISIONS]);
    assert.deepEqual(RISK_LEVELS.filter(isFlagged), ["HIGH", "CRITICAL"]);
  });
});

describe("topic messages", () => {
  it("features: snake_case keys in the order consumers have been reading", () => {
    const m = featureMessage(scored(), TIMESTAMP, "fs-3");
    assert.equal(
      JSON.stringify(m),
      '{"transaction_id":"tx-1","user_id":"u-1","timestamp":"2026-11-26T14:30:00+01:00",' +
        '"feature_set_version":"fs-3","features":{"amount":4200.5,"amount_zscore":4.2}}',
    );
    assert.deepEqual(FeatureMessageSchema.parse(JSON.parse(JSON.stringify(m))), m);
  });

  it("anomalies: the flagged row with its explanation and features", () => {
    const m = anomalyMessage(scored(), TIMESTAMP);
    assert.equal(
      JSON.stringify(m),
      '{"transaction_id":"tx-1","user_id":"u-1","timestamp":"2026-11-26T14:30:00+01:00",' +
        '"amount":4200.5,"currency":"EUR","score":0.61,"risk":"CRITICAL","decision":"BLOCK",' +
        '"model_version":"model-1","rule_set_version":"rules-1",' +
        '"explanation":{"points":{"score":2.3,"rules":2,"total":4.3},' +
        '"hits":[{"id":"high_value","weight":2,"description":"Amount above 3,000"}],' +
        '"factors":[{"feature":"amount_zscore","value":4.2,"contribution":0.3125}]},' +
        '"features":{"amount":4200.5,"amount_zscore":4.2}}',
    );
    assert.deepEqual(AnomalyMessageSchema.parse(JSON.parse(JSON.stringify(m))), m);
  });

  it("carry NaN (no score, a missing feature) as null, which their schemas accept", () => {
    const row = scored({
      score: Number.NaN,
      features: { amount: 10, amount_zscore: Number.NaN },
      explanation: { ...explanation, factors: undefined, model: "no score" },
    });
    const wire = JSON.parse(JSON.stringify(anomalyMessage(row, TIMESTAMP)));
    assert.equal(wire.score, null);
    assert.equal(wire.features.amount_zscore, null);
    assert.equal(AnomalyMessageSchema.safeParse(wire).success, true);
    const features = JSON.parse(JSON.stringify(featureMessage(row, TIMESTAMP, "fs-3")));
    assert.equal(FeatureMessageSchema.safeParse(features).success, true);
  });
});

describe("readStoredExplanation", () => {
  it("gives a well-formed explanation back as it is", () => {
    assert.deepEqual(readStoredExplanation(explanation), explanation);
    assert.deepEqual(readStoredExplanation({ ...explanation, model: "no score" }), {
      ...explanation,
      model: "no score",
    });
  });

  it("reads older rows: {} as {}, and null or a non-object as null", () => {
    assert.deepEqual(readStoredExplanation({}), {});
    assert.equal(readStoredExplanation(null), null);
    assert.equal(readStoredExplanation("hits"), null);
    assert.equal(readStoredExplanation([explanation]), null);
  });

  it("keeps the parts that match and leaves the rest out", () => {
    const read = readStoredExplanation({
      points: { score: "2", rules: 1, total: null },
      hits: [
        { id: "a", weight: "2", description: "kept without its weight" },
        { weight: 1 },
        "b",
        { id: "c" },
      ],
      factors: [
        { feature: "x", value: 1, contribution: 0.5 },
        { value: 2 },
        { feature: "y", contribution: "big" },
      ],
      model: 3,
      rules: ["unknown keys are not served"],
    });
    assert.deepEqual(read, {
      points: { rules: 1 },
      hits: [{ id: "a", description: "kept without its weight" }, { id: "c" }],
      factors: [{ feature: "x", value: 1, contribution: 0.5 }, { feature: "y" }],
    });
    assert.equal(StoredExplanationSchema.safeParse(read).success, true);
    assert.deepEqual(readStoredExplanation({ hits: "none", factors: {} }), {});
  });

  it("reads what the worker writes as a valid explanation", () => {
    assert.equal(ExplanationSchema.safeParse(readStoredExplanation(explanation)).success, true);
  });
});

describe("AlertSchema", () => {
  it("serves an alert of an older row, whose explanation is {}, and a score of null (no model score)", () => {
    const alert = {
      seq: 1,
      transactionId: "tx-1",
      eventTime: "2026-11-26T13:30:00.000Z",
      userId: "u-1",
      amount: 10,
      currency: "EUR",
      country: null,
      merchantCategory: null,
      score: null,
      risk: "HIGH",
      decision: "REVIEW",
      explanation: {},
      modelVersion: "m",
      ruleSetVersion: "r",
      isFraud: null,
      fraudType: null,
      status: "open",
      assignee: null,
      reviewedBy: null,
      reviewedAt: null,
      note: null,
      createdAt: "2026-11-26T13:30:01.000Z",
    };
    assert.deepEqual(AlertSchema.parse(alert), alert);
    const bad = AlertSchema.safeParse({ ...alert, risk: "SEVERE" });
    assert.equal(bad.success, false);
    assert.deepEqual(bad.error?.issues[0]?.path, ["risk"]);
  });
});
