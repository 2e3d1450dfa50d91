// Simulator throughput: events generated and serialized to JSON per second, one core.
//   node bench/simulate.ts [--users N] [--events N]
import { parseArgs } from "node:util";
import { createSimulator } from "../src/simulate/index.ts";

const { values } = parseArgs({
  options: { users: { type: "string", default: "10000" }, events: { type: "string", default: "500000" } },
});
const users = Number(values.users);
const events = Number(values.events);
const built = performance.now();
const sim = createSimulator({ users, seed: 1 });
const buildMs = performance.now() - built;
const rates: number[] = [];
let bytes = 0;
for (let round = 0; round < 3; round++) {
  const t = performance.now();
  for (let i = 0; i < events; i++) bytes += JSON.stringify(sim.next()).length;
  rates.push(events / ((performance.now() - t) / 1000));
}
rates.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    users,
    populationBuildMs: Math.round(buildMs),
    eventsPerSecond: Math.round(rates[1] as number),
    bytesPerEvent: Math.round(bytes / (events * 3)),
    fraudShare: Math.round((sim.stats().fraud / sim.stats().produced) * 1e4) / 1e4,
  }),
);
