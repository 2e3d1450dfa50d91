// The dashboard's build: `npm run build:web` writes web/dist, which the API serves at / when it exists.
// `npm run dev:web` serves it with hot reload and forwards /api to a running API (FRAUDSTREAM_API_URL,
// default the demo's usual http://127.0.0.1:8080).
import { defineConfig } from "vite";

const api = process.env.FRAUDSTREAM_API_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  root: import.meta.dirname,
  // Relative asset URLs, so the build also works when the API sits behind a path prefix.
  base: "./",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // The whole app is ~45 kB gzip; one chunk loads faster than a waterfall of small ones.
    chunkSizeWarningLimit: 200,
    modulePreload: { polyfill: false },
  },
  server: { proxy: { "/api": { target: api, changeOrigin: false } } },
});
