import type { Command } from "commander";
import { runDemo } from "../app/demo.ts";
import { loadConfig } from "../config/config.ts";
import { createLogger } from "../observe/logger.ts";
import { intFlag, numberFlag, shutdownSignal } from "./options.ts";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description(
      "Run the whole pipeline in one process with no services (simulator → in-process log → worker → PGlite)",
    )
    .option(
      "--duration <seconds>",
      "stop after this many seconds, drain, and print a JSON summary",
      intFlag(1),
    )
    .option("--port <port>", "HTTP port for the API and dashboard (FRAUDSTREAM_PORT)", intFlag(0, 65535))
    .option("--rate <events/s>", "events per second produced", intFlag(1, 1_000_000), 500)
    .option("--users <n>", "simulated users", intFlag(1), 2000)
    .option("--seed <n>", "simulator seed", intFlag(0), 42)
    .option("--fraud-rate <share>", "share of fraudulent events", numberFlag(0, 1), 0.05)
    .action(
      async (flags: {
        duration?: number;
        port?: number;
        rate: number;
        users: number;
        seed: number;
        fraudRate: number;
      }) => {
        const config = loadConfig(process.env, { port: flags.port });
        const logger = createLogger(config.logLevel, "demo");
        const signal = shutdownSignal(() =>
          logger.info("stopping: draining what was produced (Ctrl-C again to quit now)"),
        );
        const summary = await runDemo(
          {
            durationS: flags.duration,
            rate: flags.rate,
            users: flags.users,
            seed: flags.seed,
            fraudRate: flags.fraudRate,
            onListening: ({ url, adminKey }) =>
              process.stdout.write(
                `dashboard: ${url}/#key=${adminKey}\nadmin API key: ${adminKey} (API docs: ${url}/docs)\n`,
              ),
          },
          config,
          logger,
          signal,
        );
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      },
    );
}
