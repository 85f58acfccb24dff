// Bundles the CLI three ways after tsc has checked the code and written declarations:
// - dist/index.js and its lazily loaded chunks (ESM): the package's entry, for programs;
// - dist/cli.cjs (CommonJS, one file): what the executable runs through V8's code cache;
// - dist/hoist.cjs: the executable, which sets V8's flags and runs cli.cjs (src/bin.ts).
// Runtime dependencies are bundled (they are devDependencies); the cloud keychain plugins stay
// external, imported only when a registry of theirs is used and only if installed.
import { chmod, copyFile, mkdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(await readFile(join(here, "package.json"), "utf8"));
const external = Object.keys(pkg.peerDependencies ?? {});

await mkdir(join(here, "dist"), { recursive: true });

// Two bundled libraries carry far more than hoist uses, and every command that touches the
// network compiles all of it at start-up (Node 20 has no compile cache). Both replacements keep
// the modules hoist calls and only drop ones nothing in the bundle can reach:
// - undici's entry loads every dispatcher, fetch, WebSocket, caches and mocks; @hoist/transport
//   uses Agent and EnvHttpProxyAgent with the request API, over HTTP/1.1.
// - zod's classic entry carries the messages of 50 locales; hoist only ever uses English.
// Measured on the 2-core machine: 0.9 MB less to compile; `hoist digest` takes 30-70 ms less
// CPU and 9 MiB less memory.
const transportRequire = createRequire(
  createRequire(import.meta.url).resolve("@hoist/transport/package.json"),
);
const undiciDir = dirname(transportRequire.resolve("undici/package.json"));
/** A module with the exports of a zod module, each failing when used (see slim-libraries). */
function zodStub(path, source) {
  const lines = [
    "const unavailable = (name) => () => {",
    `  throw new Error(\`zod's \${name} is not part of the hoist CLI bundle\`);`,
    "};",
  ];
  const names = new Set();
  for (const [, kind, name] of source.matchAll(
    /^export (?:async )?(function|class|const|let) ([A-Za-z_$][\w$]*)/gm,
  )) {
    if (names.has(name)) continue;
    names.add(name);
    const symbol = new RegExp(
      `^export const ${name.replace(/\$/g, "\\$")} = (Symbol\\.for\\([^)]*\\));`,
      "m",
    ).exec(source);
    if (symbol) lines.push(`export const ${name} = ${symbol[1]};`);
    else if (kind === "class") {
      lines.push(
        `export class ${name} extends Error { constructor() { super(\`zod's ${name} is not part of the hoist CLI bundle\`); } }`,
      );
    } else if (/^create\w*Method$/.test(name)) {
      // Schemas build these methods when asked for them; only calling one fails.
      lines.push(`export const ${name} = () => unavailable(${JSON.stringify(name)});`);
    } else lines.push(`export const ${name} = unavailable(${JSON.stringify(name)});`);
  }
  for (const [, list] of source.matchAll(/^export \{([^}]*)\}(?! from)/gm)) {
    for (const entry of list.split(",")) {
      const name = entry
        .trim()
        .split(/\s+as\s+/)
        .pop();
      if (name && !names.has(name)) {
        names.add(name);
        lines.push(`export const ${name} = unavailable(${JSON.stringify(name)});`);
      }
    }
  }
  if (names.size === 0) throw new Error(`found no exports to stub in ${path}`);
  return lines.join("\n");
}

const slimLibraries = {
  name: "slim-libraries",
  setup(builder) {
    builder.onResolve({ filter: /^undici$/ }, () => ({ path: "undici", namespace: "slim" }));
    // HTTP/2 only happens when a dispatcher offers it (allowH2, off in @hoist/transport); the
    // module loads Node's http2 at start-up all the same.
    builder.onResolve({ filter: /[\\/]client-h2\.js$/ }, (args) =>
      /[\\/]undici[\\/]/.test(args.importer) ? { path: "client-h2", namespace: "slim" } : undefined,
    );
    // commander loads node:child_process for executable subcommands, which hoist has none of;
    // loading it costs every command ~4 ms on the 2-core machine, so it is loaded on use.
    builder.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer)
        ? { path: "lazy-child-process", namespace: "slim" }
        : undefined,
    );
    // zod's JSON Schema conversion (both ways) and its ahead-of-time compiler are a third of its
    // code, compiled by every command that parses JSON; hoist uses none of them. Their modules
    // become stubs with the same exports that throw if ever called.
    builder.onResolve(
      {
        filter:
          /[\\/](compile|from-json-schema|json-schema-processors|to-json-schema|json-schema-generator)\.js$/,
      },
      (args) =>
        /[\\/]zod[\\/]/.test(args.importer)
          ? { path: join(args.resolveDir, args.path), namespace: "zod-stub" }
          : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: "zod-stub" }, async (args) => ({
      loader: "js",
      contents: zodStub(args.path, await readFile(args.path, "utf8")),
    }));
    builder.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer)
        ? { path: join(args.resolveDir, args.path), namespace: "slim" }
        : undefined,
    );
    builder.onLoad({ filter: /^lazy-child-process$/, namespace: "slim" }, () => ({
      loader: "js",
      contents:
        'module.exports = { get spawn() { return process.getBuiltinModule("node:child_process").spawn; } };',
    }));
    builder.onLoad({ filter: /^client-h2$/, namespace: "slim" }, () => ({
      loader: "js",
      contents:
        'module.exports = () => { throw new Error("HTTP/2 is not part of the hoist CLI bundle"); };',
    }));
    builder.onLoad({ filter: /.*/, namespace: "slim" }, (args) =>
      args.path === "undici"
        ? {
            resolveDir: undiciDir,
            loader: "js",
            contents: [
              'const Dispatcher = require("./lib/dispatcher/dispatcher");',
              'Object.assign(Dispatcher.prototype, require("./lib/api"));',
              "module.exports = {",
              "  Dispatcher,",
              '  Agent: require("./lib/dispatcher/agent"),',
              '  EnvHttpProxyAgent: require("./lib/dispatcher/env-http-proxy-agent"),',
              "};",
            ].join("\n"),
          }
        : {
            resolveDir: dirname(args.path),
            loader: "js",
            contents: 'export { default as en } from "./en.js";',
          },
    );
  },
};

// @hoist/transport reads its version from its package.json next to its module, which a bundle
// does not have beside it: the bundle carries the version instead (the User-Agent said 0.0.0).
const transportDir = dirname(transportRequire.resolve("@hoist/transport/package.json"));
const transportVersion = JSON.parse(
  await readFile(join(transportDir, "package.json"), "utf8"),
).version;
const transportVersionModule = join(transportDir, "dist", "version.js");
const bundledVersions = {
  name: "bundled-versions",
  setup(builder) {
    builder.onLoad({ filter: /[\\/]version\.js$/ }, async (args) => {
      if (args.path !== transportVersionModule) return undefined;
      const source = await readFile(args.path, "utf8");
      const replaced = source.replace(
        "export const VERSION = readVersion();",
        `export const VERSION = ${JSON.stringify(transportVersion)};`,
      );
      if (replaced === source) throw new Error(`${args.path} no longer sets VERSION as expected`);
      return { contents: replaced, loader: "js" };
    });
  },
};

/** The swaps only the executable's CommonJS bundle needs (see the cli.cjs build below). */
const executableOnly = {
  name: "executable-only",
  setup(builder) {
    const optionalImport = join(here, "src", "optional-import.ts");
    builder.onLoad({ filter: /[\\/]optional-import\.ts$/ }, (args) =>
      args.path === optionalImport
        ? {
            loader: "js",
            contents:
              "export const importOptional = (specifier) => __hoistImportOptional(specifier);",
          }
        : undefined,
    );
    const collector = join(here, "src", "young-collector.ts");
    builder.onLoad({ filter: /[\\/]young-collector\.ts$/ }, (args) =>
      args.path === collector
        ? { loader: "js", contents: "export const youngCollector = () => __hoistCollectYoung;" }
        : undefined,
    );
  },
};

const common = {
  bundle: true,
  plugins: [slimLibraries, bundledVersions],
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

// The executable's copy of the CLI: one CommonJS file, so that src/bin.ts can compile it with
// vm.Script and V8's code cache (Node 20 caches no ES module code). import() would need Node's
// experimental vm loader there, so esbuild turns the ones of Node built-ins into require(), and
// optional-import.ts becomes a call into the executable's own import(); the command modules stay
// lazily initialised, as esbuild wraps each module in a function run on first require.
await build({
  ...common,
  plugins: [slimLibraries, bundledVersions, executableOnly],
  format: "cjs",
  banner: {},
  supported: { "dynamic-import": false },
  entryPoints: [join(here, "src/index.ts")],
  outfile: join(here, "dist/cli.cjs"),
});

const bin = join(here, "dist/hoist.cjs");
await build({
  ...common,
  plugins: [],
  format: "cjs",
  entryPoints: [join(here, "src/bin.ts")],
  outfile: bin,
  banner: { js: "#!/usr/bin/env node" },
});
await chmod(bin, 0o755);

// tsc wrote declarations for every module into dist/types; the package's types are only the
// public entry's, which mention nothing but Node's own types.
for (const name of ["index", "errors", "main", "run", "version"]) {
  await copyFile(join(here, `dist/types/${name}.d.ts`), join(here, `dist/${name}.d.ts`));
}
await rm(join(here, "dist/types"), { recursive: true, force: true });
