// Parse + validate throughput of the event contract (UTF-8 decode, JSON.parse, zod), one core.
// node bench/parse.ts
import { readFileSync } from "node:fs";
import { parseRecord } from "../src/contract/parse.ts";

const encoder = new TextEncoder();
const lines = readFileSync(new URL("../contract/example.jsonl", import.meta.url), "utf8")
  .trim()
  .split("\n")
  .map((l) => encoder.encode(l));
const n = 300_000;
const rates: number[] = [];
for (let round = 0; round < 5; round++) {
  const t = performance.now();
  let ok = 0;
  for (let i = 0; i < n; i++)
    if (parseRecord(lines[i % lines.length] as Uint8Array, { maxBytes: 65536 }).ok) ok++;
  if (ok === 0) throw new Error("nothing parsed");
  rates.push(n / ((performance.now() - t) / 1000));
}
rates.sort((a, b) => a - b);
console.log(
  `parse + validate: median ${Math.round(rates[2] as number).toLocaleString("en")} records/s (5 rounds of ${n})`,
);
