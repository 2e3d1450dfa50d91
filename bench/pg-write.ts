// Throughput of Store.writeBatch: batches of scored rows (realistic width: ~10 features, a full raw
// payload) plus one checkpoint advance each, as the worker writes them.
//
//   node bench/pg-write.ts [--server postgres://postgres@127.0.0.1:5432] [--batches 20]
//                        [--batch-size 5000] [--pglite]
//
// Creates a scratch database on the server, drops it at the end. With --pglite, measures in-memory PGlite
// instead. Prints one JSON line per run.
import { parseArgs } from "node:util";
import pg from "pg";
import { createPgliteStore, createPgStore, type PgStore } from "../src/io/pg/store.ts";
import type { ScoredRow } from "../src/pipeline/ports.ts";

const { values } = parseArgs({
  options: {
    server: { type: "string", default: "postgres://postgres@127.0.0.1:5432" },
    batches: { type: "string", default: "20" },
    "batch-size": { type: "string", default: "5000" },
    pglite: { type: "boolean", default: false },
  },
});
const batches = Number(values.batches);
const batchSize = Number(values["batch-size"]);

function row(i: number, now: number): ScoredRow {
  const id = `bench-${i}`;
  const amount = Math.round(Math.random() * 50_000) / 100;
  const eventTime = now - Math.floor(Math.random() * 3_600_000);
  return {
    transactionId: id,
    eventTime,
    userId: `user-${i % 10_000}`,
    cardId: `card-${i % 20_000}`,
    amount,
    currency: "EUR",
    merchantId: `merchant-${i % 500}`,
    merchantCategory: "grocery",
    country: "DE",
    channel: "online",
    device: "Mobile",
    features: Object.fromEntries(Array.from({ length: 10 }, (_, f) => [`feature_${f}`, Math.random()])),
    score: Math.random(),
    risk: "LOW",
    decision: "APPROVE",
    modelVersion: "iforest-2026-01",
    ruleSetVersion: "rules-7",
    explanation: {
      points: { score: 1.5, rules: 2, total: 3.5 },
      hits: [{ id: "high_value", weight: 2, description: "Amount above 3,000" }],
      factors: [{ feature: "amount_zscore", value: 3.1, contribution: 0.4213 }],
    },
    isFraud: false,
    fraudType: null,
    payload: {
      transaction_id: id,
      timestamp: new Date(eventTime).toISOString(),
      user_id: `user-${i % 10_000}`,
      card_id: `card-${i % 20_000}`,
      amount,
      currency: "EUR",
      merchant_id: `merchant-${i % 500}`,
      merchant_name: "Corner Shop GmbH",
      merchant_category: "grocery",
      channel: "online",
      device: "Mobile",
      ip_address: "203.0.113.7",
      country: "DE",
      city: "Berlin",
      latitude: 52.52,
      longitude: 13.405,
    },
    source: { topic: "transactions_raw", partition: 0, offset: BigInt(i) },
    producedAt: now,
    ingestedAt: now,
  };
}

async function run(store: PgStore): Promise<void> {
  await store.migrate();
  const now = Date.now();
  // Warm-up batch: partitions, plan caches, JIT of the serializer.
  let offset = 0;
  const warm = Array.from({ length: batchSize }, (_, i) => row(-1 - i, now));
  await store.writeBatch({ scored: warm, deadLetters: [], checkpoints: [] });
  let from: bigint | null = null;
  let busyMs = 0;
  for (let b = 0; b < batches; b++) {
    const rows = Array.from({ length: batchSize }, (_, i) => row(offset + i, now));
    offset += batchSize;
    const to = BigInt(offset);
    const t0 = performance.now();
    await store.writeBatch({
      scored: rows,
      deadLetters: [],
      checkpoints: [{ group: "bench", topic: "transactions_raw", partition: 0, from, to }],
    });
    busyMs += performance.now() - t0;
    from = to;
  }
  const rows = batches * batchSize;
  console.log(
    JSON.stringify({
      driver: store.db.driver,
      batches,
      batchSize,
      rows,
      ms: Math.round(busyMs),
      rowsPerSecond: Math.round(rows / (busyMs / 1000)),
      msPerBatch: Math.round((busyMs / batches) * 10) / 10,
    }),
  );
}

if (values.pglite) {
  const store = await createPgliteStore();
  try {
    await run(store);
  } finally {
    await store.close();
  }
} else {
  const name = `fraudstream_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: `${values.server}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const store = await createPgStore({ url: `${values.server}/${name}` });
  try {
    await run(store);
  } finally {
    await store.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
