// `fraudstream rules check` and `rules schema` through the launcher, as an author checking a rule set
// before activating it would run them: summaries on stdout, every problem with its JSON path on
// stderr, and exit codes 0 (valid), 1 (invalid) and 2 (unreadable file or wrong command line).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ruleSetJsonSchema } from "../src/decide/rules.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "bin/fraudstream.js");
const DEFAULT = join(ROOT, "src/decide/default-rules.json");
const dir = mkdtempSync(join(tmpdir(), "fraudstream-rules-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, "rules", ...args], {
    cwd: dir,
    encoding: "utf8",
    timeout: 60_000,
  });
}

/** A copy of the default rule set with `edit` applied, written to dir/name. */
function variant(
  name: string,
  edit: (doc: Record<string, unknown> & { rules: Record<string, unknown>[] }) => void,
) {
  const doc = JSON.parse(readFileSync(DEFAULT, "utf8"));
  edit(doc);
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

const defaults = JSON.parse(readFileSync(DEFAULT, "utf8")) as {
  version: string;
  rules: { enabled?: boolean }[];
};

describe("fraudstream rules check", () => {
  it("summarises a valid rule set on stdout and exits 0", () => {
    const r = run(["check", DEFAULT]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    const enabled = defaults.rules.filter((x) => x.enabled !== false).length;
    assert.match(
      r.stdout,
      new RegExp(
        `^${DEFAULT}: rule set "${defaults.version}" is valid: ${enabled} enabled rules, lists: blocked_users \\(0\\), .*high_risk_countries \\(3\\)`,
      ),
    );
  });

  it("names every structural problem with its JSON path and exits 1", () => {
    const bad = variant("structure.json", (doc) => {
      delete doc.policy;
      (doc.rules[0] as Record<string, unknown>).id = "Not A Slug";
      delete (doc.rules[1] as Record<string, unknown>).description;
      (doc.rules[2] as Record<string, unknown>).weight = "heavy";
    });
    const r = run(["check", bad]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, new RegExp(`^${bad}: rule set "${defaults.version}" is invalid \\(4 problems\\)`));
    for (const path of ["rules[0].id", "rules[1].description", "rules[2].weight", "policy"])
      assert.match(r.stderr, new RegExp(`^  ${path.replace(/[[\].]/g, "\\$&")}: `, "m"), path);
  });

  it("names fields and lists the engine does not know, with the path of each", () => {
    const bad = variant("names.json", (doc) => {
      const all = (doc.rules[3] as { when: { all: Record<string, unknown>[] } }).when.all;
      (all[0] as Record<string, unknown>).field = "event.amout";
      (all[1] as Record<string, unknown>).in_list = "no_such_list";
    });
    const r = run(["check", bad]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is invalid \(2 problems\)/);
    assert.match(
      r.stderr,
      /^ {2}rules\[3\]\.when\.all\[0\]\.field: unknown event field "amout"; did you mean amount\?$/m,
    );
    assert.match(r.stderr, /^ {2}rules\[3\]\.when\.all\[1\]\.in_list: unknown list "no_such_list"/m);
  });

  it("says a file that is not JSON is not JSON", () => {
    const path = join(dir, "text.json");
    writeFileSync(path, "version: 1\n");
    const r = run(["check", path]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /\(document\): not JSON: /);
  });

  it("checks every file, and exits 2 when one cannot be read", () => {
    const bad = variant("one-bad.json", (doc) => {
      delete doc.risk;
    });
    const missing = join(dir, "missing.json");
    const r = run(["check", missing, bad, DEFAULT]);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      new RegExp(`^${missing}: cannot read it: no such file or directory \\(ENOENT\\)$`, "m"),
    );
    assert.match(r.stderr, new RegExp(`^${bad}: .* is invalid \\(1 problem\\)`, "m"));
    assert.match(r.stdout, new RegExp(`^${DEFAULT}: rule set .* is valid`));
  });

  it("exits 2 on a wrong command line, and documents the exit codes in --help", () => {
    const none = run(["check"]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /missing required argument 'files'/);
    const unknown = run(["lint", DEFAULT]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command 'lint'/);
    const help = run(["check", "--help"]);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: fraudstream rules check \[options\] <files\.\.\.>/);
    assert.match(
      help.stdout,
      /Exit status: 0 every file is a valid rule set, 1 at least one is invalid, 2 a file/,
    );
  });
});

describe("fraudstream rules schema", () => {
  it("prints the rule-set JSON Schema", () => {
    const r = run(["schema"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), ruleSetJsonSchema());
    assert.equal(run(["schema", "extra"]).status, 2);
  });
});
