// Rewrites the configuration table in README.md from the config schema: node src/config/render-table.ts
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderConfigTable } from "./config.ts";

const path = new URL("../../README.md", import.meta.url);
const readme = readFileSync(path, "utf8");
const start = "<!-- config-table:start -->";
const end = "<!-- config-table:end -->";
const i = readme.indexOf(start);
const j = readme.indexOf(end);
if (i < 0 || j < i) throw new Error(`README.md needs ${start} and ${end} markers`);
writeFileSync(path, `${readme.slice(0, i + start.length)}\n${renderConfigTable()}\n${readme.slice(j)}`);
// The formatter pads Markdown table columns; leave the file as `biome ci` wants it.
execFileSync(
  fileURLToPath(new URL("../../node_modules/.bin/biome", import.meta.url)),
  ["format", "--write", fileURLToPath(path)],
  {
    stdio: "inherit",
  },
);
