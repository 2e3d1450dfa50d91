// Parsers for numeric command-line flags that name the flag in their error.
import { InvalidArgumentError } from "commander";
import { type Config, ConfigError } from "../config/config.ts";

export function intFlag(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

export function numberFlag(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

/** Aborts the returned signal on SIGINT/SIGTERM; a second signal exits at once. */
export function shutdownSignal(onFirst?: (signal: string) => void): AbortSignal {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    onFirst?.(signal);
    controller.abort();
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return controller.signal;
}

/** The service settings a command needs, or a ConfigError naming the missing variable. */
export function requireServices(
  config: Config,
  command: string,
  needs: { kafka?: boolean; database?: boolean } = {},
): { brokers: string[]; databaseUrl: string } {
  const kafka = needs.kafka ?? true;
  const database = needs.database ?? true;
  if (kafka && config.kafkaBrokers === undefined)
    throw new ConfigError(`KAFKA_BROKERS must be set for \`${command}\` (host:port of the Kafka brokers)`);
  if (database && config.databaseUrl === undefined)
    throw new ConfigError(`DATABASE_URL must be set for \`${command}\` (postgres://user@host:port/db)`);
  return { brokers: config.kafkaBrokers ?? [], databaseUrl: config.databaseUrl ?? "" };
}
