// Bundles the CLI into ESM (dist/index.js and its lazily loaded chunks) plus a two-line
// executable (dist/hoist.js), after tsc has checked the code and written declarations. Runtime
// dependencies are bundled (they are devDependencies); the cloud keychain plugins stay
// external, imported only when a registry of theirs is used and only if installed.
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(await readFile(join(here, "package.json"), "utf8"));
const external = Object.keys(pkg.peerDependencies ?? {});

await mkdir(join(here, "dist"), { recursive: true });

const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20.18",
  external,
  define: { __HOIST_VERSION__: JSON.stringify(pkg.version) },
  // CommonJS dependencies bundled into ESM need require() for Node built-ins.
  banner: {
    js: 'import { createRequire as __hoistCreateRequire } from "node:module"; const require = __hoistCreateRequire(import.meta.url);',
  },
  legalComments: "none",
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
};

// Code splitting keeps start-up fast: the entry holds the command tree and commander, and each
// command's work (the registry client, tar, zod schemas) is a chunk imported when it runs.
// Measured on the 2-core CI machine: `hoist version` takes ~165 ms from one 2.4 MB file and
// ~95 ms split (a bare `node -e 0` takes ~85 ms).
await build({
  ...common,
  splitting: true,
  entryPoints: { index: join(here, "src/index.ts"), demo: join(here, "src/demo.ts") },
  outdir: join(here, "dist"),
  chunkNames: "chunks/[name]-[hash]",
});

const bin = join(here, "dist/hoist.js");
await writeFile(bin, '#!/usr/bin/env node\nimport { main } from "./index.js";\n\nawait main();\n');
await chmod(bin, 0o755);

// tsc wrote declarations for every module into dist/types; the package's types are only the
// public entry's, which mention nothing but Node's own types.
for (const name of ["index", "errors", "main", "run", "version"]) {
  await copyFile(join(here, `dist/types/${name}.d.ts`), join(here, `dist/${name}.d.ts`));
}
await rm(join(here, "dist/types"), { recursive: true, force: true });
