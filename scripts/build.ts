/**
 * `npm run build`: the built equivalents of the services, for containers: one ES module
 * per service in dist/, with Vigil's own packages bundled in and third-party packages
 * left to node_modules (several carry native or WebAssembly parts). Run with plain
 * `node dist/<service>.mjs`; no TypeScript toolchain at run time.
 */
import { build } from "esbuild";

const entries = {
  vigil: "services/vigil/src/main.ts",
  migrate: "services/vigil/src/migrate.ts",
  ingest: "services/ingest/src/main.ts",
  api: "services/api/src/main.ts",
  worker: "services/worker/src/main.ts",
  // Ingest's pipeline threads load this module (see services/ingest/src/pipeline-runner.ts).
  "ingest-pipeline-thread": "services/ingest/src/pipeline-thread.ts",
  cli: "services/cli/src/main.ts",
};

await build({
  entryPoints: entries,
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  logLevel: "warning",
  // Bundled code that needs require() (some CommonJS dependencies) gets one.
  banner: {
    js: "import { createRequire as __vigilRequire } from 'node:module'; const require = __vigilRequire(import.meta.url);",
  },
  plugins: [
    {
      name: "third-party-external",
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith("@vigil/") ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});
process.stdout.write(
  `built ${Object.keys(entries)
    .map((e) => `dist/${e}.mjs`)
    .join(", ")}\n`,
);
