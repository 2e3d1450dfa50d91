// Feature stage benchmark: events/s of FeatureEngine.processBatch on one core (stateless + behavioural
// features, the hot path of the worker), and the memory of per-user state with 1,000,000 users.
//
//   node --expose-gc bench/features.ts [--events N] [--users N] [--memory-users N] [--json]
//
// Results are recorded in docs/features.md ("Measured"). Synthetic events: each user has a home
// country and location, one or two devices and a card; merchants are mostly eight regulars per user, else any
// of a pool of 2,000, in 8 categories; event times advance steadily and 5 % arrive up to 10 minutes out of order (within the
// 15-minute lateness).
import { parseArgs } from "node:util";
import type { Transaction } from "../src/contract/transaction.ts";
import { FeatureEngine } from "../src/features/engine.ts";
import { FEATURES } from "../src/features/registry.ts";
import { writeStatelessFeatures } from "../src/features/stateless.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "2000000" },
    users: { type: "string", default: "100000" },
    "memory-users": { type: "string", default: "1000000" },
    "events-per-user": { type: "string", default: "8" },
    json: { type: "boolean", default: false },
  },
});
const EVENTS = Number(values.events);
const USERS = Number(values.users);
const MEMORY_USERS = Number(values["memory-users"]);
const PER_USER = Number(values["events-per-user"]);
const BATCH = 5000;
const W = FEATURES.length;
const LATENESS = 15 * 60_000;
const DAY = 86_400_000;

/** Deterministic xorshift32 in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4_294_967_296;
  };
}

const COUNTRIES = ["DE", "FR", "US", "GB", "ES", "IT", "NL", "PL", "BR", "IN"];
const CATEGORIES = [
  "grocery",
  "travel",
  "electronics",
  "restaurants",
  "fuel",
  "gambling",
  "crypto",
  "fashion",
];
const CHANNELS = ["pos", "online", "mobile", "atm", "transfer"] as const;

function makeEvent(r: () => number, user: number, i: number): Transaction {
  const home = user % COUNTRIES.length;
  const abroad = r() < 0.05;
  // Mostly the user's own eight regular merchants, sometimes any of the pool.
  const merchant = r() < 0.8 ? (user * 7 + Math.floor(r() * 8)) % 2000 : Math.floor(r() * 2000);
  const e: Transaction = {
    transaction_id: `tx-${i}`,
    timestamp: "2026-11-22T12:00:00Z",
    user_id: `user-${user}`,
    card_id: `card-${user}`,
    amount: Math.round((5 + r() * r() * 500) * 100) / 100,
    currency: "EUR",
    merchant_id: `m-${merchant}`,
    merchant_category: CATEGORIES[merchant % CATEGORIES.length] as string,
    channel: CHANNELS[merchant % CHANNELS.length] as (typeof CHANNELS)[number],
    device: "Mobile",
    device_id: `dev-${user}-${r() < 0.8 ? 0 : 1}`,
    country: COUNTRIES[abroad ? Math.floor(r() * COUNTRIES.length) : home] as string,
    home_country: COUNTRIES[home] as string,
    latitude: 40 + (user % 100) / 10 + r() * 0.1,
    longitude: (user % 200) / 10 + r() * 0.1,
  };
  return e;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error("run with node --expose-gc");
  g();
  g();
}

function throughput(): Record<string, number> {
  // A pool of events reused with advancing times: the objects cost memory, the engine only reads them.
  const POOL = Math.min(EVENTS, 500_000);
  const r = rng(42);
  const pool: Transaction[] = [];
  for (let i = 0; i < POOL; i++) pool.push(makeEvent(r, Math.floor(r() * USERS), i));
  // Time advances so each user sees ~PER_USER events a day on average.
  const stepMs = DAY / (USERS * PER_USER);
  const times = new Float64Array(EVENTS);
  const t0 = Date.UTC(2026, 10, 1);
  for (let i = 0; i < EVENTS; i++)
    times[i] = Math.round(t0 + i * stepMs - (r() < 0.05 ? r() * 10 * 60_000 : 0));
  const out = new Float64Array(BATCH * W);
  const status = new Uint8Array(BATCH);
  const batch: Transaction[] = new Array(BATCH);

  // Each run replays the same events shifted by `offset` so that a warm engine sees time move on.
  const run = (stage: "stateless" | "engine", engine: FeatureEngine, offset: number) => {
    let late = 0;
    const started = performance.now();
    for (let i = 0; i < EVENTS; i += BATCH) {
      const n = Math.min(BATCH, EVENTS - i);
      for (let k = 0; k < n; k++) batch[k] = pool[(i + k) % POOL] as Transaction;
      if (batch.length !== n) batch.length = n;
      const t = times.subarray(i, i + n);
      if (offset !== 0) for (let k = 0; k < n; k++) t[k] = (t[k] as number) + offset;
      if (stage === "engine") {
        late += engine.processBatch(batch, t, out, status);
        engine.clearDirty();
      } else {
        for (let k = 0; k < n; k++)
          writeStatelessFeatures(batch[k] as Transaction, t[k] as number, out, k * W);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    return { eventsPerSecond: EVENTS / seconds, late, users: engine.userCount };
  };
  const options = { allowedLatenessMs: LATENESS, stateTtlMs: 7 * DAY };
  run("engine", new FeatureEngine(options), 0); // JIT warm-up
  const stateless = run("stateless", new FeatureEngine(options), 0);
  // From empty state: every user is created and grows while the run goes on.
  const engine = new FeatureEngine(options);
  const cold = run("engine", engine, 0);
  // Steady state: the same engine, time moved on by the span of the first run, twice (the first of
  // these still sees users' buffers and value tables grow).
  const span = (times[EVENTS - 1] as number) - (times[0] as number);
  run("engine", engine, span);
  const warm = run("engine", engine, span);
  return {
    events: EVENTS,
    users: USERS,
    statelessEventsPerSecond: Math.round(stateless.eventsPerSecond),
    engineFromEmptyEventsPerSecond: Math.round(cold.eventsPerSecond),
    engineSteadyEventsPerSecond: Math.round(warm.eventsPerSecond),
    lateEvents: cold.late + warm.late,
    stateBytesPerUser: Math.round(engine.stateBytes() / engine.userCount),
  };
}

function memory(): Record<string, number> {
  gc();
  const before = process.memoryUsage();
  const engine = new FeatureEngine({ allowedLatenessMs: LATENESS, stateTtlMs: 7 * DAY });
  const r = rng(7);
  const out = new Float64Array(BATCH * W);
  const status = new Uint8Array(BATCH);
  const total = MEMORY_USERS * PER_USER;
  const t0 = Date.UTC(2026, 10, 1);
  // Every user gets PER_USER events spread over one day, users interleaved.
  const stepMs = DAY / total;
  for (let i = 0; i < total; i += BATCH) {
    const n = Math.min(BATCH, total - i);
    const batch: Transaction[] = [];
    const times = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      batch.push(makeEvent(r, (i + k) % MEMORY_USERS, i + k));
      times[k] = Math.round(t0 + (i + k) * stepMs);
    }
    engine.processBatch(batch, times, out, status);
    engine.clearDirty();
  }
  gc();
  const grownRss = process.memoryUsage().rss;
  const grownArena = engine.arenaBytes();
  const compactStarted = performance.now();
  engine.compact();
  const compactMs = performance.now() - compactStarted;
  gc();
  const after = process.memoryUsage();
  const users = engine.userCount;
  const heap = after.heapUsed - before.heapUsed;
  const external = after.external + after.arrayBuffers - before.external - before.arrayBuffers;
  return {
    users,
    eventsPerUser: PER_USER,
    stateBytesPerUser: Math.round(engine.stateBytes() / users),
    arenaBytesPerUser: Math.round(engine.arenaBytes() / users),
    heapBytesPerUser: Math.round(heap / users),
    totalBytesPerUser: Math.round((heap + engine.arenaBytes()) / users),
    arenaBytesPerUserBeforeCompact: Math.round(grownArena / users),
    rssMiBBeforeCompact: Math.round(grownRss / 2 ** 20),
    compactMs: Math.round(compactMs),
    rssMiB: Math.round(after.rss / 2 ** 20),
    rssDeltaMiB: Math.round((after.rss - before.rss) / 2 ** 20),
    externalDeltaMiB: Math.round(external / 2 ** 20),
  };
}

const result = {
  throughput: throughput(),
  memory: MEMORY_USERS > 0 ? memory() : null,
  node: process.version,
  date: new Date().toISOString(),
};
if (values.json) console.log(JSON.stringify(result));
else console.log(result);
