// The raw topic as a destination of serialized events, for the commands that produce to it
// (`simulate --kafka`, `replay`). The Kafka client is loaded only when a command actually produces.
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
