// The zod schema (transaction.ts) against the contract's JSON Schema (contract/transaction.schema.json
// at the top of the repository), validated by Ajv: the same fields, the same required ones, and the
// same verdict on the example file and on values at and just past every pattern, enum and bound the
// JSON Schema states. The cases are read off the JSON Schema, so a keyword added there is tested too.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import { TransactionSchema } from "./transaction.ts";

interface PropertySchema {
  type?: string | string[];
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
}

const contract = new URL("../../contract/", import.meta.url);
const schema = JSON.parse(readFileSync(new URL("transaction.schema.json", contract), "utf8")) as {
  required: string[];
  properties: Record<string, PropertySchema>;
};
const examples = readFileSync(new URL("example.jsonl", contract), "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l) as Record<string, unknown>);

/**
 * RFC 3339 section 5.6 date-time, with the day-of-month limits of section 5.7, written from the RFC
 * rather than from transaction.ts so that the two can disagree. "T" and "Z" may be lower case (5.6,
 * NOTE); time-second may be 60 (a leap second).
 */
function rfc3339DateTime(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/.exec(
    s,
  );
  if (m === null) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[] as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  const offsetOk = m[7] === undefined || (Number(m[7]) <= 23 && Number(m[8]) <= 59);
  return (
    days !== undefined && day >= 1 && day <= days && hour <= 23 && minute <= 59 && second <= 60 && offsetOk
  );
}

const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
ajv.addFormat("date-time", rfc3339DateTime);
const validate = ajv.compile(schema);

/**
 * Where the two knowingly differ. A leap second (23:59:60) is valid RFC 3339, but JavaScript time has
 * no leap seconds (Date.parse gives NaN), so the parser rejects it rather than guess an instant.
 */
const KNOWN_DIFFERENCES = new Set(["timestamp=2016-12-31T23:59:60Z"]);

/** Every property present: the example events merged. */
const full: Record<string, unknown> = Object.assign({}, ...examples);

/** Both schemas' verdict on `full` with `field` set to `value` (undefined: left out); they must agree. */
function verdict(field: string, value: unknown): boolean {
  const event = { ...full };
  if (value === undefined) delete event[field];
  else event[field] = value;
  const json = validate(event);
  const zod = TransactionSchema.safeParse(event).success;
  const what = `${field}=${typeof value === "string" ? value : JSON.stringify(value)}`;
  if (KNOWN_DIFFERENCES.has(what)) {
    assert.notEqual(zod, json, `${what} is listed as a known difference but both schemas now agree`);
    return json;
  }
  assert.equal(
    zod,
    json,
    `${what}: the JSON Schema ${json ? "accepts" : "rejects"} it (${ajv.errorsText(validate.errors)}) but zod ${zod ? "accepts" : "rejects"} it`,
  );
  return json;
}

/** Just past `x` towards +∞ (or -∞), as a JSON number. */
function past(x: number, direction: 1 | -1): number {
  return x + direction * Math.max(Math.abs(x) * 1e-12, 1e-9);
}

const properties = Object.entries(schema.properties);

describe("the zod contract and the JSON Schema", () => {
  it("declare the same fields and require the same ones", () => {
    assert.deepEqual(Object.keys(TransactionSchema.shape).sort(), Object.keys(schema.properties).sort());
    const zodRequired = Object.entries(TransactionSchema.shape)
      .filter(([, s]) => !s.safeParse(undefined).success)
      .map(([k]) => k);
    assert.deepEqual(zodRequired.sort(), [...schema.required].sort());
  });

  it("both accept every event of the example file, and all of them merged", () => {
    assert.ok(examples.length >= 2);
    for (const e of examples) {
      assert.ok(validate(e), ajv.errorsText(validate.errors));
      const z = TransactionSchema.safeParse(e);
      assert.ok(z.success, z.error?.message);
    }
    assert.ok(validate(full), ajv.errorsText(validate.errors));
    assert.ok(TransactionSchema.safeParse(full).success);
  });

  it("agree on each field left out: required ones are missed, optional ones not", () => {
    for (const [field] of properties)
      assert.equal(verdict(field, undefined), !schema.required.includes(field), field);
  });

  it("agree at and just past every bound on numbers", () => {
    let cases = 0;
    for (const [field, p] of properties) {
      if (p.minimum !== undefined) {
        assert.equal(verdict(field, p.minimum), true, `${field} at minimum`);
        assert.equal(verdict(field, past(p.minimum, -1)), false, `${field} below minimum`);
        cases++;
      }
      if (p.maximum !== undefined) {
        assert.equal(verdict(field, p.maximum), true, `${field} at maximum`);
        assert.equal(verdict(field, past(p.maximum, 1)), false, `${field} above maximum`);
        cases++;
      }
      if (p.exclusiveMinimum !== undefined) {
        assert.equal(verdict(field, p.exclusiveMinimum), false, `${field} at exclusiveMinimum`);
        assert.equal(verdict(field, past(p.exclusiveMinimum, 1)), true, `${field} above exclusiveMinimum`);
        assert.equal(verdict(field, -1), false, `${field} negative`);
        cases++;
      }
    }
    assert.ok(cases >= 5, `${cases} numeric bounds`);
  });

  it("agree at and just past every length bound, counting characters (code points), not UTF-16 units", () => {
    let cases = 0;
    for (const [field, p] of properties) {
      if (p.maxLength !== undefined) {
        for (const char of ["a", "ü", "日", "😀"]) {
          assert.equal(verdict(field, char.repeat(p.maxLength)), true, `${field} at maxLength of ${char}`);
          assert.equal(
            verdict(field, char.repeat(p.maxLength + 1)),
            false,
            `${field} past maxLength of ${char}`,
          );
        }
        cases++;
      }
      if (p.minLength !== undefined) {
        assert.equal(verdict(field, "x".repeat(p.minLength)), true, `${field} at minLength`);
        if (p.minLength > 0)
          assert.equal(verdict(field, "x".repeat(p.minLength - 1)), false, `${field} short`);
        cases++;
      }
    }
    assert.ok(cases >= 10, `${cases} length bounds`);
  });

  it("agree on every pattern, over strings that match some of them and miss others", () => {
    const pool = [
      "",
      "A",
      "DE",
      "de",
      "D1",
      "EUR",
      "eur",
      "EURO",
      "E R",
      "5411",
      "541",
      "54111",
      "54a1",
      "t-1",
      "7f1c2a9e-0b1d-4c52-9d0e-3f6a1b2c4d5e",
      "a.b:c_d-e",
      "-leading",
      "_leading",
      "has space",
      "ümlaut",
      "x".repeat(64),
      "x".repeat(65),
      "DE\n",
    ];
    for (const [field, p] of properties) {
      if (p.pattern === undefined) continue;
      const outcomes = new Set(pool.map((s) => verdict(field, s)));
      assert.deepEqual(
        [...outcomes].sort(),
        [false, true],
        `${field}: the pool should both match and miss ${p.pattern}`,
      );
    }
  });

  it("agree on every enum member and on near misses", () => {
    for (const [field, p] of properties) {
      if (p.enum === undefined) continue;
      for (const member of p.enum) assert.equal(verdict(field, member), true, `${field}=${String(member)}`);
      for (const miss of ["", "POS", "web", "true", "1", 2, -1, 0.5, null, []])
        if (!p.enum.includes(miss)) assert.equal(verdict(field, miss), false, `${field}=${String(miss)}`);
    }
  });

  it("agree on the type of every field", () => {
    for (const [field, p] of properties) {
      const types = p.type === undefined ? [] : [p.type].flat();
      for (const value of [42, "42", true, null, {}, []]) {
        const jsonType = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
        const allowed = types.some((t) => t === jsonType || (t === "integer" && Number.isInteger(value)));
        const got = verdict(field, value);
        if (!allowed) assert.equal(got, false, `${field} as ${jsonType}`);
      }
    }
  });

  it("agree on date-times: RFC 3339 with an offset, real days only", () => {
    const cases: [string, boolean][] = [
      ["2026-11-22T09:14:03Z", true],
      ["2026-11-22T09:14:03.5Z", true],
      ["2026-11-22T09:14:03.123456789Z", true],
      ["2026-11-22T09:14:03.1234567891Z", true],
      ["2026-11-22t09:14:03z", true],
      ["2026-11-22T09:14:03+05:30", true],
      ["2026-11-22T09:14:03-00:00", true],
      ["2026-11-22T09:14:03+23:59", true],
      ["2024-02-29T00:00:00Z", true],
      ["2016-12-31T23:59:60Z", true],
      ["2026-11-22T09:14:03", false],
      ["2026-11-22 09:14:03Z", false],
      ["2026-11-22T09:14Z", false],
      ["2026-11-22T09:14:03+0530", false],
      ["2026-11-22T09:14:03+24:00", false],
      ["2026-11-22T24:00:00Z", false],
      ["2026-11-22T09:60:00Z", false],
      ["2026-02-29T00:00:00Z", false],
      ["2026-04-31T00:00:00Z", false],
      ["2026-13-01T00:00:00Z", false],
      ["2026-00-10T00:00:00Z", false],
      ["2026-11-22", false],
      ["1795338843", false],
    ];
    for (const [text, valid] of cases) assert.equal(verdict("timestamp", text), valid, text);
  });
});
