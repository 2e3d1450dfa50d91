import type { Command } from "commander";
import { runKafkaWorker } from "../app/worker.ts";
import { loadConfig } from "../config/config.ts";
import { createLogger } from "../observe/logger.ts";
import { requireServices, shutdownSignal } from "./options.ts";

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description("Consume transactions from Kafka, score and decide, write every event to PostgreSQL")
    .action(async () => {
      const config = loadConfig();
      const services = requireServices(config, "worker");
      const logger = createLogger(config.logLevel, "worker");
      const signal = shutdownSignal((s) =>
        logger.info({ signal: s }, "stopping: finishing the batch in hand"),
      );
      await runKafkaWorker(config, services, logger, signal);
    });
}
