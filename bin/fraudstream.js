#!/usr/bin/env node
// Launcher for `npx fraudstream` and `node_modules/.bin/fraudstream`.
// The CLI is TypeScript run by Node's built-in type stripping, on the Node 24 the project brings as a
// dev dependency (node_modules/node, the Node the tests run on). This file is plain JavaScript so that
// any Node that runs npm can start it (package.json "engines" says which: that is what npm checks
// `npx` against). On an older Node (the machine's Node 20, say) it re-runs the CLI with the bundled
// Node, so the command works whichever `node` is first on PATH.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// The oldest Node that runs the CLI in process: type stripping and import.meta.main unflagged, and
// every dependency's own "engines" met (the Kafka client asks for >= 24.6 on the 24 line).
const MIN = [24, 6];

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const main = join(root, "src", "cli", "main.ts");
const [major, minor] = process.versions.node.split(".").map(Number);
const supported = major > MIN[0] || (major === MIN[0] && minor >= MIN[1]);

if (supported) {
  // main.ts runs itself only when it is the entry point, so call it here.
  const cli = await import(pathToFileURL(main).href);
  await cli.main(process.argv);
} else {
  const bundled = join(root, "node_modules", "node", "bin", "node");
  if (!existsSync(bundled)) {
    console.error(
      `fraudstream runs on Node.js >= ${MIN.join(".")} (this is ${process.versions.node}); run \`npm ci\` in ${root} to install the Node it brings.`,
    );
    process.exit(1);
  }
  const child = spawn(bundled, [main, ...process.argv.slice(2)], { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("exit", (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
