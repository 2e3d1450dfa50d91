#!/usr/bin/env node
// Launcher for `npx fraudstream` and `node_modules/.bin/fraudstream`.
// The CLI is TypeScript run by Node's built-in type stripping (Node >= 22.18). When this file is
// started by an older Node (the machine's Node 20, say), re-run it with the Node the project brings
// as a dev dependency, so the command works no matter which `node` is first on PATH.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const main = join(root, "src", "cli", "main.ts");
const [major, minor] = process.versions.node.split(".").map(Number);
const supported = major > 22 || (major === 22 && minor >= 18);

if (supported) {
  // main.ts runs itself only when it is the entry point, so call it here.
  const cli = await import(pathToFileURL(main).href);
  await cli.main(process.argv);
} else {
  const bundled = join(root, "node_modules", "node", "bin", "node");
  if (!existsSync(bundled)) {
    console.error(
      `fraudstream needs Node.js >= 22.18 (this is ${process.versions.node}); run \`npm ci\` in ${root} to install the Node it brings.`,
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
