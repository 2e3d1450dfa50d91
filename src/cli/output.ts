// Destinations of serialized events: a JSON Lines file or stdout (`simulate --out`, `--stdout`; the
// simulator benchmark writes through the same code), and the raw topic for the commands that produce to
// it (`simulate --kafka`, `replay`). The Kafka client is loaded only when a command actually produces.
import { closeSync, openSync, type WriteStream, writeSync } from "node:fs";
import { setImmediate } from "node:timers/promises";
import { getSystemErrorMessage } from "node:util";
import type { Config } from "../config/config.ts";
import type { EventWriter } from "../simulate/run.ts";
import { requireServices } from "./options.ts";

/** Where events go: a writer and how to finish with it. */
export interface Output extends EventWriter {
  /** Flushes and releases the destination. */
  close(): Promise<void>;
}

/**
 * FRAUDSTREAM_TOPIC_RAW on KAFKA_BROKERS (created when missing), record key = the given key (user_id).
 * Each write resolves when the broker acknowledged it, so awaiting writes in turn keeps the order.
 */
export async function kafkaOutput(config: Config, command: string, client: string): Promise<Output> {
  const { brokers } = requireServices(config, command, { database: false });
  const kafka = await import("../io/kafka/index.ts");
  const topic = config.topicRaw;
  const clientId = `${config.clientId}-${client}`;
  await kafka.ensureTopics({
    brokers,
    clientId,
    topics: [topic],
    partitions: config.topicPartitions,
    replication: config.topicReplication,
  });
  const sink = await kafka.createKafkaSink({ brokers, clientId });
  return {
    async write(lines, keys) {
      await sink.send(lines.map((value, i) => ({ topic, key: keys[i] ?? null, value })));
    },
    close: () => sink.close(),
  };
}

/**
 * Events per write to a file or stdout. Small enough that a batch's text (~450 characters a line,
 * two bytes each once a line has non-Latin-1 text) and its UTF-8 copy stay ordinary heap objects: V8
 * and malloc put objects over ~128 KiB in fresh pages, and at 2000 lines the page faults cost about
 * 1.5 µs of system time per event (docs/simulator.md, "Performance").
 */
export const STREAM_BATCH_SIZE = 128;

/** JSON lines to a stream, one write per batch; `closeStream` ends it on close (a file, not stdout). */
export function streamOutput(stream: WriteStream | NodeJS.WriteStream, closeStream: boolean): Output {
  let failure: Error | undefined;
  stream.on("error", (err: Error) => {
    failure = err;
  });
  const push = async (chunk: string | Uint8Array): Promise<void> => {
    if (failure !== undefined) throw failure;
    if (!stream.write(chunk))
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          stream.off("error", onError);
          resolve();
        };
        const onError = (err: Error) => {
          stream.off("drain", onDrain);
          reject(err);
        };
        stream.once("drain", onDrain);
        stream.once("error", onError);
      });
  };
  return {
    write: (lines) => push(`${lines.join("\n")}\n`),
    // The stream keeps what it is given until it is flushed: a copy, as the caller reuses its buffer.
    writeBytes: (bytes) => push(Buffer.from(bytes)),
    async close() {
      if (failure !== undefined) throw failure;
      if (closeStream)
        await new Promise<void>((resolve, reject) =>
          (stream as WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve())),
        );
    },
  };
}

/**
 * JSON lines to a new file (truncated when it exists), written synchronously from the caller's buffer:
 * no copy and no hand-off to the I/O thread pool, which cost more than the write itself into the page
 * cache (docs/simulator.md, "Performance"). Only the simulator's own commands write files, so blocking
 * the event loop for each write (256 KiB, see runSimulation) is what they want.
 */
export function fileOutput(path: string): Output {
  let fd: number | undefined = withPath(path, "cannot create it", () => openSync(path, "w"));
  const writeAll = (bytes: Uint8Array): void => {
    const open = fd;
    if (open === undefined) throw new Error(`${path}: written after close`);
    withPath(path, "cannot write to it", () => {
      for (let done = 0; done < bytes.length; ) done += writeSync(open, bytes, done, bytes.length - done);
    });
  };
  return {
    // After each write, a turn of the event loop: the writes themselves never wait, and without it
    // Ctrl-C (whose handler asks the run to stop) would not be seen until the end of the run.
    async write(lines) {
      writeAll(Buffer.from(`${lines.join("\n")}\n`));
      await setImmediate();
    },
    async writeBytes(bytes) {
      writeAll(bytes);
      await setImmediate();
    },
    async close() {
      if (fd === undefined) return;
      const closing = fd;
      fd = undefined;
      withPath(path, "cannot close it", () => closeSync(closing));
    },
  };
}

/** A file the command was told to write that it cannot: the message names the file and the reason. */
export class OutputFileError extends Error {
  override name = "OutputFileError";
}

function withPath<T>(path: string, what: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason =
      e.errno === undefined
        ? e.message
        : `${getSystemErrorMessage(e.errno).toLowerCase()} (${e.code ?? e.errno})`;
    throw new OutputFileError(`${path}: ${what}: ${reason}`, { cause: err });
  }
}
