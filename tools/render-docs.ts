// Rewrites the parts of the documentation that are computed from the code, then formats the files as
// `biome ci` wants them (it pads Markdown table columns). Each part sits between
// `<!-- NAME:start -->` and `<!-- NAME:end -->` markers, and a unit test fails when one is stale:
//   feature-table      docs/features.md   from src/features/registry.ts  (src/features/registry.test.ts)
//   config-table       README.md          from src/config/config.ts      (src/config/config.test.ts)
//   scenario-examples  docs/simulator.md  from src/simulate/examples.ts  (src/simulate/examples.test.ts)
//   scenario-examples  README.md          the same events, one line each
// Usage: node tools/render-docs.ts
// A dev script, not part of the product: it writes files, which the modules it reads from never do.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderConfigTable } from "../src/config/config.ts";
import { featureTable } from "../src/features/registry.ts";
import { renderScenarioExampleLines, renderScenarioExamples } from "../src/simulate/examples.ts";

const README = new URL("../README.md", import.meta.url);
const FEATURES = new URL("../docs/features.md", import.meta.url);
const SIMULATOR = new URL("../docs/simulator.md", import.meta.url);

/** Replaces what lies between the file's NAME markers with `body`. */
function replaceSection(file: URL, name: string, body: string): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const text = readFileSync(file, "utf8");
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${fileURLToPath(file)} needs the markers ${start} and ${end}`);
  writeFileSync(file, `${text.slice(0, i + start.length)}${body}${text.slice(j)}`);
}

replaceSection(FEATURES, "feature-table", `\n${featureTable()}\n`);
replaceSection(README, "config-table", `\n${renderConfigTable()}\n`);
replaceSection(SIMULATOR, "scenario-examples", `\n\n${renderScenarioExamples()}\n\n`);
replaceSection(README, "scenario-examples", `\n\n${renderScenarioExampleLines()}\n\n`);

execFileSync(
  fileURLToPath(new URL("../node_modules/.bin/biome", import.meta.url)),
  ["format", "--write", ...[README, FEATURES, SIMULATOR].map((f) => fileURLToPath(f))],
  { stdio: "inherit" },
);
