import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createSimulator } from "../../simulate/index.ts";
import { BOOLEAN_FIELDS, type EventRow, NUMBER_FIELDS, openEvents } from "./events.ts";
import { EVENT_COLUMNS, writeCsv, writeEventsParquet, writeParquet } from "./fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "fraudstream-events-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function read(path: string): Promise<EventRow[]> {
  const out: EventRow[] = [];
  for await (const batch of (await openEvents(path)).batches()) out.push(...batch);
  return out;
}

const sim = createSimulator({ seed: 9, users: 300, fraudRate: 0.2 });
const events = Array.from({ length: 3000 }, () => sim.next() as Record<string, unknown>);

describe("events from files", () => {
  it("take the typed field lists from the contract", () => {
    assert.deepEqual([...NUMBER_FIELDS].sort(), ["amount", "is_fraud", "latitude", "longitude"]);
    assert.deepEqual([...BOOLEAN_FIELDS], ["is_fraud"]);
  });

  for (const ext of ["jsonl", "csv", "parquet"] as const) {
    it(`come back from ${ext} exactly as simulated`, async () => {
      const path = join(dir, `sim.${ext}`);
      if (ext === "jsonl") writeFileSync(path, `${events.map((e) => JSON.stringify(e)).join("\n")}\n`);
      if (ext === "csv") writeCsv(path, EVENT_COLUMNS, events);
      if (ext === "parquet") writeEventsParquet(path, events, { rowGroupSize: 700 });
      const rows = await read(path);
      assert.equal(rows.length, events.length);
      rows.forEach((r, i) => {
        assert.ok(r.ok, r.ok ? "" : `line ${r.line}: ${r.detail}`);
        assert.equal(r.line, ext === "csv" ? i + 2 : i + 1);
        assert.deepEqual(r.event, events[i]);
      });
    });
  }

  it("type CSV cells only in the contract's numeric fields, and reject what the contract rejects", async () => {
    const path = join(dir, "typed.csv");
    const base = { transaction_id: "t1", timestamp: "2026-11-01T10:00:00Z", user_id: "u1", currency: "EUR" };
    writeCsv(
      path,
      ["transaction_id", "timestamp", "user_id", "amount", "currency", "mcc", "is_fraud", "city"],
      [
        { ...base, amount: "12.50", mcc: "0742", is_fraud: "true", city: "1234" },
        { ...base, amount: "-5" },
        { ...base, amount: "12,5" },
        { ...base, amount: "7", is_fraud: "2" },
        { ...base, amount: "7", user_id: "" },
      ],
    );
    const rows = await read(path);
    const first = rows[0];
    assert.ok(first?.ok);
    assert.deepEqual(first.event, { ...base, amount: 12.5, mcc: "0742", is_fraud: true, city: "1234" });
    assert.deepEqual(
      rows.slice(1).map((r) => (r.ok ? "ok" : `line ${r.line}: ${r.reason}: ${r.detail}`)),
      [
        "line 3: schema: amount: Too small: expected number to be >0 (got -5)",
        'line 4: schema: amount: Invalid input: expected number, received string (got "12,5")',
        "line 5: schema: is_fraud: Invalid input (got 2)",
        "line 6: schema: user_id: Invalid input: expected string, received undefined (got nothing)",
      ],
    );
  });

  it("turn Parquet date-times into RFC 3339 text and integer ids into text", async () => {
    const path = join(dir, "typed.parquet");
    writeParquet(path, [
      { name: "transaction_id", type: "INT64", data: [123456789n] },
      { name: "timestamp", type: "TIMESTAMP", data: [new Date("2026-11-01T10:00:00.250Z")] },
      { name: "user_id", type: "STRING", data: ["u1"] },
      { name: "amount", type: "DOUBLE", data: [9.99] },
      { name: "currency", type: "STRING", data: ["EUR"] },
      { name: "mcc", type: "INT32", data: [5411] },
      { name: "is_fraud", type: "BOOLEAN", data: [false] },
    ]);
    const [row] = await read(path);
    assert.ok(row?.ok, row?.ok ? "" : row?.detail);
    assert.deepEqual(row.event, {
      transaction_id: "123456789",
      timestamp: "2026-11-01T10:00:00.250Z",
      user_id: "u1",
      amount: 9.99,
      currency: "EUR",
      mcc: "5411",
      is_fraud: false,
    });
  });
});
