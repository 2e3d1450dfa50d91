import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { writeCsv, writeParquet } from "./fixtures.ts";
import { type FileRow, formatOf, InputFileError, openRows, type ReadOptions, readRows } from "./index.ts";

const dir = mkdtempSync(join(tmpdir(), "fraudstream-files-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function file(name: string, text: string | Buffer): string {
  const path = join(dir, `${++n}-${name}`);
  writeFileSync(path, text);
  return path;
}

async function all(path: string, opts: ReadOptions = {}): Promise<FileRow[]> {
  const rows: FileRow[] = [];
  for await (const r of readRows(path, opts)) rows.push(r);
  return rows;
}

function values(rows: FileRow[]): Record<string, unknown>[] {
  return rows.map((r) => {
    assert.ok(r.ok, `line ${r.line}: ${r.ok ? "" : r.error}`);
    return r.values;
  });
}

describe("input formats", () => {
  it("are chosen by extension, in any case", () => {
    assert.equal(formatOf("a/b.csv"), "csv");
    assert.equal(formatOf("x.JSONL"), "jsonl");
    assert.equal(formatOf("x.ndjson"), "jsonl");
    assert.equal(formatOf("x.json"), "jsonl");
    assert.equal(formatOf("x.parquet"), "parquet");
  });

  it("refuse an unknown extension or a missing file with a message naming the file", async () => {
    assert.throws(
      () => formatOf("data/events.txt"),
      (e: Error) => {
        assert.ok(e instanceof InputFileError);
        assert.match(
          e.message,
          /data\/events\.txt: cannot tell the format from the extension "\.txt"; use \.csv/,
        );
        return true;
      },
    );
    assert.throws(
      () => formatOf("events"),
      /events: cannot tell the format from a name without an extension/,
    );
    await assert.rejects(openRows(join(dir, "missing.csv")), (e: Error) => {
      assert.ok(e instanceof InputFileError);
      assert.match(e.message, /cannot read .*missing\.csv: ENOENT/);
      return true;
    });
    await assert.rejects(openRows(`${dir}.csv`), InputFileError);
  });
});

describe("CSV", () => {
  it("reads quoted cells with commas, quotes and line breaks, numbering rows by their first line", async () => {
    const path = file(
      "q.csv",
      'id,name,note\n1,"Jast, Wintheiser and Bailey",plain\n2,"say ""hi""","two\nlines"\n3,後藤放送有限会社,"x"\n',
    );
    const rows = await all(path);
    assert.deepEqual(
      rows.map((r) => r.line),
      [2, 3, 5],
    );
    assert.deepEqual(values(rows), [
      { id: "1", name: "Jast, Wintheiser and Bailey", note: "plain" },
      { id: "2", name: 'say "hi"', note: "two\nlines" },
      { id: "3", name: "後藤放送有限会社", note: "x" },
    ]);
  });

  it("leaves empty cells out, skips blank lines (still counting them) and reads CRLF and a BOM", async () => {
    const path = file("e.csv", "\uFEFFa,b,c\r\n1,,3\r\n\r\n,,\r\n4,5,6");
    const rows = await all(path);
    assert.deepEqual(
      rows.map((r) => r.line),
      [2, 4, 5],
    );
    assert.deepEqual(values(rows), [{ a: "1", c: "3" }, {}, { a: "4", b: "5", c: "6" }]);
  });

  it("types numbers and booleans only in the columns it is told, and only cells that look like them", async () => {
    const path = file(
      "n.csv",
      "amount,mcc,flag,code\n12.50,0742,TRUE,1e3\n-3,5411,false,x\n1e3,12,1,.5\nabc,,yes,\n",
    );
    const typed = await all(path, {
      csv: { numbers: new Set(["amount", "flag"]), booleans: new Set(["flag"]) },
    });
    assert.deepEqual(values(typed), [
      { amount: 12.5, mcc: "0742", flag: true, code: "1e3" },
      { amount: -3, mcc: "5411", flag: false, code: "x" },
      { amount: 1000, mcc: "12", flag: 1, code: ".5" },
      { amount: "abc", flag: "yes" },
    ]);
    const auto = await all(path, { csv: { numbers: "all" } });
    assert.deepEqual(values(auto)[0], { amount: 12.5, mcc: 742, flag: "TRUE", code: 1000 });
    const none = await all(path);
    assert.deepEqual(values(none)[1], { amount: "-3", mcc: "5411", flag: "false", code: "x" });
  });

  it("reports a record with the wrong number of cells or a broken quote, and reads on", async () => {
    const path = file("bad.csv", 'a,b\n1,2\n1,2,3\n4\n5,6\n7,"unterminated\n8,9\n');
    const rows = await all(path);
    assert.deepEqual(
      rows.map((r) => [r.line, r.ok ? r.values : r.error]),
      [
        [2, { a: "1", b: "2" }],
        [3, "has 3 cells but the header has 2 columns"],
        [4, "has 1 cells but the header has 2 columns"],
        [5, { a: "5", b: "6" }],
        [6, 'a quoted cell is not closed (missing ") (the record runs on through line 8)'],
      ],
    );
    assert.ok(rows.every((r) => r.ok || r.reason === "malformed_csv"));
    const text = await all(file("q.csv", 'a,b\n"x"y,2\n3,4\n'));
    assert.deepEqual(
      text.map((r) => [r.line, r.ok ? r.values : r.error]),
      [
        [
          2,
          'a quoted cell has text after its closing quote (write "" for a quote inside) (the record runs on through line 4)',
        ],
      ],
    );
  });

  it("refuses a header naming a column twice", async () => {
    const path = file("dup.csv", "a,b,a\n1,2,3\n");
    await assert.rejects(all(path), /dup\.csv: column "a" appears twice in the header \(line 1\)/);
  });

  it("streams a large file in batches, in order, with multi-byte text across chunk boundaries", async () => {
    // ~4 MiB: several 1 MiB reads, each likely to end inside a 3-byte character.
    const rows = Array.from({ length: 60_000 }, (_, i) => ({
      i,
      name: `名前${"日本語".repeat(i % 7)}`,
      v: i / 4,
    }));
    const path = join(dir, "big.csv");
    writeCsv(path, ["i", "name", "v"], rows);
    const reader = await openRows(path, { csv: { numbers: new Set(["i", "v"]) } });
    let count = 0;
    let batches = 0;
    for await (const batch of reader) {
      batches++;
      assert.ok(batch.length <= 1000);
      for (const r of batch) {
        const expected = rows[count];
        assert.ok(r.ok);
        assert.equal(r.line, count + 2);
        assert.deepEqual(r.values, expected);
        count++;
      }
    }
    assert.equal(count, rows.length);
    assert.ok(batches >= 60, `${batches} batches`);
    assert.equal(reader.position(), reader.size);
  });

  it("stops reading when the consumer stops early", async () => {
    const path = join(dir, "stop.csv");
    writeCsv(
      path,
      ["i"],
      Array.from({ length: 5000 }, (_, i) => ({ i })),
    );
    let seen = 0;
    for await (const r of readRows(path)) {
      seen++;
      if (r.line === 1500) break;
    }
    assert.equal(seen, 1499);
  });
});

describe("JSON Lines", () => {
  it("reads objects with their line numbers, and reports bad lines without stopping", async () => {
    const path = file("e.jsonl", '\uFEFF{"a":1}\n\n{"a":2,"b":"x"}\r\n{"a":\n[1,2]\n"text"\n   \n{"a":3}');
    const rows = await all(path);
    assert.deepEqual(
      rows.map((r) => [r.line, r.ok ? r.values : `${r.reason}: ${r.error}`]),
      [
        [1, { a: 1 }],
        [3, { a: 2, b: "x" }],
        [4, `malformed_json: not JSON: ${jsonError('{"a":')}`],
        [5, "not_an_object: expected one JSON object per line, got an array"],
        [6, "not_an_object: expected one JSON object per line, got a string"],
        [8, { a: 3 }],
      ],
    );
  });

  it("refuses a JSON document that is not JSON Lines, once, with how to convert it", async () => {
    for (const text of ['[\n  {"a": 1},\n  {"a": 2}\n]\n', '[{"a": 1}, {"a": 2}]', '\n{\n  "a": 1\n}\n']) {
      const path = file("doc.json", text);
      await assert.rejects(all(path), (e: Error) => {
        assert.ok(e instanceof InputFileError);
        assert.match(e.message, /doc\.json looks like one JSON document, not JSON Lines \(line \d: .*jq -c/);
        return true;
      });
    }
  });

  it("streams a large file in order", async () => {
    const path = join(dir, "big.jsonl");
    writeFileSync(
      path,
      Array.from({ length: 30_000 }, (_, i) => JSON.stringify({ i, s: "ü".repeat(i % 50) })).join("\n"),
    );
    let i = 0;
    for await (const r of readRows(path)) {
      assert.ok(r.ok);
      assert.equal(r.line, i + 1);
      assert.equal(r.values.i, i);
      i++;
    }
    assert.equal(i, 30_000);
  });
});

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  return "";
}

describe("Parquet", () => {
  const rows = Array.from({ length: 2500 }, (_, i) => ({
    id: `t-${i}`,
    amount: i === 7 ? null : i * 1.25,
    n: i,
    big: BigInt(i) * 1_000_000_000_000n,
    flag: i % 2 === 0,
    note: i % 3 === 0 ? null : `note ${i}`,
  }));
  const columns = (data: typeof rows) => [
    { name: "id", type: "STRING" as const, data: data.map((r) => r.id) },
    { name: "amount", type: "DOUBLE" as const, data: data.map((r) => r.amount) },
    { name: "n", type: "INT32" as const, data: data.map((r) => r.n) },
    { name: "big", type: "INT64" as const, data: data.map((r) => r.big) },
    { name: "flag", type: "BOOLEAN" as const, data: data.map((r) => r.flag) },
    { name: "note", type: "STRING" as const, data: data.map((r) => r.note) },
  ];
  const expected = (r: (typeof rows)[number]) => {
    const o: Record<string, unknown> = { id: r.id, n: r.n, big: Number(r.big), flag: r.flag };
    if (r.amount !== null) o.amount = r.amount;
    if (r.note !== null) o.note = r.note;
    return o;
  };

  for (const codec of ["SNAPPY", "UNCOMPRESSED", "GZIP", "BROTLI", "ZSTD"] as const) {
    it(`round-trips typed values, nulls as absent, row numbers across row groups (${codec})`, async () => {
      const path = join(dir, `rt-${codec}.parquet`);
      writeParquet(path, columns(rows), { rowGroupSize: 1000, codec });
      const reader = await openRows(path);
      assert.equal(reader.unit, "row");
      assert.equal(reader.size, rows.length);
      const got: FileRow[] = [];
      for await (const batch of reader) got.push(...batch);
      assert.deepEqual(
        got.map((r) => r.line),
        rows.map((_, i) => i + 1),
      );
      assert.deepEqual(values(got), rows.map(expected));
      assert.equal(reader.position(), rows.length);
    });
  }

  it("keeps 64-bit integers beyond 2^53 as bigint", async () => {
    const path = join(dir, "bigint.parquet");
    writeParquet(path, [{ name: "x", type: "INT64", data: [2n ** 60n, 5n] }]);
    assert.deepEqual(values(await all(path)), [{ x: 2n ** 60n }, { x: 5 }]);
  });

  it("refuses a file that is not Parquet, naming it", async () => {
    const path = file("fake.parquet", "id,amount\n1,2\n");
    await assert.rejects(openRows(path), (e: Error) => {
      assert.ok(e instanceof InputFileError);
      assert.match(e.message, /fake\.parquet is not a readable Parquet file/);
      return true;
    });
  });
});
