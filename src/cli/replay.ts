// `fraudstream replay`: recorded transactions from a CSV, JSON Lines or Parquet file to the raw topic,
// key = user_id, in file order. Each send is awaited before the next, so every partition (and so every
// user) receives its events in the order of the file. Rows are validated with the worker's own parser
// first: a row the worker would dead-letter is reported with its line number and not sent. Events keep
// their recorded timestamps; nothing is restamped.
import { statSync } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import { loadConfig } from "../config/config.ts";
import { formatOf } from "../io/files/format.ts";
import { createPacer } from "../simulate/pace.ts";
import { intFlag, requireServices, shutdownSignal } from "./options.ts";
import { kafkaOutput } from "./output.ts";
import { perSecond, printAbove, printSummary, progressBar } from "./progress.ts";

interface ReplayFlags {
  input: string;
  rate?: number;
}

/** Rejects listed one by one on stderr; past this only the summary counts them. */
const MAX_LISTED = 1000;

function inputFlag(value: string): string {
  try {
    formatOf(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  let isFile = false;
  try {
    isFile = statSync(value).isFile();
  } catch {
    throw new InvalidArgumentError(`no such file: ${value}`);
  }
  if (!isFile) throw new InvalidArgumentError(`${value} is not a file`);
  return value;
}

export function registerReplay(program: Command): void {
  program
    .command("replay")
    .description("Send recorded transactions from a CSV, JSON Lines or Parquet file to Kafka, key = user_id")
    .requiredOption("--input <file>", "events to send: .jsonl (.ndjson), .csv or .parquet", inputFlag)
    .option(
      "--rate <events/s>",
      "pace at this many events per second (default: as fast as the broker takes them)",
      intFlag(1, 10_000_000),
    )
    .action(async (flags: ReplayFlags) => {
      const config = loadConfig();
      requireServices(config, "replay", { database: false }); // before touching the file or the broker
      let interrupted: string | null = null;
      const signal = shutdownSignal((s) => {
        interrupted = s;
      });
      const { openEvents } = await import("../io/files/events.ts"); // loads the CSV and Parquet readers
      const events = await openEvents(flags.input);
      const { rows } = events;
      const output = await kafkaOutput(config, "replay", "replay");
      const pacer = flags.rate === undefined ? undefined : createPacer(flags.rate);
      const bar = progressBar(
        ` {bar} {percentage}% | {sent} sent | {rejected} rejected | {rate} ev/s | ETA {eta_formatted}`,
      );
      bar?.start(Math.max(1, rows.size), 0, { sent: 0, rejected: 0, rate: 0 });
      const started = performance.now();
      let sent = 0;
      let rejected = 0;
      const byReason: Record<string, number> = {};
      const reject = (line: number, reason: string, detail: string) => {
        rejected++;
        byReason[reason] = (byReason[reason] ?? 0) + 1;
        if (rejected <= MAX_LISTED) printAbove(bar, `${rows.unit} ${line}: ${detail}`);
        else if (rejected === MAX_LISTED + 1)
          printAbove(bar, `(more than ${MAX_LISTED} rejects: the rest are only counted in the summary)`);
      };

      try {
        for await (const batch of events.batches()) {
          const lines: string[] = [];
          const keys: string[] = [];
          for (const row of batch) {
            if (!row.ok) {
              reject(row.line, row.reason, row.detail);
              continue;
            }
            const value = JSON.stringify(row.payload);
            const bytes = Buffer.byteLength(value);
            if (bytes > config.maxEventBytes) {
              reject(
                row.line,
                "too_large",
                `the event is ${bytes} bytes; the limit is ${config.maxEventBytes} (FRAUDSTREAM_MAX_EVENT_BYTES)`,
              );
              continue;
            }
            lines.push(value);
            keys.push(row.event.user_id);
          }
          for (let i = 0; i < lines.length && !signal.aborted; ) {
            let n = lines.length - i;
            if (pacer !== undefined) {
              const due = pacer.due(sent);
              if (due <= 0) {
                await pacer.wait(sent);
                continue;
              }
              n = Math.min(n, due);
            }
            await output.write(lines.slice(i, i + n), keys.slice(i, i + n));
            i += n;
            sent += n;
            bar?.update(rows.position(), {
              sent,
              rejected,
              rate: perSecond(sent, performance.now() - started),
            });
          }
          bar?.update(rows.position(), { sent, rejected });
          if (signal.aborted) break;
        }
      } finally {
        bar?.stop();
        // Every write was acknowledged before the next; closing releases the producer.
        await output.close();
      }
      const elapsedMs = performance.now() - started;
      printSummary({
        input: flags.input,
        format: rows.format,
        topic: config.topicRaw,
        sent,
        rejected,
        by_reason: byReason,
        seconds: Math.round(elapsedMs / 100) / 10,
        events_per_second: perSecond(sent, elapsedMs),
        interrupted,
      });
    });
}
