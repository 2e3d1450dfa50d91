// The import graph of src/ and the rules it must keep: a pure core, one module that imports the Kafka
// client, layers that only import downwards, no import cycles, nothing from outside src/. The checker
// works on source text (path → contents), so test/architecture.test.ts can run it on the real tree and
// on small made-up trees that break each rule.
import { readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/**
 * The layers, low → high. A module may import its own layer's modules only along SAME_LAYER below,
 * and any lower layer. src/io's subdirectories are modules of their own ("io/pg", "io/kafka", …).
 */
export const LAYERS: readonly (readonly string[])[] = [
  ["contract"],
  // Settings: anything above may read them, but the core gets its values passed in (CORE rule).
  ["config"],
  ["features", "model", "decide", "simulate", "ingest"],
  ["observe"],
  ["pipeline"],
  ["io"],
  ["offline", "api"],
  // The composition root: wires io, api and pipeline together for the commands.
  ["app"],
  ["cli"],
];

/** Imports between different modules of one layer that are allowed (from → to). Must stay acyclic. */
export const SAME_LAYER: readonly (readonly [string, string])[] = [
  ["decide", "features"], // rules read feature values by name
  ["model", "features"], // a served model checks the feature set it was trained on
  ["simulate", "model"], // the simulator shares the model's seeded PRNG
];

/** Pure modules: they compute, the layers above do the I/O. */
export const CORE: readonly string[] = ["contract", "features", "model", "decide", "simulate", "ingest"];

const IO_BUILTINS = [
  "fs",
  "net",
  "http",
  "https",
  "http2",
  "tls",
  "dgram",
  "dns",
  "child_process",
  "worker_threads",
  "cluster",
];
const IO_PACKAGES = ["pg", "@electric-sql/pglite", "@platformatic/kafka", "kafkajs", "fastify", "pino"];
const IO_SCOPES = ["@fastify/", "fastify-"];
/** Modules the core may not import even for types: they are I/O, or (config) settings the caller resolves. */
const CORE_FORBIDDEN_MODULES = ["config", "observe", "pipeline", "io", "offline", "api", "app", "cli"];

export const KAFKA_CLIENTS = ["@platformatic/kafka", "kafkajs"];
export const KAFKA_MODULE_FILE = "src/io/kafka/index.ts";

export type Rule = "core-io" | "kafka-client" | "layer" | "unknown-module" | "cycle" | "outside-src";

export interface Violation {
  rule: Rule;
  /** The importing file (for a cycle: its first file). */
  file: string;
  line: number;
  specifier: string;
  message: string;
}

export interface Import {
  file: string;
  line: number;
  specifier: string;
  /** Repository-relative path of a relative import's target; undefined for a package or builtin. */
  target: string | undefined;
}

/** Every static import, re-export and dynamic import() of one file, with its line. */
export function parseImports(file: string, source: string): Import[] {
  // preProcessFile reads import/export declarations and import() calls from the token stream, so
  // comments and strings that look like imports are not mistaken for them.
  const { importedFiles } = ts.preProcessFile(source, true, true);
  return importedFiles.map(({ fileName, pos }) => ({
    file,
    line: source.slice(0, pos).split("\n").length,
    specifier: fileName,
    target: fileName.startsWith(".") ? posix.normalize(posix.join(posix.dirname(file), fileName)) : undefined,
  }));
}

/** The module of a src path: its first directory, or for src/io its second ("io/pg"); undefined outside src. */
export function moduleOf(path: string): string | undefined {
  const parts = path.split("/");
  if (parts[0] !== "src" || parts.length < 3) return undefined;
  if (parts[1] === "io") return parts.length >= 4 ? `io/${parts[2]}` : "io";
  return parts[1];
}

function layerOf(module: string): number {
  const top = module.split("/")[0] as string;
  return LAYERS.findIndex((names) => names.includes(top));
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
}

function isIoPackage(specifier: string): boolean {
  const bare = specifier.startsWith("node:") ? specifier.slice(5) : specifier;
  const top = bare.split("/")[0] as string;
  if (IO_BUILTINS.includes(top)) return true;
  const name = packageName(specifier);
  return IO_PACKAGES.includes(name) || IO_SCOPES.some((s) => name.startsWith(s));
}

/** All violations of the rules in the given files (path relative to the repository → source). */
export function checkSources(sources: ReadonlyMap<string, string>): Violation[] {
  const imports = [...sources].flatMap(([file, text]) => parseImports(file, text));
  const violations: Violation[] = [];
  const at = (i: Import, rule: Rule, message: string) =>
    violations.push({
      rule,
      file: i.file,
      line: i.line,
      specifier: i.specifier,
      message: `${i.file}:${i.line} imports "${i.specifier}": ${message}`,
    });

  for (const i of imports) {
    const from = moduleOf(i.file);
    if (from === undefined) continue; // only src/ is held to these rules
    if (layerOf(from) < 0) at(i, "unknown-module", `src/${from} is in no layer: add it to LAYERS`);

    if (i.target === undefined) {
      if (CORE.includes(from) && isIoPackage(i.specifier))
        at(i, "core-io", `src/${from} is pure core and may not do I/O (pass the data in from a layer above)`);
      if (KAFKA_CLIENTS.includes(packageName(i.specifier)) && i.file !== KAFKA_MODULE_FILE)
        at(i, "kafka-client", `only ${KAFKA_MODULE_FILE} may import the Kafka client`);
      continue;
    }

    const to = moduleOf(i.target);
    if (to === undefined) {
      at(i, "outside-src", `src/ may not import from ${i.target.split("/")[0]}/ (only the reverse)`);
      continue;
    }
    if (to === from) continue;
    if (CORE.includes(from) && CORE_FORBIDDEN_MODULES.includes(to.split("/")[0] as string)) {
      at(i, "core-io", `src/${from} is pure core and may not import src/${to}`);
      continue;
    }
    const [lf, lt] = [layerOf(from), layerOf(to)];
    if (lt < 0) at(i, "unknown-module", `src/${to} is in no layer: add it to LAYERS`);
    else if (lf >= 0 && lt > lf)
      at(i, "layer", `src/${from} (layer ${lf}) may not import the higher layer src/${to} (layer ${lt})`);
    else if (lf === lt && !SAME_LAYER.some(([a, b]) => a === from && b === to))
      at(i, "layer", `src/${from} and src/${to} share layer ${lf}; that import is not in SAME_LAYER`);
  }

  for (const cycle of importCycles(imports, new Set(sources.keys()))) {
    const { files: ring, others } = cycle;
    const first = ring[0] as string;
    const next = ring[1 % ring.length] as string;
    const edge = imports.find((i) => i.file === first && i.target === next);
    const also = others.length > 0 ? `; the circle also takes in ${others.join(", ")}` : "";
    violations.push({
      rule: "cycle",
      file: first,
      line: edge?.line ?? 0,
      specifier: edge?.specifier ?? "",
      message: `import cycle: ${[...ring, first].join(" → ")}${also}`,
    });
  }
  return violations;
}

export interface Cycle {
  /** Files along one cycle, each importing the next and the last the first. */
  files: string[];
  /** The strongly connected set's other files, on other cycles through the same files. */
  others: string[];
}

/** Each strongly connected set of files (Tarjan), by its first file's name. */
export function importCycles(imports: readonly Import[], files: ReadonlySet<string>): Cycle[] {
  const edges = new Map<string, string[]>();
  for (const f of files) edges.set(f, []);
  for (const i of imports)
    if (i.target !== undefined && files.has(i.target)) edges.get(i.file)?.push(i.target);

  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = (edges.get(v) ?? []).includes(v);
      if (component.length > 1 || selfLoop) components.push(component);
    }
  };
  for (const f of [...files].sort()) if (!index.has(f)) visit(f);
  return components
    .map((c) => orderAsCycle(c, edges))
    .sort((a, b) => (a.files[0] as string).localeCompare(b.files[0] as string));
}

/**
 * A shortest cycle through the component's first file (by name), then the component's other files:
 * every file of a strongly connected set lies on some cycle, but not necessarily on that one.
 */
function orderAsCycle(component: string[], edges: ReadonlyMap<string, string[]>): Cycle {
  const members = new Set(component);
  const start = [...component].sort()[0] as string;
  const parent = new Map<string, string>();
  const queue = [start];
  let last: string | undefined;
  for (let q = 0; q < queue.length && last === undefined; q++) {
    const v = queue[q] as string;
    for (const w of edges.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        last = v;
        break;
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  const cycle: string[] = [];
  for (let v = last; v !== undefined && v !== start; v = parent.get(v)) cycle.unshift(v);
  cycle.unshift(start);
  return { files: cycle, others: [...component].sort().filter((f) => !cycle.includes(f)) };
}

/** The non-test TypeScript files under root/src, keyed by their repository-relative path. */
export function readSources(root: string): Map<string, string> {
  const sources = new Map<string, string>();
  const files = readdirSync(join(root, "src"), { recursive: true, encoding: "utf8" });
  for (const rel of files.sort()) {
    if (!rel.endsWith(".ts") || rel.endsWith(".test.ts")) continue;
    const path = posix.join("src", rel.split(/[\\/]/).join("/"));
    sources.set(path, readFileSync(join(root, path), "utf8"));
  }
  return sources;
}

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
