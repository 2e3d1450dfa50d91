// Destinations of serialized events: a JSON Lines file or stdout (`simulate --out`, `--stdout`; the
// simulator benchmark writes through the same code), and the raw topic for the commands that produce to
// it (`simulate --kafka`, `replay`). The Kafka client is loaded only when a command actually produces.
import { createWriteStream, type WriteStream } from "node:fs";
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
  return {
    async write(lines) {
      if (failure !== undefined) throw failure;
      if (!stream.write(`${lines.join("\n")}\n`))
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
    },
    async close() {
      if (failure !== undefined) throw failure;
      if (closeStream)
        await new Promise<void>((resolve, reject) =>
          (stream as WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve())),
        );
    },
  };
}

/** JSON lines to a new file (truncated when it exists). */
export function fileOutput(path: string): Output {
  return streamOutput(createWriteStream(path), true);
}
