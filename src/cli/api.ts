// `fraudstream api`: the HTTP API and dashboard over the PostgreSQL the workers write to.
import type { Command } from "commander";
import { collectDefaultMetrics, Registry } from "prom-client";
import { buildApi } from "../api/server.ts";
import { migrateWithRetry } from "../app/migrate.ts";
import { ConfigError, loadConfig } from "../config/config.ts";
import { createPgStore } from "../io/pg/index.ts";
import { createLogger } from "../observe/logger.ts";
import { intFlag, requireServices, shutdownSignal } from "./options.ts";

export function registerApi(program: Command): void {
  program
    .command("api")
    .description("Serve the REST API (OpenAPI at /docs), the live alert stream and the dashboard")
    .option("--port <port>", "HTTP port (default FRAUDSTREAM_PORT)", intFlag(0, 65535))
    .action(async (flags: { port?: number }) => {
      const config = loadConfig(process.env, flags.port === undefined ? {} : { port: flags.port });
      const { databaseUrl } = requireServices(config, "api", { kafka: false });
      if (config.apiKeys === undefined)
        throw new ConfigError(
          "FRAUDSTREAM_API_KEYS must be set for `api`: role:key pairs such as admin:<a long random key>",
        );
      const logger = createLogger(config.logLevel, "api");
      const signal = shutdownSignal((s) => logger.info({ signal: s }, "stopping"));
      const store = await createPgStore({
        url: databaseUrl,
        partitionDaysAhead: config.partitionDaysAhead,
        logger,
      });
      try {
        await migrateWithRetry(store, { signal, maxDelayMs: config.dbRetryMaxMs, logger });
        const metrics = new Registry();
        collectDefaultMetrics({ register: metrics, prefix: "fraudstream_api_" });
        const app = await buildApi({
          db: store.db,
          keys: config.apiKeys,
          corsOrigins: config.corsOrigins,
          rateLimitPerMinute: config.rateLimitPerMinute,
          logger,
          metrics,
        });
        const address = await app.listen({ port: config.port, host: "0.0.0.0" });
        logger.info({ address, docs: `${address}/docs` }, "API listening");
        await new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => resolve(), { once: true }),
        );
        await app.close();
      } finally {
        await store.close();
      }
    });
}
