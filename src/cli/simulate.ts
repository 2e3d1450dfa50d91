// `fraudstream simulate`: synthetic transactions (src/simulate) to a JSONL file, stdout or Kafka.
// Without --rate, as fast as possible with event time advancing on the simulated clock from --start;
// with --rate, paced in real time with each event stamped with the wall clock.
import { type Command, InvalidArgumentError, Option } from "commander";
import { loadConfig } from "../config/config.ts";
import { parseEventTime } from "../contract/transaction.ts";
import { createSimulator, SCENARIO_NAMES, type ScenarioName } from "../simulate/index.ts";
import { type RunResult, runSimulation } from "../simulate/run.ts";
import { intFlag, numberFlag, shutdownSignal } from "./options.ts";
import { fileOutput, kafkaOutput, STREAM_BATCH_SIZE, streamOutput } from "./output.ts";
import { perSecond, printSummary, progressBar } from "./progress.ts";

interface SimulateFlags {
  count?: number;
  duration?: number;
  rate?: number;
  fraudRate: number;
  users: number;
  seed: number;
  start?: number;
  mix?: Partial<Record<ScenarioName, number>>;
  out?: string;
  stdout?: boolean;
  kafka?: boolean;
}

function startFlag(value: string): number {
  const t = parseEventTime(value);
  if (Number.isNaN(t))
    throw new InvalidArgumentError(`expected an RFC 3339 time such as 2026-11-01T00:00:00Z, got "${value}"`);
  return t;
}

function mixFlag(value: string): Partial<Record<ScenarioName, number>> {
  const mix: Partial<Record<ScenarioName, number>> = {};
  for (const part of value.split(",")) {
    const [name, weight] = part.split("=").map((s) => s.trim());
    if (!SCENARIO_NAMES.includes(name as ScenarioName))
      throw new InvalidArgumentError(`unknown scenario "${name}"; known: ${SCENARIO_NAMES.join(", ")}`);
    const w = Number(weight);
    if (weight === undefined || weight === "" || !Number.isFinite(w) || w < 0)
      throw new InvalidArgumentError(`scenario ${name} needs a weight ≥ 0, as in ${name}=2`);
    mix[name as ScenarioName] = w;
  }
  return mix;
}

export function registerSimulate(program: Command): void {
  program
    .command("simulate")
    .description("Generate synthetic card transactions with labelled fraud scenarios")
    .addOption(new Option("--count <n>", "events to generate").argParser(intFlag(1)).conflicts("duration"))
    .option(
      "--duration <seconds>",
      "stop after this many seconds: of event time from --start without --rate, of wall time with it",
      intFlag(1),
    )
    .option(
      "--rate <events/s>",
      "pace in real time at this rate, stamping events with the wall clock",
      intFlag(1, 10_000_000),
    )
    .option("--fraud-rate <share>", "share of fraudulent events", numberFlag(0, 0.5), 0.05)
    .option("--users <n>", "simulated card holders", intFlag(1, 2_000_000), 1000)
    .option(
      "--seed <n>",
      "seed: same seed and options, same output byte for byte",
      intFlag(0, 2 ** 32 - 1),
      42,
    )
    .option(
      "--start <time>",
      "event time of the first event without --rate (default 2026-11-01T00:00:00Z)",
      startFlag,
    )
    .option(
      "--mix <weights>",
      `relative weights of fraud scenarios, e.g. card_testing=2,amount_spike=1 (${SCENARIO_NAMES.join(", ")})`,
      mixFlag,
    )
    .addOption(
      new Option("--out <file.jsonl>", "write JSON lines to this file").conflicts(["stdout", "kafka"]),
    )
    .addOption(new Option("--stdout", "write JSON lines to stdout").conflicts(["kafka"]))
    .option("--kafka", "produce to the raw topic (KAFKA_BROKERS, FRAUDSTREAM_TOPIC_RAW), key = user_id")
    .action(async (flags: SimulateFlags, command: Command) => {
      if (flags.out === undefined && flags.stdout !== true && flags.kafka !== true)
        command.error("error: choose an output: --out FILE.jsonl, --stdout or --kafka");
      if (flags.count === undefined && flags.duration === undefined && flags.rate === undefined)
        command.error("error: give --count N or --duration S (or --rate N to run until Ctrl-C)");
      const config = loadConfig();
      const simulator = createSimulator({
        users: flags.users,
        seed: flags.seed,
        fraudRate: flags.fraudRate,
        ...(flags.start === undefined ? {} : { start: flags.start }),
        timestamps: flags.rate === undefined ? "synthetic" : "wall",
        ...(flags.mix === undefined ? {} : { scenarioMix: flags.mix }),
      });
      const output =
        flags.kafka === true
          ? await kafkaOutput(config, "simulate --kafka", "simulator")
          : flags.out !== undefined
            ? fileOutput(flags.out)
            : streamOutput(process.stdout, false);
      const signal = shutdownSignal();
      const bar =
        flags.count !== undefined || flags.duration !== undefined
          ? progressBar(
              flags.count !== undefined
                ? " {bar} {percentage}% | {value}/{total} events | {rate} ev/s | ETA {eta_formatted}"
                : " {bar} {percentage}% of {total} s | {events} events | {rate} ev/s",
            )
          : undefined;
      bar?.start(flags.count ?? flags.duration ?? 0, 0, { rate: 0, events: 0 });
      const start = simulator.options.start;
      let result: RunResult;
      try {
        result = await runSimulation(simulator, output, {
          ...(flags.count === undefined ? {} : { count: flags.count }),
          ...(flags.duration === undefined ? {} : { durationMs: flags.duration * 1000 }),
          ...(flags.rate === undefined ? {} : { rate: flags.rate }),
          batchSize: flags.kafka === true ? 1000 : STREAM_BATCH_SIZE,
          signal,
          onProgress(produced, elapsedMs) {
            if (bar === undefined) return;
            const rate = perSecond(produced, elapsedMs);
            if (flags.count !== undefined) bar.update(produced, { rate });
            else {
              // Seconds of the run: wall time when paced, simulated event time otherwise.
              const secs = flags.rate !== undefined ? elapsedMs / 1000 : (simulator.clock() - start) / 1000;
              bar.update(Math.min(flags.duration ?? 0, Math.floor(secs)), { rate, events: produced });
            }
          },
        });
      } finally {
        bar?.stop();
        await output.close();
      }
      printSummary({
        produced: result.produced,
        fraud: result.fraud,
        fraud_share:
          result.produced === 0 ? 0 : Math.round((result.fraud / result.produced) * 10_000) / 10_000,
        by_scenario: result.byScenario,
        seconds: Math.round(result.elapsedMs / 100) / 10,
      });
    });
}
