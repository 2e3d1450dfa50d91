// Configuration: flags, then environment, then defaults. Each setting is declared once here with its
// environment variable, type, default and description; the README's table is checked against this list
// by a test, and a bad value fails at start with a message that names the variable.
import { z } from "zod";
import { RiskLevelSchema } from "../contract/outputs.ts";

const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const topicName = z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, "must be a valid Kafka topic name");

interface Setting<S extends z.ZodType> {
  env: string;
  schema: S;
  default: z.input<S> | undefined;
  description: string;
}

function setting<S extends z.ZodType>(
  env: string,
  schema: S,
  defaultValue: z.input<S> | undefined,
  description: string,
): Setting<S> {
  return { env, schema, default: defaultValue, description };
}

export const SETTINGS = {
  kafkaBrokers: setting(
    "KAFKA_BROKERS",
    z
      .string()
      .transform((s) =>
        s
          .split(",")
          .map((b) => b.trim())
          .filter((b) => b.length > 0),
      )
      .pipe(
        z
          .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, "each broker must be host:port"))
          .min(1, "needs at least one host:port"),
      )
      .optional(),
    undefined,
    "Comma-separated Kafka bootstrap brokers (host:port). Unset: `demo` uses its in-process log; `worker`, `replay` and `simulate --kafka` need it.",
  ),
  databaseUrl: setting(
    "DATABASE_URL",
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      .optional(),
    undefined,
    "PostgreSQL connection URL. Unset: `demo` uses embedded PGlite; `worker`, `api` and `migrate` need it.",
  ),
  clientId: setting("FRAUDSTREAM_CLIENT_ID", z.string().min(1), "fraudstream", "Kafka client id prefix."),
  consumerGroup: setting(
    "FRAUDSTREAM_CONSUMER_GROUP",
    z.string().min(1),
    "fraudstream-worker",
    "Kafka consumer group of the stream workers; also the key of their checkpoints.",
  ),
  topicRaw: setting("FRAUDSTREAM_TOPIC_RAW", topicName, "transactions_raw", "Input topic of raw events."),
  topicFeatures: setting(
    "FRAUDSTREAM_TOPIC_FEATURES",
    topicName,
    "transactions_features",
    "Output topic of feature vectors.",
  ),
  topicAnomalies: setting(
    "FRAUDSTREAM_TOPIC_ANOMALIES",
    topicName,
    "transactions_anomalies",
    "Output topic of flagged transactions (alerts).",
  ),
  topicDlq: setting(
    "FRAUDSTREAM_TOPIC_DLQ",
    topicName,
    "transactions_dlq",
    "Dead-letter topic for records that fail validation.",
  ),
  topicPartitions: setting(
    "FRAUDSTREAM_TOPIC_PARTITIONS",
    positiveInt,
    6,
    "Partitions of topics the app creates when missing (parallelism = partitions).",
  ),
  topicReplication: setting(
    "FRAUDSTREAM_TOPIC_REPLICATION",
    positiveInt,
    1,
    "Replication factor of topics the app creates when missing.",
  ),
  batchMaxRecords: setting(
    "FRAUDSTREAM_BATCH_MAX_RECORDS",
    positiveInt,
    5000,
    "Most records the worker processes and writes in one database transaction.",
  ),
  batchMaxWaitMs: setting(
    "FRAUDSTREAM_BATCH_MAX_WAIT_MS",
    nonNegativeInt,
    50,
    "Longest the worker waits for more records after a batch's first one arrived, before processing what it has (ms).",
  ),
  workerConcurrency: setting(
    "FRAUDSTREAM_WORKER_CONCURRENCY",
    positiveInt,
    4,
    "Batches of different partitions one worker processes at once, so that one computes while another waits for the database (each partition's batches stay in order).",
  ),
  maxEventBytes: setting(
    "FRAUDSTREAM_MAX_EVENT_BYTES",
    positiveInt,
    65536,
    "Records larger than this are dead-lettered with reason `too_large` (bytes).",
  ),
  allowedLatenessMs: setting(
    "FRAUDSTREAM_ALLOWED_LATENESS_MS",
    nonNegativeInt,
    300_000,
    "An event older than its user's newest event time minus this is late: dead-lettered with reason `late` (ms of event time).",
  ),
  stateTtlMs: setting(
    "FRAUDSTREAM_STATE_TTL_MS",
    positiveInt,
    2_592_000_000,
    "A user idle this long (event time, behind the partition's newest event) loses its behavioural state and starts afresh; bounds memory (ms; default 30 days).",
  ),
  dbRetryMaxMs: setting(
    "FRAUDSTREAM_DB_RETRY_MAX_MS",
    positiveInt,
    10000,
    "Cap of the exponential backoff between database retries while PostgreSQL is unreachable (ms).",
  ),
  partitionDaysAhead: setting(
    "FRAUDSTREAM_PARTITION_DAYS_AHEAD",
    nonNegativeInt,
    7,
    "Daily partitions of time-partitioned tables created ahead of today.",
  ),
  logLevel: setting(
    "FRAUDSTREAM_LOG_LEVEL",
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    "info",
    "Log level (pino) of structured JSON logs on stderr.",
  ),
  metricsPort: setting(
    "FRAUDSTREAM_METRICS_PORT",
    z.coerce.number().int().min(0).max(65535),
    9464,
    "Port of the worker's Prometheus endpoint (GET /metrics, /healthz); 0 turns it off.",
  ),
  port: setting(
    "FRAUDSTREAM_PORT",
    z.coerce.number().int().min(0).max(65535),
    8080,
    "HTTP port of `api` and `demo`.",
  ),
  apiKeys: setting(
    "FRAUDSTREAM_API_KEYS",
    z
      .string()
      .transform((s) =>
        s
          .split(",")
          .map((k) => k.trim())
          .filter((k) => k.length > 0),
      )
      .pipe(
        z
          .array(
            z
              .string()
              .regex(
                /^(viewer|analyst|admin):[A-Za-z0-9_-]{16,}$/,
                "each entry must be role:key with role viewer, analyst or admin and a key of 16+ letters, digits, _ or -",
              ),
          )
          .min(1),
      )
      .transform((entries) =>
        entries.map((e) => {
          const at = e.indexOf(":");
          return { role: e.slice(0, at) as "viewer" | "analyst" | "admin", key: e.slice(at + 1) };
        }),
      )
      .optional(),
    undefined,
    "API keys of `api` as role:key pairs, comma-separated (roles viewer, analyst, admin). `api` needs at least one; `demo` makes an admin key and prints it.",
  ),
  corsOrigins: setting(
    "FRAUDSTREAM_CORS_ORIGINS",
    z.string().transform((s) =>
      s
        .split(",")
        .map((o) => o.trim())
        .filter((o) => o.length > 0),
    ),
    "",
    "Origins allowed to call the API from a browser (comma-separated); empty allows none but the API's own.",
  ),
  rateLimitPerMinute: setting(
    "FRAUDSTREAM_RATE_LIMIT_PER_MIN",
    positiveInt,
    1200,
    "Requests per minute one API key (or address, without a key) may make before 429.",
  ),
  webhookUrl: setting(
    "FRAUDSTREAM_WEBHOOK_URL",
    z.url({ protocol: /^https?$/ }).optional(),
    undefined,
    "Webhook (e.g. a Slack incoming webhook) that receives alerts as JSON; unset: no notifications.",
  ),
  webhookRisks: setting(
    "FRAUDSTREAM_WEBHOOK_RISKS",
    z
      .string()
      .transform((s) =>
        s
          .split(",")
          .map((r) => r.trim())
          .filter((r) => r.length > 0),
      )
      .pipe(z.array(RiskLevelSchema).min(1)),
    "CRITICAL",
    "Risk levels whose alerts are posted to the webhook (comma-separated).",
  ),
  webhookTimeoutMs: setting(
    "FRAUDSTREAM_WEBHOOK_TIMEOUT_MS",
    positiveInt,
    5000,
    "Longest wait for the webhook's answer before the post counts as failed and is retried (ms).",
  ),
  reloadMs: setting(
    "FRAUDSTREAM_RELOAD_MS",
    positiveInt,
    2000,
    "How often workers look for a newly promoted model or activated rule set (ms).",
  ),
} as const;

type Settings = typeof SETTINGS;
export type SettingKey = keyof Settings;
export type Config = { [K in SettingKey]: z.output<Settings[K]["schema"]> };

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Builds the configuration. `overrides` are values from command-line flags (already typed or as text);
 * they win over `env`, which wins over the defaults.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<Record<SettingKey, unknown>> = {},
): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, s] of Object.entries(SETTINGS) as [SettingKey, Setting<z.ZodType>][]) {
    const fromFlag = overrides[key];
    const fromEnv = env[s.env];
    const raw =
      fromFlag !== undefined ? fromFlag : fromEnv !== undefined && fromEnv !== "" ? fromEnv : s.default;
    const parsed = s.schema.safeParse(raw);
    if (parsed.success) {
      out[key] = parsed.data;
    } else {
      const where = fromFlag !== undefined ? `flag for ${s.env}` : s.env;
      problems.push(`${where}=${JSON.stringify(raw)}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join("\n  ")}`);
  return out as Config;
}

/** The README's configuration table (markdown), in declaration order. */
export function renderConfigTable(): string {
  const rows = Object.values(SETTINGS).map((s) => {
    const def = s.default === undefined ? "(unset)" : `\`${String(s.default)}\``;
    return `| \`${s.env}\` | ${def} | ${s.description.replaceAll("|", "\\|")} |`;
  });
  return ["| Variable | Default | Meaning |", "| --- | --- | --- |", ...rows].join("\n");
}
