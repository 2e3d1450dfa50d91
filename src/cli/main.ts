// The `fraudstream` command. Each subcommand lives in its own module and registers itself here.
import { Command, CommanderError } from "commander";
import { ConfigError } from "../config/config.ts";
import { InputFileError } from "../io/files/errors.ts";
import { registerApi } from "./api.ts";
import { registerBacktest } from "./backtest.ts";
import { registerDemo } from "./demo.ts";
import { registerMigrate } from "./migrate.ts";
import { ModelCliError, registerModel } from "./model.ts";
import { GbdtCliError } from "./model-gbdt.ts";
import { OutputFileError } from "./output.ts";
import { registerReplay } from "./replay.ts";
import { registerRules } from "./rules.ts";
import { registerSimulate } from "./simulate.ts";
import { registerWorker } from "./worker.ts";

export function buildProgram(): Command {
  const program = new Command("fraudstream")
    .description("Real-time fraud and anomaly detection for payment transactions")
    .version("0.1.0")
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: false });
  registerDemo(program);
  registerSimulate(program);
  registerReplay(program);
  registerWorker(program);
  registerApi(program);
  registerModel(program);
  registerBacktest(program);
  registerRules(program);
  registerMigrate(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (
      err instanceof ConfigError ||
      err instanceof InputFileError ||
      err instanceof OutputFileError ||
      err instanceof ModelCliError ||
      err instanceof GbdtCliError
    ) {
      process.stderr.write(`fraudstream: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`fraudstream: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}

if (import.meta.main) await main(process.argv);
