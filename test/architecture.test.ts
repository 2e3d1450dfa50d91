// The layering of src/ (see test/helpers/architecture.ts for the rules and the layer table): the real
// import graph keeps the rules, and the checker catches each kind of break in a made-up tree.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkSources,
  importCycles,
  LAYERS,
  moduleOf,
  parseImports,
  REPO_ROOT,
  readSources,
  SAME_LAYER,
  type Violation,
} from "./helpers/architecture.ts";

function check(files: Record<string, string>): Violation[] {
  return checkSources(new Map(Object.entries(files)));
}

function only(files: Record<string, string>): Violation {
  const found = check(files);
  assert.equal(found.length, 1, found.map((v) => v.message).join("\n"));
  return found[0] as Violation;
}

describe("src/ import graph", () => {
  it("keeps every layering rule (what breaks one names the file, line and import)", () => {
    const sources = readSources(REPO_ROOT);
    assert.ok(sources.size > 100, `read ${sources.size} files`);
    assert.deepEqual(
      checkSources(sources).map((v) => v.message),
      [],
    );
  });

  it("has exactly one module that imports the Kafka client", () => {
    const importers = [...readSources(REPO_ROOT)]
      .filter(([file, text]) =>
        parseImports(file, text).some((i) => /^(@platformatic\/kafka|kafkajs)(\/|$)/.test(i.specifier)),
      )
      .map(([file]) => file);
    assert.deepEqual(importers, ["src/io/kafka/index.ts"]);
  });

  it("puts every directory of src/ in a layer", () => {
    const modules = new Set([...readSources(REPO_ROOT).keys()].map((f) => moduleOf(f)));
    const layered = LAYERS.flat();
    for (const m of modules) assert.ok(m !== undefined && layered.includes(m.split("/")[0] as string), m);
  });

  it("allows same-layer imports only between modules of one layer, along an acyclic list", () => {
    for (const [a, b] of SAME_LAYER) {
      const layer = LAYERS.findIndex((l) => l.includes(a));
      assert.ok(layer >= 0 && LAYERS[layer]?.includes(b), `${a} → ${b}`);
    }
    const imports = SAME_LAYER.map(([a, b]) => ({ file: a, line: 1, specifier: b, target: b }));
    assert.deepEqual(importCycles(imports, new Set(SAME_LAYER.flat())), []);
  });
});

describe("import-graph checker", () => {
  it("reads static, type-only, re-exported, side-effect and dynamic imports, not comments or strings", () => {
    const text = [
      'import type { A } from "./a.ts";',
      "import {",
      "  B,",
      '} from "b";',
      'export { C } from "./c.ts";',
      'export * from "../d.ts";',
      'import "./side.ts";',
      'const m = await import("./dyn.ts");',
      '// import { x } from "./comment.ts";',
      "const s = \"import { y } from './string.ts'\";",
    ].join("\n");
    assert.deepEqual(
      parseImports("src/x/f.ts", text).map((i) => [i.line, i.specifier, i.target]),
      [
        [1, "./a.ts", "src/x/a.ts"],
        [4, "b", undefined],
        [5, "./c.ts", "src/x/c.ts"],
        [6, "../d.ts", "src/d.ts"],
        [7, "./side.ts", "src/x/side.ts"],
        [8, "./dyn.ts", "src/x/dyn.ts"],
      ],
    );
  });

  it("passes a tree that keeps the rules", () => {
    assert.deepEqual(
      check({
        "src/contract/t.ts": 'import { z } from "zod";',
        "src/decide/d.ts":
          'import type { T } from "../contract/t.ts";\nimport { f } from "../features/f.ts";',
        "src/features/f.ts": 'import type { T } from "../contract/t.ts";',
        "src/pipeline/w.ts": 'import { d } from "../decide/d.ts";\nimport type { C } from "../config/c.ts";',
        "src/config/c.ts": 'import { z } from "zod";',
        "src/io/pg/s.ts": 'import pg from "pg";\nimport type { W } from "../../pipeline/w.ts";',
        "src/io/kafka/index.ts": 'import { Producer } from "@platformatic/kafka";',
        "src/app/a.ts": 'import { s } from "../io/pg/s.ts";\nimport { readFile } from "node:fs/promises";',
        "src/cli/main.ts": 'import { a } from "../app/a.ts";',
      }),
      [],
    );
  });

  it("fails a core module that imports a file system, network, database or broker package", () => {
    for (const specifier of ["node:fs", "fs/promises", "node:net", "node:http", "node:child_process", "pg"]) {
      const v = only({ "src/model/m.ts": `import x from "${specifier}";` });
      assert.equal(v.rule, "core-io");
      assert.match(
        v.message,
        new RegExp(`^src/model/m\\.ts:1 imports "${specifier}": src/model is pure core`),
      );
    }
    const more = check({
      "src/simulate/s.ts": [
        'import { PGlite } from "@electric-sql/pglite";',
        'import Fastify from "fastify";',
        'import { Worker } from "node:worker_threads";',
      ].join("\n"),
    });
    assert.deepEqual(
      more.map((v) => [v.rule, v.line]),
      [
        ["core-io", 1],
        ["core-io", 2],
        ["core-io", 3],
      ],
    );
  });

  it("fails a core module that imports src/io, src/api, src/app, src/cli or src/config", () => {
    const found = check({
      "src/decide/d.ts": [
        'import type { Db } from "../io/pg/db.ts";',
        'import { api } from "../api/a.ts";',
        'import { app } from "../app/a.ts";',
        'import { cli } from "../cli/c.ts";',
        'import type { Config } from "../config/c.ts";',
      ].join("\n"),
      "src/io/pg/db.ts": "",
      "src/api/a.ts": "",
      "src/app/a.ts": "",
      "src/cli/c.ts": "",
      "src/config/c.ts": "",
    });
    assert.deepEqual(
      found.map((v) => [v.rule, v.line]),
      [1, 2, 3, 4, 5].map((line) => ["core-io", line]),
    );
    assert.match(found[4]?.message ?? "", /src\/decide is pure core and may not import src\/config/);
  });

  it("fails any file but src/io/kafka/index.ts that imports a Kafka client", () => {
    const found = check({
      "src/io/kafka/index.ts": 'import { Consumer } from "@platformatic/kafka";',
      "src/io/kafka/other.ts": 'import { Admin } from "@platformatic/kafka";',
      "src/cli/c.ts": 'import { Kafka } from "kafkajs";',
    });
    assert.deepEqual(
      found.map((v) => [v.rule, v.file, v.specifier]),
      [
        ["kafka-client", "src/io/kafka/other.ts", "@platformatic/kafka"],
        ["kafka-client", "src/cli/c.ts", "kafkajs"],
      ],
    );
    assert.match(found[1]?.message ?? "", /only src\/io\/kafka\/index\.ts may import the Kafka client/);
  });

  it("fails a lower layer that imports a higher one", () => {
    const v = only({
      "src/observe/metrics.ts": 'import { STAGES } from "../pipeline/worker.ts";',
      "src/pipeline/worker.ts": "",
    });
    assert.equal(v.rule, "layer");
    assert.equal(
      v.message,
      'src/observe/metrics.ts:1 imports "../pipeline/worker.ts": src/observe (layer 3) may not import the higher layer src/pipeline (layer 4)',
    );
    assert.equal(
      only({ "src/pipeline/p.ts": 'import type { Db } from "../io/pg/db.ts";', "src/io/pg/db.ts": "" }).rule,
      "layer",
    );
    assert.equal(
      only({ "src/io/embedded/d.ts": 'import { b } from "../../api/s.ts";', "src/api/s.ts": "" }).rule,
      "layer",
    );
    assert.equal(
      only({ "src/app/a.ts": 'import { m } from "../cli/main.ts";', "src/cli/main.ts": "" }).rule,
      "layer",
    );
  });

  it("fails an import between modules of one layer that is not listed, in either direction", () => {
    const sideways = only({
      "src/features/f.ts": 'import { d } from "../decide/d.ts";',
      "src/decide/d.ts": "",
    });
    assert.equal(sideways.rule, "layer");
    assert.match(
      sideways.message,
      /src\/features and src\/decide share layer 2; that import is not in SAME_LAYER/,
    );
    assert.equal(
      only({ "src/io/embedded/d.ts": 'import { s } from "../pg/index.ts";', "src/io/pg/index.ts": "" }).rule,
      "layer",
    );
    assert.equal(
      only({ "src/api/a.ts": 'import { o } from "../offline/o.ts";', "src/offline/o.ts": "" }).rule,
      "layer",
    );
  });

  it("fails a directory that is in no layer", () => {
    const v = only({ "src/misc/m.ts": 'import { z } from "zod";' });
    assert.equal(v.rule, "unknown-module");
    assert.match(v.message, /src\/misc is in no layer: add it to LAYERS/);
  });

  it("fails an import cycle and names each cycle's files", () => {
    const found = check({
      "src/simulate/index.ts": 'import { render } from "./render.ts";\nimport { s } from "./scenarios.ts";',
      "src/simulate/render.ts": 'import type { Draft } from "./index.ts";',
      "src/simulate/scenarios.ts": 'import type { Draft } from "./index.ts";',
      "src/model/a.ts": 'import { b } from "./b.ts";',
      "src/model/b.ts": 'import { c } from "./c.ts";',
      "src/model/c.ts": 'import { a } from "./a.ts";',
      "src/model/self.ts": 'export * from "./self.ts";',
      "src/model/fine.ts": 'import { a } from "./a.ts";',
    });
    assert.deepEqual(
      found.map((v) => [v.rule, v.message]),
      [
        ["cycle", "import cycle: src/model/a.ts → src/model/b.ts → src/model/c.ts → src/model/a.ts"],
        ["cycle", "import cycle: src/model/self.ts → src/model/self.ts"],
        [
          "cycle",
          "import cycle: src/simulate/index.ts → src/simulate/render.ts → src/simulate/index.ts; the circle also takes in src/simulate/scenarios.ts",
        ],
      ],
    );
    assert.equal(found[0]?.line, 1);
  });

  it("fails a src file that imports from test/ (or anything else outside src/)", () => {
    const v = only({
      "src/io/kafka/bench.ts": 'import { startKafka } from "../../../test/helpers/kafka.ts";',
    });
    assert.equal(v.rule, "outside-src");
    assert.match(v.message, /src\/io\/kafka\/bench\.ts:1 .*src\/ may not import from test\//);
    assert.equal(only({ "src/cli/c.ts": 'import { b } from "../../bench/run.ts";' }).rule, "outside-src");
  });

  it("holds files outside src/ to none of these rules", () => {
    assert.deepEqual(
      check({ "bench/b.ts": 'import { Kafka } from "kafkajs";\nimport "../test/helpers/kafka.ts";' }),
      [],
    );
  });
});
