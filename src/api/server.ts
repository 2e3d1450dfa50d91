// The HTTP API and the dashboard's host. Each capability is a Fastify plugin registered with its
// options; every route declares its zod schemas once, which give validation, serialization and the
// OpenAPI document at /docs. Security: API keys with roles (auth.ts), rate limiting per key, security
// headers (helmet), CORS only for configured origins, parameterised SQL in the repositories.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import cors from "@fastify/cors";
import helmet from "@fastify/helmet";
import rateLimit from "@fastify/rate-limit";
import fastifyStatic from "@fastify/static";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyError, LogController } from "fastify";
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { Logger } from "pino";
import { Counter, Histogram, type Registry } from "prom-client";
import { createAlertStore } from "../io/pg/alerts.ts";
import type { Db } from "../io/pg/db.ts";
import { createModelRegistry } from "../io/pg/models.ts";
import { createRuleSetRegistry } from "../io/pg/rule-sets.ts";
import { createStatsStore } from "../io/pg/stats.ts";
import { createTransactionStore } from "../io/pg/transactions.ts";
import { type ApiKey, Authenticator } from "./auth.ts";
import type { ApiContext } from "./context.ts";
import { AlertFeed } from "./live.ts";
import { alertRoutes } from "./routes/alerts.ts";
import { meRoutes } from "./routes/me.ts";
import { modelRoutes } from "./routes/models.ts";
import { ruleRoutes } from "./routes/rules.ts";
import { statsRoutes } from "./routes/stats.ts";
import { HealthSchema } from "./schemas.ts";

export interface ApiOptions {
  db: Db;
  keys: readonly ApiKey[];
  corsOrigins: readonly string[];
  rateLimitPerMinute: number;
  logger: Logger;
  /** Prometheus registry served at /metrics (no auth, like /healthz: scraped by Prometheus). */
  metrics?: Registry;
  /** Directory of the built dashboard (web/dist); served at / when it exists. */
  webDir?: string;
  /** How often the live feed polls for new alerts (ms). */
  feedPollMs?: number;
}

const DEFAULT_WEB_DIR = fileURLToPath(new URL("../../web/dist/", import.meta.url));

export async function buildApi(opts: ApiOptions) {
  if (opts.keys.length === 0) throw new Error("the API needs at least one key (FRAUDSTREAM_API_KEYS)");
  const app = Fastify({
    loggerInstance: opts.logger,
    // Each request is counted by the metrics hook instead of logged (fastify 5's way to say it: the
    // top-level disableRequestLogging option is deprecated).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // Bad input is a 4xx that says what is wrong, never a 5xx.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const first = err.validation[0];
      const path = (first?.instancePath ?? "").replaceAll("/", ".").replace(/^\.$/, "");
      const where = `${err.validationContext ?? "request"}${path}`;
      return reply
        .code(400)
        .send({ error: "bad_request", message: `${where}: ${first?.message ?? err.message}` });
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500)
      return reply.code(err.statusCode).send({ error: err.code ?? "bad_request", message: err.message });
    req.log.error({ err }, "request failed");
    return reply.code(500).send({ error: "internal", message: "internal error; see the API's log" });
  });

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        // Helmet's default would make browsers fetch the dashboard over https even where the API is
        // served over plain http (a private network, a compose stack): its files would not load.
        upgradeInsecureRequests: null,
      },
    },
  });
  await app.register(cors, { origin: opts.corsOrigins.length === 0 ? false : [...opts.corsOrigins] });
  const auth = new Authenticator(opts.keys);
  await app.register(rateLimit, {
    max: opts.rateLimitPerMinute,
    timeWindow: "1 minute",
    // Per key where one is presented (its digest, never the key), else per address.
    keyGenerator: (req) => {
      const h = req.headers.authorization;
      return typeof h === "string"
        ? `key:${auth.identify(h.replace(/^Bearer\s+/i, ""))?.name ?? "unknown"}`
        : `ip:${req.ip}`;
    },
    allowList: (req) => req.url === "/healthz" || req.url === "/readyz" || req.url === "/metrics",
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: "fraudstream API",
        version: "0.1.0",
        description: "Alerts, feedback, statistics, models; GET /api/me tells a key its role.",
      },
      components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer" } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });

  const feed = new AlertFeed({
    store: createAlertStore(opts.db),
    pollMs: opts.feedPollMs ?? 500,
    gapTimeoutMs: 15_000,
  });
  const ctx: ApiContext = {
    db: opts.db,
    auth,
    alerts: createAlertStore(opts.db),
    transactions: createTransactionStore(opts.db),
    stats: createStatsStore(opts.db),
    models: createModelRegistry(opts.db),
    ruleSets: createRuleSetRegistry(opts.db),
    feed,
  };

  app.get(
    "/healthz",
    { schema: { summary: "Liveness", tags: ["health"], response: { 200: HealthSchema } } },
    async () => ({ status: "ok" as const }),
  );
  app.get(
    "/readyz",
    {
      schema: {
        summary: "Readiness: the database answers",
        tags: ["health"],
        response: { 200: HealthSchema, 503: HealthSchema },
      },
    },
    async (_req, reply) => {
      try {
        await opts.db.query("SELECT 1");
        return { status: "ok" as const };
      } catch (err) {
        return reply
          .code(503)
          .send({ status: "unavailable" as const, detail: err instanceof Error ? err.message : String(err) });
      }
    },
  );
  const metrics = opts.metrics;
  if (metrics !== undefined) {
    // Per route pattern (never the raw URL: ids would make unbounded label sets) and status code.
    const requests = new Counter({
      name: "fraudstream_api_requests_total",
      help: "HTTP requests answered by the API, by method, route pattern and status code.",
      labelNames: ["method", "route", "status"],
      registers: [metrics],
    });
    const duration = new Histogram({
      name: "fraudstream_api_request_duration_seconds",
      help: "Time to answer an HTTP request, by method and route pattern (SSE streams excluded).",
      labelNames: ["method", "route"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [metrics],
    });
    app.addHook("onResponse", async (req, reply) => {
      const route = req.routeOptions.url ?? "unmatched";
      requests.inc({ method: req.method, route, status: String(reply.statusCode) });
      if (route !== "/api/alerts/stream")
        duration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    });
  }
  if (metrics !== undefined)
    app.get("/metrics", { schema: { hide: true } }, async (_req, reply) =>
      reply.header("content-type", metrics.contentType).send(await metrics.metrics()),
    );

  await app.register(meRoutes, ctx);
  await app.register(alertRoutes, ctx);
  await app.register(statsRoutes, ctx);
  await app.register(modelRoutes, ctx);
  await app.register(ruleRoutes, ctx);

  const webDir = opts.webDir ?? DEFAULT_WEB_DIR;
  if (existsSync(webDir)) await app.register(fastifyStatic, { root: webDir, prefix: "/" });
  else
    app.get("/", { schema: { hide: true } }, async () => ({
      message: "dashboard not built: npm run build:web; API docs at /docs",
    }));

  app.addHook("onReady", async () => {
    const latest = await opts.db.query<{ seq: string | null }>("SELECT max(seq)::text AS seq FROM alerts");
    await feed.start(Number(latest.rows[0]?.seq ?? 0));
  });
  app.addHook("onClose", async () => feed.stop());
  return app;
}
