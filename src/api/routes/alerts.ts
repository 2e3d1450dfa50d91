// Alerts: list with filters and cursor pagination, one transaction with everything that explains it,
// analyst feedback and assignment, and the live stream (Server-Sent Events).
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Alert } from "../../io/pg/alerts.ts";
import { NEEDS } from "../auth.ts";
import type { ApiContext } from "../context.ts";
import {
  ALERT_COUNT_CAP,
  AlertPageSchema,
  AlertQuerySchema,
  AlertSchema,
  AssignBodySchema,
  ErrorSchema,
  FeedbackBodySchema,
  NotificationSchema,
  TransactionDetailSchema,
  TransactionIdParams,
} from "../schemas.ts";

const HISTORY = 20;
/** Alerts a reconnecting client may catch up on; older ones are for the list endpoint. */
const CATCH_UP_MAX = 10_000;

export const alertRoutes: FastifyPluginAsync<ApiContext> = async (fastify, ctx) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { auth, alerts, transactions, feed } = ctx;

  app.get(
    "/api/alerts",
    {
      preHandler: auth.require("viewer"),
      schema: {
        summary: "Alerts, newest first, and how many match the filter (counted up to a cap)",
        tags: ["alerts"],
        querystring: AlertQuerySchema,
        response: { 200: AlertPageSchema, 400: ErrorSchema },
      },
    },
    async (req) => {
      const q = req.query;
      const filter = { userId: q.user_id, risk: q.risk, status: q.status, from: q.from, to: q.to };
      const [page, count] = await Promise.all([
        alerts.list({ ...filter, before: q.cursor, limit: q.limit }),
        alerts.count(filter, ALERT_COUNT_CAP),
      ]);
      return { ...page, total: count.total, totalCapped: count.capped };
    },
  );

  app.get(
    "/api/transactions/:id",
    {
      preHandler: auth.require("viewer"),
      schema: {
        summary: "One transaction: features, score, explanation, rule hits, versions, the user's history",
        tags: ["alerts"],
        params: TransactionIdParams,
        response: { 200: TransactionDetailSchema, 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      const t = await transactions.get(req.params.id);
      if (t === null)
        return reply.code(404).send({ error: "not_found", message: `no transaction ${req.params.id}` });
      const [alert, feedback, history] = await Promise.all([
        alerts.get(t.transactionId),
        alerts.feedback(t.transactionId),
        transactions.history(t.userId, t.eventTime, HISTORY),
      ]);
      return { transaction: t, alert, feedback, history };
    },
  );

  app.post(
    "/api/alerts/:id/feedback",
    {
      preHandler: auth.require(NEEDS.label),
      schema: {
        summary: "Label an alert as confirmed fraud or a false positive",
        tags: ["alerts"],
        params: TransactionIdParams,
        body: FeedbackBodySchema,
        response: { 200: AlertSchema, 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      const who = req.principal?.name ?? "unknown";
      const a = await alerts.label(req.params.id, req.body.label, who, req.body.note ?? null);
      if (a === null)
        return reply.code(404).send({ error: "not_found", message: `no alert for ${req.params.id}` });
      return a;
    },
  );

  app.get(
    "/api/alerts/:id/notification",
    {
      preHandler: auth.require("viewer"),
      schema: {
        summary:
          "Where the alert's webhook notification stands: attempts, last error, next attempt, delivery",
        tags: ["alerts"],
        params: TransactionIdParams,
        response: { 200: NotificationSchema, 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      const n = await alerts.notification(req.params.id);
      if (n === null)
        return reply.code(404).send({ error: "not_found", message: `no alert for ${req.params.id}` });
      return n;
    },
  );

  app.post(
    "/api/alerts/:id/assign",
    {
      preHandler: auth.require(NEEDS.assign),
      schema: {
        summary: "Assign an alert to an analyst (null unassigns)",
        tags: ["alerts"],
        params: TransactionIdParams,
        body: AssignBodySchema,
        response: { 200: AlertSchema, 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      const a = await alerts.assign(req.params.id, req.body.assignee);
      if (a === null)
        return reply.code(404).send({ error: "not_found", message: `no alert for ${req.params.id}` });
      return a;
    },
  );

  app.get(
    "/api/alerts/stream",
    {
      preHandler: auth.require("viewer"),
      schema: {
        summary: "New alerts as Server-Sent Events (event `alert`, id = resume mark); honours Last-Event-ID",
        tags: ["alerts"],
        querystring: z.object({
          access_token: z.string().optional(),
          last_event_id: z.coerce.number().int().min(-1).optional(),
        }),
        headers: z.object({ "last-event-id": z.coerce.number().int().min(-1).optional() }).passthrough(),
      },
    },
    async (req, reply) => {
      const resumeFrom = req.headers["last-event-id"] ?? req.query.last_event_id;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      const sent = new Set<number>();
      let closed = false;
      const write = (items: Alert[], mark: number) => {
        for (const a of items) {
          if (sent.has(a.seq)) continue;
          sent.add(a.seq);
          res.write(`id: ${mark}\nevent: alert\ndata: ${JSON.stringify(a)}\n\n`);
        }
        if (sent.size > 50_000) sent.clear(); // the feed never repeats far back; bound the memory
      };
      // Subscribe first, then catch up: what arrives meanwhile is buffered and deduplicated by seq.
      const buffered: [Alert[], number][] = [];
      let live = false;
      const unsubscribe = feed.subscribe((items, mark) => {
        if (closed) return;
        if (live) write(items, mark);
        else buffered.push([items, mark]);
      });
      const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
      req.raw.on("close", () => {
        closed = true;
        clearInterval(heartbeat);
        unsubscribe();
      });
      res.write("retry: 2000\n\n");
      if (resumeFrom !== undefined) {
        let after = resumeFrom;
        for (let total = 0; total < CATCH_UP_MAX && !closed; ) {
          const page = await alerts.since(after, 1000);
          if (page.length === 0) break;
          const last = page[page.length - 1] as Alert;
          // The mark sent with caught-up alerts is the feed's: everything at or below it is settled.
          write(page, Math.min(feed.mark, last.seq));
          after = last.seq;
          total += page.length;
        }
      }
      live = true;
      for (const [items, mark] of buffered) write(items, mark);
      buffered.length = 0;
    },
  );
};
