// What the pipeline puts out, one zod schema per shape: the risk level and decision, the explanation of
// a decision, the scored row the worker stores, the scored transaction and the alert as the API serves
// them, and the messages of the anomalies and features topics. These cross process boundaries (worker →
// database → API → dashboard, worker → Kafka → consumers), so every other declaration is derived from
// here: the database mapping (src/io/pg), the API schemas and so its OpenAPI document (src/api), the
// dashboard's types (type-only imports, erased from its bundle). Pure: zod and nothing else.
import { z } from "zod";
import { DECISIONS, isFlagged, RISK_LEVELS } from "./levels.ts";

export { DECISIONS, isFlagged, RISK_LEVELS };

export const RiskLevelSchema = z.enum(RISK_LEVELS);
export type RiskLevel = z.infer<typeof RiskLevelSchema>;

export const DecisionSchema = z.enum(DECISIONS);
export type Decision = z.infer<typeof DecisionSchema>;

/** A number that is NaN where there was none (no model score, a missing feature); JSON carries NaN as null. */
const numberOrNaN = z.number().or(z.nan());

// ---- The explanation of a decision ---------------------------------------------------------------

/** A rule that hit, as a verdict reports it. */
export const RuleHitSchema = z.object({
  id: z.string(),
  weight: z.number().describe("Points the rule adds"),
  description: z.string(),
});
export type RuleHit = z.infer<typeof RuleHitSchema>;

/** One feature's part in a model score. */
export const FactorSchema = z.object({
  feature: z.string(),
  value: z.number().describe("The event's value of the feature"),
  contribution: z.number().describe('Signed share of the push toward "anomalous" (negative: toward normal)'),
});
export type Factor = z.infer<typeof FactorSchema>;

/** The points behind a risk level: from the model score, from the rules, and their sum. */
export const PointsSchema = z.object({ score: z.number(), rules: z.number(), total: z.number() });
export type Points = z.infer<typeof PointsSchema>;

/** Why a row was decided as it was; built by src/decide/explanation.ts. */
export const ExplanationSchema = z.object({
  points: PointsSchema,
  hits: z.array(RuleHitSchema).describe("The rules that hit, in rule-set order"),
  model: z
    .string()
    .optional()
    .describe("Present when the model gave no score (a feature value was missing or not finite)"),
  factors: z
    .array(FactorSchema)
    .optional()
    .describe("Flagged rows only: the features that pushed the model score most, strongest first"),
});
export type Explanation = z.infer<typeof ExplanationSchema>;

/**
 * An explanation as a stored row may hold it: rows scored before explanations had this shape have `{}`
 * (alerts) or null (transactions), and a JSONB column holds whatever was written. Every part is
 * optional; readStoredExplanation() keeps the parts that match and drops the rest.
 */
export const StoredRuleHitSchema = RuleHitSchema.partial({ weight: true, description: true });
export type StoredRuleHit = z.infer<typeof StoredRuleHitSchema>;
export const StoredFactorSchema = FactorSchema.partial({ value: true, contribution: true });
export type StoredFactor = z.infer<typeof StoredFactorSchema>;
export const StoredPointsSchema = PointsSchema.partial();
export type StoredPoints = z.infer<typeof StoredPointsSchema>;
export const StoredExplanationSchema = z
  .object({
    points: StoredPointsSchema.optional(),
    hits: z.array(StoredRuleHitSchema).optional(),
    model: ExplanationSchema.shape.model,
    factors: z.array(StoredFactorSchema).optional(),
  })
  .describe(
    "The explanation as stored: { points, hits, model?, factors? } (see Explanation); every part is " +
      "optional, as rows scored before explanations were recorded have none, and malformed parts are left out",
  );
export type StoredExplanation = z.infer<typeof StoredExplanationSchema>;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The fields of `value` that match their schema in `shape`; undefined when `value` is not an object. */
function validFields<S extends Record<string, z.ZodType>>(
  shape: S,
  value: unknown,
): { [K in keyof S]?: z.output<S[K]> } | undefined {
  if (!isRecord(value)) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(shape)) {
    const parsed = (shape[key] as z.ZodType).safeParse(value[key]);
    if (parsed.success && parsed.data !== undefined) out[key] = parsed.data;
  }
  return out as { [K in keyof S]?: z.output<S[K]> };
}

/** The items of an array that have their identifying field, each with its valid fields. */
function validItems<S extends Record<string, z.ZodType>, K extends keyof S>(
  shape: S,
  key: K,
  value: unknown,
): ({ [P in keyof S]?: z.output<S[P]> } & { [P in K]: z.output<S[P]> })[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: ({ [P in keyof S]?: z.output<S[P]> } & { [P in K]: z.output<S[P]> })[] = [];
  for (const item of value) {
    const fields = validFields(shape, item);
    if (fields?.[key] !== undefined) out.push(fields as (typeof out)[number]);
  }
  return out;
}

/**
 * A stored explanation column as the API serves it: null when it is not an object; otherwise the parts
 * that match StoredExplanationSchema (a hit needs its id, a factor its feature; a field of the wrong
 * type is left out), so that one malformed row cannot fail a whole response.
 */
export function readStoredExplanation(raw: unknown): StoredExplanation | null {
  if (!isRecord(raw)) return null;
  const out: StoredExplanation = {};
  const points = validFields(PointsSchema.shape, raw.points);
  if (points !== undefined) out.points = points;
  const hits = validItems(RuleHitSchema.shape, "id", raw.hits);
  if (hits !== undefined) out.hits = hits;
  if (typeof raw.model === "string") out.model = raw.model;
  const factors = validItems(FactorSchema.shape, "feature", raw.factors);
  if (factors !== undefined) out.factors = factors;
  return out;
}

// ---- The scored row ------------------------------------------------------------------------------

/** One processed event as the worker stores it in `transactions_scored`. */
export const ScoredRowSchema = z.object({
  transactionId: z.string(),
  eventTime: z.number().describe("Event time, epoch ms. Also the partition key of the table."),
  userId: z.string(),
  cardId: z.string().nullable(),
  amount: z.number(),
  currency: z.string(),
  merchantId: z.string().nullable(),
  merchantCategory: z.string().nullable(),
  country: z.string().nullable(),
  channel: z.string().nullable(),
  device: z.string().nullable(),
  features: z
    .record(z.string(), numberOrNaN)
    .describe("Feature name → value, as computed for this event (stored as JSONB)"),
  score: numberOrNaN.describe("The model's score in [0, 1], higher = more anomalous; NaN: no score"),
  risk: RiskLevelSchema,
  decision: DecisionSchema,
  modelVersion: z.string(),
  ruleSetVersion: z.string(),
  explanation: ExplanationSchema.nullable().describe(
    "Why it was decided so (stored as JSONB); null: not explained",
  ),
  isFraud: z
    .boolean()
    .nullable()
    .describe("Ground-truth label when the producer carried one (simulated or replayed labelled data)"),
  fraudType: z.string().nullable(),
  payload: z.record(z.string(), z.unknown()).describe("The event object as received, extra fields included"),
  source: z.object({ topic: z.string(), partition: z.number().int(), offset: z.bigint() }),
  producedAt: z.number().describe("Record timestamp (when it was produced), epoch ms"),
  ingestedAt: z.number().describe("When the worker received the record, epoch ms"),
});
export type ScoredRow = z.infer<typeof ScoredRowSchema>;

// ---- As the API serves them ----------------------------------------------------------------------

const isoTime = z.string().describe("ISO 8601");

/** A stored scored row as the API returns it: timestamps as ISO 8601, plus when it was written. */
export const ScoredTransactionSchema = z.object({
  ...ScoredRowSchema.omit({ source: true }).shape,
  eventTime: isoTime,
  // NaN was written as null (JSON has no NaN).
  features: z.record(z.string(), z.number().nullable()),
  score: z.number().nullable().describe("null: the model gave no score (stored as NaN)"),
  explanation: StoredExplanationSchema.nullable(),
  producedAt: isoTime,
  ingestedAt: isoTime,
  processedAt: isoTime,
});
export type ScoredTransaction = z.infer<typeof ScoredTransactionSchema>;

/** A line of a user's history. */
export const HistoryItemSchema = ScoredTransactionSchema.pick({
  transactionId: true,
  eventTime: true,
  amount: true,
  currency: true,
  merchantCategory: true,
  country: true,
  channel: true,
  score: true,
  risk: true,
  decision: true,
});
export type HistoryItem = z.infer<typeof HistoryItemSchema>;

export const AlertStatusSchema = z.enum(["open", "confirmed_fraud", "false_positive"]);
export type AlertStatus = z.infer<typeof AlertStatusSchema>;

const served = ScoredTransactionSchema.shape;

/** A flagged row with its review state, as the API serves it (and the webhook posts it). */
export const AlertSchema = z.object({
  seq: z.number().int().describe("Insertion order; the cursor of the list and the id of the live stream"),
  transactionId: served.transactionId,
  eventTime: served.eventTime,
  userId: served.userId,
  amount: served.amount,
  currency: served.currency,
  country: served.country,
  merchantCategory: served.merchantCategory,
  score: served.score,
  risk: served.risk,
  decision: served.decision,
  explanation: StoredExplanationSchema,
  modelVersion: served.modelVersion,
  ruleSetVersion: served.ruleSetVersion,
  isFraud: served.isFraud,
  fraudType: served.fraudType,
  status: AlertStatusSchema,
  assignee: z.string().nullable(),
  reviewedBy: z.string().nullable(),
  reviewedAt: isoTime.nullable(),
  note: z.string().nullable(),
  createdAt: isoTime,
});
export type Alert = z.infer<typeof AlertSchema>;

// ---- Output topics -------------------------------------------------------------------------------

const topicFeatures = z
  .record(z.string(), z.number().nullable())
  .describe("Feature name → value; null where the value was not a number (NaN)");

/** A message of the features topic: the feature vector of one accepted event, keyed by user id. */
export const FeatureMessageSchema = z.object({
  transaction_id: z.string(),
  user_id: z.string(),
  timestamp: z.string().describe("The event's timestamp as it was received"),
  feature_set_version: z.string(),
  features: topicFeatures,
});
export type FeatureMessage = z.infer<typeof FeatureMessageSchema>;

/** A message of the anomalies topic: one flagged event, keyed by user id. */
export const AnomalyMessageSchema = z.object({
  transaction_id: z.string(),
  user_id: z.string(),
  timestamp: FeatureMessageSchema.shape.timestamp,
  amount: z.number(),
  currency: z.string(),
  score: z.number().nullable().describe("null: the model gave no score"),
  risk: RiskLevelSchema,
  decision: DecisionSchema,
  model_version: z.string(),
  rule_set_version: z.string(),
  explanation: ExplanationSchema.nullable(),
  features: topicFeatures,
});
export type AnomalyMessage = z.infer<typeof AnomalyMessageSchema>;

/**
 * The features-topic message of a scored row. `timestamp` is the event's as received (the row keeps
 * epoch ms). Keys in this order; NaN values become null when serialized, as JSON has no NaN.
 */
export function featureMessage(row: ScoredRow, timestamp: string, featureSetVersion: string): FeatureMessage {
  return {
    transaction_id: row.transactionId,
    user_id: row.userId,
    timestamp,
    feature_set_version: featureSetVersion,
    features: row.features,
  };
}

/** The anomalies-topic message of a flagged scored row; `timestamp` as for featureMessage(). */
export function anomalyMessage(row: ScoredRow, timestamp: string): AnomalyMessage {
  return {
    transaction_id: row.transactionId,
    user_id: row.userId,
    timestamp,
    amount: row.amount,
    currency: row.currency,
    score: row.score,
    risk: row.risk,
    decision: row.decision,
    model_version: row.modelVersion,
    rule_set_version: row.ruleSetVersion,
    explanation: row.explanation,
    features: row.features,
  };
}
