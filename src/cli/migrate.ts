import type { Command } from "commander";
import { ConfigError, loadConfig } from "../config/config.ts";
import { createPgStore } from "../io/pg/index.ts";
import { createLogger } from "../observe/logger.ts";

export function registerMigrate(program: Command): void {
  program
    .command("migrate")
    .description("Apply pending database migrations to DATABASE_URL (also done at worker start)")
    .action(async () => {
      const config = loadConfig();
      if (config.databaseUrl === undefined) throw new ConfigError("DATABASE_URL must be set for `migrate`");
      const logger = createLogger(config.logLevel, "migrate");
      const store = await createPgStore({
        url: config.databaseUrl,
        partitionDaysAhead: config.partitionDaysAhead,
        logger,
      });
      try {
        await store.migrate();
        logger.info("database is up to date");
      } finally {
        await store.close();
      }
    });
}
