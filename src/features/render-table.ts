// Rewrites the feature table in docs/features.md from the registry:
//   node src/features/render-table.ts && npx biome format --write docs/features.md
import { readFileSync, writeFileSync } from "node:fs";
import { featureTable } from "./registry.ts";

const path = new URL("../../docs/features.md", import.meta.url);
const doc = readFileSync(path, "utf8");
const start = "<!-- feature-table:start -->";
const end = "<!-- feature-table:end -->";
const i = doc.indexOf(start);
const j = doc.indexOf(end);
if (i < 0 || j < i) throw new Error(`docs/features.md needs ${start} and ${end} markers`);
writeFileSync(path, `${doc.slice(0, i + start.length)}\n${featureTable()}\n${doc.slice(j)}`);
