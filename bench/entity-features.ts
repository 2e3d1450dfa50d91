// Entity feature stage benchmark: events/s of EntityEngine.processBatch on one core with the default
// entity set (issue #15, goal ≥ 300,000), and the entity count and heap afterwards.
//
//   node --expose-gc bench/entity-features.ts [--events N] [--users N] [--merchants N] [--days N]
//
// Synthetic events, in event-time order over --days days: users with one card and device each, IPs
// shared by ~4 users, merchants chosen uniformly; 1 % of events labelled fraud, known 7 days later.
import { parseArgs } from "node:util";
import type { Transaction } from "../src/contract/transaction.ts";
import { DEFAULT_ENTITY_FEATURES } from "../src/features/entity.ts";
import { EntityEngine } from "../src/features/entity-engine.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    users: { type: "string", default: "100000" },
    merchants: { type: "string", default: "10000" },
    days: { type: "string", default: "30" },
  },
});
const EVENTS = Number(values.events);
const USERS = Number(values.users);
const MERCHANTS = Number(values.merchants);
const SPAN = Number(values.days) * 86_400_000;
const DELAY = 7 * 86_400_000;
const T0 = Date.parse("2026-01-01T00:00:00Z");

let s = 42;
const rnd = () => {
  s = (Math.imul(s, 1103515245) + 12345) >>> 0;
  return s / 2 ** 32;
};
const events: Transaction[] = new Array(EVENTS);
const times = new Float64Array(EVENTS);
for (let i = 0; i < EVENTS; i++) {
  const u = Math.floor(rnd() * USERS);
  times[i] = T0 + Math.floor((i / EVENTS) * SPAN);
  events[i] = {
    transaction_id: `t${i}`,
    timestamp: new Date(times[i] as number).toISOString(),
    user_id: `u${u}`,
    card_id: `c${u}`,
    device_id: `d${u}`,
    ip_address: `10.0.${(u >> 2) & 255}.${u >> 10}`,
    merchant_id: `m${Math.floor(rnd() * MERCHANTS)}`,
    amount: 1 + Math.floor(rnd() * 500),
    currency: "EUR",
  };
}
const fraud = Array.from({ length: EVENTS }, () => rnd() < 0.01);

const engine = new EntityEngine(DEFAULT_ENTITY_FEATURES);
const W = DEFAULT_ENTITY_FEATURES.length;
const BATCH = 5000;
const out = new Float64Array(BATCH * W);
globalThis.gc?.();
const heap0 = process.memoryUsage().heapUsed;
let label = 0;
const start = performance.now();
for (let i = 0; i < EVENTS; i++) {
  const t = times[i] as number;
  while (label < i && (times[label] as number) + DELAY < t) {
    if (fraud[label])
      engine.processLabel(
        events[label] as Transaction,
        times[label] as number,
        true,
        (times[label] as number) + DELAY,
      );
    label++;
  }
  engine.processEvent(events[i] as Transaction, t, out, (i % BATCH) * W);
}
const seconds = (performance.now() - start) / 1000;
globalThis.gc?.();
const heap = process.memoryUsage().heapUsed - heap0;
console.log({
  events: EVENTS,
  users: USERS,
  merchants: MERCHANTS,
  days: Number(values.days),
  features: W,
  eventsPerSecond: Math.round(EVENTS / seconds),
  entities: engine.entityCount(),
  heapBytesAfter: heap,
  heapBytesPerEntity: Math.round(heap / engine.entityCount()),
});
