// The API's payload shapes, one zod schema each; route validation, response serialization and the
// OpenAPI document at /docs all come from these.
import { z } from "zod";
import {
  AlertSchema,
  AlertStatusSchema,
  HistoryItemSchema,
  RiskLevelSchema,
  ScoredTransactionSchema,
} from "../contract/outputs.ts";
import type { NotificationState } from "../io/pg/alerts.ts";

export const ErrorSchema = z.object({ error: z.string(), message: z.string() });

export const RoleSchema = z.enum(["viewer", "analyst", "admin"]);

/** The calling key: its role and what that role may do, so a client offers only what will be allowed. */
export const MeSchema = z.object({
  role: RoleSchema,
  name: z
    .string()
    .describe("How the API records this key (reviewedBy, audit columns); what 'assign to me' assigns to"),
  canLabel: z.boolean().describe("POST /api/alerts/{id}/feedback"),
  canAssign: z.boolean().describe("POST /api/alerts/{id}/assign"),
  canEditLists: z.boolean().describe("POST/DELETE /api/lists/{name}"),
  canAdmin: z.boolean().describe("Model promotion and roll back, rule-set changes"),
});

// The alert and the scored transaction are output shapes of the pipeline, declared once in
// src/contract/outputs.ts with the database mapping and the dashboard; the API serves them as declared.
export { AlertSchema, AlertStatusSchema, HistoryItemSchema, ScoredTransactionSchema };

const isoTime = z.iso.datetime({ offset: true });

/** "HIGH,CRITICAL" → ["HIGH", "CRITICAL"], each checked. */
const riskList = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  )
  .pipe(z.array(RiskLevelSchema));

export const AlertQuerySchema = z.object({
  user_id: z.string().min(1).max(64).optional(),
  risk: riskList.optional().describe("Comma-separated risk levels, e.g. HIGH,CRITICAL"),
  status: AlertStatusSchema.optional(),
  from: isoTime.optional().describe("Event time from (inclusive), RFC 3339"),
  to: isoTime.optional().describe("Event time to (exclusive), RFC 3339"),
  cursor: z.coerce.number().int().positive().optional().describe("nextCursor of the previous page"),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** Counting stops here: past it `total` is a lower bound (`totalCapped`), so a broad filter stays cheap. */
export const ALERT_COUNT_CAP = 10_000;

export const AlertPageSchema = z.object({
  items: z.array(AlertSchema),
  nextCursor: z.number().int().nullable(),
  total: z
    .number()
    .int()
    .describe(
      `Alerts matching the filter over all pages (the cursor aside), counted up to ${ALERT_COUNT_CAP}`,
    ),
  totalCapped: z.boolean().describe("True when more alerts match than `total`: the count stopped at the cap"),
});

export const NotificationSchema = z
  .object({
    state: z
      .enum(["delivered", "pending", "retrying"])
      .describe(
        "delivered: the receiver answered 2xx; pending: not yet posted, or being posted; retrying: the last post failed. An alert whose risk is not in FRAUDSTREAM_WEBHOOK_RISKS stays pending.",
      ),
    attempts: z.number().int().describe("Posts tried so far, the delivered one included"),
    lastError: z.string().nullable().describe("Why the last failed post failed (null once delivered)"),
    nextAttemptAt: z
      .string()
      .nullable()
      .describe("Not delivered: earliest time of the next post (a retry's time, or the end of a lease)"),
    deliveredAt: z.string().nullable(),
  })
  .describe(
    "The alert's webhook notification. Posts carry `Idempotency-Key: <transactionId>`, the same on every retry.",
  ) satisfies z.ZodType<NotificationState>;

export const TransactionIdParams = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, "not a transaction id"),
});

export const FeedbackBodySchema = z.object({
  label: z.enum(["confirmed_fraud", "false_positive"]),
  note: z.string().max(2000).optional(),
});

export const AssignBodySchema = z.object({ assignee: z.string().min(1).max(100).nullable() });

export const TransactionDetailSchema = z.object({
  transaction: ScoredTransactionSchema,
  alert: AlertSchema.nullable(),
  feedback: z.array(
    z.object({ label: z.string(), note: z.string().nullable(), by: z.string(), at: z.string() }),
  ),
  history: z.array(HistoryItemSchema),
});

const counted = z.object({ key: z.string(), events: z.number(), alerts: z.number() });

/** riskOverTime buckets a chosen bucket size may make over the window (the 60 s default is exempt). */
export const MAX_STATS_BUCKETS = 10_000;
export const DEFAULT_STATS_BUCKET = 60;

export const StatsQuerySchema = z
  .object({
    window: z.coerce
      .number()
      .int()
      .min(10)
      .max(30 * 86_400)
      .default(3600)
      .describe("Window of processing time ending now, seconds"),
    bucket: z.coerce
      .number()
      .int()
      .min(10)
      .max(86_400)
      .optional()
      .describe(
        `Width of the riskOverTime buckets, seconds (default ${DEFAULT_STATS_BUCKET}); ` +
          `at most ${MAX_STATS_BUCKETS} buckets per window`,
      ),
  })
  // Without a bucket the series stays per minute, as before the parameter existed, whatever the window.
  .superRefine((q, ctx) => {
    if (q.bucket !== undefined && Math.ceil(q.window / q.bucket) > MAX_STATS_BUCKETS)
      ctx.addIssue({
        code: "custom",
        path: ["bucket"],
        message: `makes more than ${MAX_STATS_BUCKETS} buckets over a window of ${q.window} s; use at least ${Math.ceil(q.window / MAX_STATS_BUCKETS)}`,
      });
  });

export const StatsSchema = z.object({
  windowSeconds: z.number(),
  events: z.number(),
  eventsPerSecond: z.number(),
  alerts: z.number(),
  alertRate: z.number(),
  openAlerts: z.number(),
  latencyMs: z.object({ p50: z.number().nullable(), p99: z.number().nullable() }),
  bucketSeconds: z.number().int().describe("Width of the riskOverTime buckets, seconds"),
  riskOverTime: z.array(
    z.object({
      minute: z.string().describe("Start of the bucket (named when buckets were always a minute)"),
      risk: RiskLevelSchema,
      count: z.number(),
    }),
  ),
  byCountry: z.array(counted),
  byCategory: z.array(counted),
  byHour: z.array(z.object({ hour: z.number(), events: z.number(), alerts: z.number() })),
  labels: z.object({
    confirmedFraud: z.number(),
    falsePositive: z.number(),
    falsePositiveRate: z.number().nullable(),
  }),
  deadLetters: z.number(),
});

export const ModelPerformanceQuerySchema = z.object({
  limit: z.coerce.number().int().min(10).max(500_000).default(50_000),
  points: z.coerce.number().int().min(2).max(1000).default(200),
});

const curvePoint = z.object({ threshold: z.number().nullable(), x: z.number(), y: z.number() });
export const ModelPerformanceSchema = z.object({
  rows: z.number(),
  positives: z.number(),
  analystLabels: z.number(),
  rocAuc: z.number().nullable(),
  averagePrecision: z.number().nullable(),
  /** x = false-positive rate, y = true-positive rate. */
  roc: z.array(curvePoint),
  /** x = recall, y = precision. */
  pr: z.array(curvePoint),
  /** Confusion matrices at evenly spaced thresholds, for the threshold slider. */
  thresholds: z.array(
    z.object({
      threshold: z.number(),
      tp: z.number(),
      fp: z.number(),
      tn: z.number(),
      fn: z.number(),
      precision: z.number(),
      recall: z.number(),
      f1: z.number(),
    }),
  ),
});

export const ModelSummarySchema = z.object({
  id: z.string(),
  kind: z.string(),
  featureSetVersion: z.string(),
  featureNames: z.array(z.string()),
  sha256: z.string(),
  metrics: z.record(z.string(), z.unknown()).nullable(),
  params: z.record(z.string(), z.unknown()).nullable(),
  registeredBy: z.string(),
  registeredAt: z.string(),
  status: z.enum(["candidate", "active", "retired"]),
});

export const ModelIdParams = z.object({ id: z.string().min(1).max(128) });

export const HealthSchema = z.object({
  status: z.enum(["ok", "unavailable"]),
  detail: z.string().optional(),
});
