// Figures for the dashboard: live tiles and distributions, and the model's performance on labelled data
// (ROC and PR curves, confusion matrices along the threshold for the slider).
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { confusionAt, evaluate, prCurve, rocCurve } from "../../model/evaluate.ts";
import type { ApiContext } from "../context.ts";
import {
  DEFAULT_STATS_BUCKET,
  ErrorSchema,
  ModelPerformanceQuerySchema,
  ModelPerformanceSchema,
  StatsQuerySchema,
  StatsSchema,
} from "../schemas.ts";

/** Thresholds for the slider: 0.00, 0.01, … 1.00 (scores are in [0, 1]). */
const SLIDER_STEPS = 101;

export const statsRoutes: FastifyPluginAsync<ApiContext> = async (fastify, ctx) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { auth } = ctx;

  app.get(
    "/api/stats",
    {
      preHandler: auth.require("viewer"),
      schema: {
        summary:
          "Throughput, alert rate, latency, risk over time (in `bucket`-second buckets), distributions, false-positive rate",
        tags: ["stats"],
        querystring: StatsQuerySchema,
        response: { 200: StatsSchema, 400: ErrorSchema },
      },
    },
    async (req) => ctx.stats.stats(req.query.window, req.query.bucket ?? DEFAULT_STATS_BUCKET),
  );

  app.get(
    "/api/stats/model",
    {
      preHandler: auth.require("viewer"),
      schema: {
        summary: "Model performance on labelled transactions: ROC, PR, confusion along the threshold",
        tags: ["stats"],
        querystring: ModelPerformanceQuerySchema,
        response: { 200: ModelPerformanceSchema },
      },
    },
    async (req) => {
      const { scores, labels, analystLabels } = await ctx.transactions.labelledScores(req.query.limit);
      const summary = evaluate(scores, labels);
      const finite = (t: number) => (Number.isFinite(t) ? t : null);
      const thresholds = [];
      for (let i = 0; i < SLIDER_STEPS; i++) {
        const threshold = i / (SLIDER_STEPS - 1);
        const c = confusionAt(scores, labels, threshold);
        thresholds.push({
          threshold,
          tp: c.tp,
          fp: c.fp,
          tn: c.tn,
          fn: c.fn,
          precision: c.precision,
          recall: c.recall,
          f1: c.f1,
        });
      }
      const points = req.query.points;
      return {
        rows: summary.rows,
        positives: summary.positives,
        analystLabels,
        rocAuc: summary.rocAuc,
        averagePrecision: summary.averagePrecision,
        roc:
          scores.length === 0
            ? []
            : rocCurve(scores, labels, { maxPoints: points }).map((p) => ({
                threshold: finite(p.threshold),
                x: p.falsePositiveRate,
                y: p.truePositiveRate,
              })),
        pr:
          scores.length === 0
            ? []
            : prCurve(scores, labels, { maxPoints: points }).map((p) => ({
                threshold: finite(p.threshold),
                x: p.recall,
                y: p.precision,
              })),
        thresholds,
      };
    },
  );
};
