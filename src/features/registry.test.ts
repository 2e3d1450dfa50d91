import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  BEHAVIOURAL_FEATURES,
  FEATURE_NAMES,
  FEATURE_SET_VERSION,
  FEATURES,
  featureIndex,
  featureTable,
} from "./registry.ts";
import { STATELESS_FEATURES } from "./stateless.ts";

describe("feature registry", () => {
  test("stateless features first, then behavioural, names unique", () => {
    assert.deepEqual(FEATURES, [...STATELESS_FEATURES, ...BEHAVIOURAL_FEATURES]);
    assert.equal(new Set(FEATURE_NAMES).size, FEATURES.length);
    for (const name of FEATURE_NAMES) assert.match(name, /^[a-z][a-z0-9_]*$/);
  });

  test("featureIndex gives the column, and refuses unknown names", () => {
    FEATURE_NAMES.forEach((name, i) => {
      assert.equal(featureIndex(name), i);
    });
    assert.throws(() => featureIndex("amount_zcore"), /unknown feature "amount_zcore"/);
  });

  test("every feature is described, with a unit and a finite cold value", () => {
    for (const f of FEATURES) {
      assert.ok(f.description.length > 5, f.name);
      assert.ok(f.unit.length > 0, f.name);
      assert.ok(Number.isFinite(f.cold), f.name);
    }
  });

  test("the table names the version and every feature", () => {
    const table = featureTable();
    assert.ok(table.includes(FEATURE_SET_VERSION));
    for (const name of FEATURE_NAMES) assert.ok(table.includes(`\`${name}\``), name);
  });

  // Biome pads markdown tables; compare cell by cell.
  const cells = (table: string) =>
    table
      .trim()
      .split("\n")
      .map((line) =>
        line
          .split("|")
          .map((c) => c.trim().replace(/^-+$/, "---"))
          .join("|"),
      );

  test("docs/features.md holds the current table (regenerate: node tools/render-docs.ts)", () => {
    const doc = readFileSync(new URL("../../docs/features.md", import.meta.url), "utf8");
    const start = doc.indexOf("<!-- feature-table:start -->");
    const end = doc.indexOf("<!-- feature-table:end -->");
    assert.ok(start >= 0 && end > start, "docs/features.md lacks the feature-table markers");
    const inDoc = doc.slice(start + "<!-- feature-table:start -->".length, end).trim();
    assert.deepEqual(cells(inDoc), cells(featureTable()));
  });
});
