// The command line as users and scripts drive it: the npx launcher on an old Node, simulate's files,
// the demo's summary, and configuration errors that name the setting.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, sep } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { TransactionSchema } from "../src/contract/transaction.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "bin/fraudstream.js");
const dir = mkdtempSync(join(tmpdir(), "fraudstream-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}, node = process.execPath) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith("FRAUDSTREAM_") && k !== "KAFKA_BROKERS" && k !== "DATABASE_URL",
    ),
  );
  return spawnSync(node, [BIN, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...clean, ...env },
    timeout: 120_000,
  });
}

describe("fraudstream command", () => {
  it("starts from the launcher on this Node and on the machine's older Node", () => {
    const r = run(["--version"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "0.1.0");
    // The machine's Node 20 cannot run TypeScript; the launcher re-runs itself with the bundled Node.
    for (const old of ["/usr/bin/node", "/usr/local/bin/node"]) {
      if (!existsSync(old)) continue;
      const v = spawnSync(old, ["--version"], { encoding: "utf8" }).stdout.trim();
      const o = run(["--version"], {}, old);
      assert.equal(o.status, 0, `${old} (${v}): ${o.stderr}`);
      assert.equal(o.stdout.trim(), "0.1.0");
    }
  });

  it("npx fraudstream, run by the machine's npm and Node, prints no engine warnings", () => {
    // npm checks package.json "engines" against the Node running npm itself, which for `npx` is the
    // first on PATH: so without the project's node_modules/.bin (npm scripts put it first).
    const path = (process.env.PATH ?? "")
      .split(delimiter)
      .filter((d) => !d.split(sep).includes("node_modules"))
      .join(delimiter);
    const npx = path.split(delimiter).find((d) => existsSync(join(d, "npx")));
    assert.ok(npx !== undefined, `no npx on ${path}`);
    const node = spawnSync("node", ["--version"], { encoding: "utf8", env: { PATH: path } }).stdout?.trim();
    const r = spawnSync(join(npx, "npx"), ["fraudstream", "--help"], {
      cwd: ROOT,
      encoding: "utf8",
      // A fresh npm cache each time: npx installs the project itself into the cache (its own bin is
      // not in node_modules/.bin), and that install is where npm checks the engines. With a warm
      // cache the warning would show only on a machine's first call.
      env: {
        ...process.env,
        PATH: path,
        npm_config_cache: join(dir, "npm-cache"),
        npm_config_update_notifier: "false",
        npm_config_offline: "true",
      },
      timeout: 120_000,
    });
    assert.equal(r.status, 0, `${npx}/npx on Node ${node}: ${r.stderr}`);
    assert.match(r.stdout, /^Usage: fraudstream /);
    assert.doesNotMatch(
      r.stderr,
      /EBADENGINE|Unsupported engine/,
      `npx on Node ${node} warned:\n${r.stderr}`,
    );
    assert.equal(r.stderr, "", `npx on Node ${node}`);
  });

  it("simulate writes the same file twice for the same seed, and a summary on stderr", () => {
    const a = join(dir, "a.jsonl");
    const b = join(dir, "b.jsonl");
    for (const out of [a, b]) {
      const r = run(["simulate", "--count", "3000", "--seed", "5", "--users", "200", "--out", out]);
      assert.equal(r.status, 0, r.stderr);
      const summary = JSON.parse(r.stderr.trim().split("\n").at(-1) as string) as {
        produced: number;
        fraud: number;
      };
      assert.equal(summary.produced, 3000);
    }
    const text = readFileSync(a, "utf8");
    assert.equal(text, readFileSync(b, "utf8"));
    const lines = text.trim().split("\n");
    assert.equal(lines.length, 3000);
    for (const l of lines.slice(0, 500)) assert.ok(TransactionSchema.safeParse(JSON.parse(l)).success, l);
  });

  it("simulate refuses conflicting or missing outputs, and names a file it cannot write", () => {
    const none = run(["simulate", "--count", "5"]);
    assert.notEqual(none.status, 0);
    assert.match(none.stderr, /choose an output/);
    const both = run(["simulate", "--count", "5", "--out", join(dir, "x"), "--stdout"]);
    assert.notEqual(both.status, 0);
    assert.match(both.stderr, /cannot be used with/);
    const bad = run(["simulate", "--count", "-3", "--stdout"]);
    assert.match(bad.stderr, /--count <n>' argument '-3' is invalid/);
    const missing = join(dir, "no-such-dir", "x.jsonl");
    const nowhere = run(["simulate", "--count", "5", "--out", missing]);
    assert.equal(nowhere.status, 2);
    assert.equal(
      nowhere.stderr.trim(),
      `fraudstream: ${missing}: cannot create it: no such file or directory (ENOENT)`,
    );
    const full = run(["simulate", "--count", "20000", "--out", "/dev/full"]);
    assert.equal(full.status, 2);
    assert.match(
      full.stderr,
      /^fraudstream: \/dev\/full: cannot write to it: no space left on device \(ENOSPC\)$/m,
    );
  });

  it("demo --duration ends with a JSON summary where scored equals produced", () => {
    const r = run(["demo", "--duration", "4", "--rate", "400", "--port", "0"]);
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    assert.match(
      r.stdout,
      /^dashboard: http:\/\/127\.0\.0\.1:\d+\/#key=[\w-]{24}$/m,
      "it says where the dashboard is",
    );
    assert.match(r.stdout, /^admin API key: [\w-]{24} /m);
    const last = r.stdout.trim().split("\n").at(-1) as string;
    const s = JSON.parse(last) as { produced: number; scored: number; alerts: number; dead_letters: number };
    assert.deepEqual(Object.keys(s), ["produced", "scored", "alerts", "dead_letters"]);
    assert.ok(s.produced > 500, `produced ${s.produced}`);
    assert.equal(s.scored, s.produced);
    assert.equal(s.dead_letters, 0);
    assert.ok(s.alerts > 0 && s.alerts < s.produced * 0.2, `alerts ${s.alerts}`);
  });

  it("api refuses to start without keys, naming the setting", () => {
    const a = run(["api"], { DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres" });
    assert.equal(a.status, 2);
    assert.match(a.stderr, /FRAUDSTREAM_API_KEYS must be set for `api`/);
    const b = run(["api"], { DATABASE_URL: "postgres://x@h/db", FRAUDSTREAM_API_KEYS: "root:short" });
    assert.equal(b.status, 2);
    assert.match(b.stderr, /FRAUDSTREAM_API_KEYS=.*role:key/);
  });

  it("names a missing or bad setting and exits with status 2", () => {
    const w = run(["worker"]);
    assert.equal(w.status, 2);
    assert.match(w.stderr, /KAFKA_BROKERS must be set for `worker`/);
    const m = run(["migrate"], { DATABASE_URL: "mysql://x" });
    assert.equal(m.status, 2);
    assert.match(m.stderr, /DATABASE_URL="mysql:\/\/x"/);
    const k = run(["simulate", "--count", "1", "--kafka"]);
    assert.equal(k.status, 2);
    assert.match(k.stderr, /KAFKA_BROKERS must be set for `simulate --kafka`/);
  });
});
