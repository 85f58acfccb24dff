import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, it } from "vitest";
import { publicPackages, ROOT, type WorkspacePackage } from "./workspace.js";

const run = promisify(execFile);
// Under `pnpm test`, npm_execpath is pnpm itself; run from elsewhere, use the pinned pnpm.
const PNPM_CLI = process.env.npm_execpath?.includes("pnpm") ? process.env.npm_execpath : undefined;
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");

const published = publicPackages();
const byName = new Map(published.map((pkg) => [pkg.json.name, pkg]));

/** The hoist packages a package needs installed with it, itself included. */
function closure(pkg: WorkspacePackage, seen = new Set<string>()): Set<string> {
  seen.add(pkg.json.name);
  for (const dep of Object.keys(pkg.json.dependencies ?? {})) {
    const inner = byName.get(dep);
    if (inner && !seen.has(dep)) closure(inner, seen);
  }
  return seen;
}

/**
 * The third-party packages the workspace's lockfile holds at exactly one version, pinned to it.
 * A fresh install otherwise takes the newest release in range, and a registry can be caught
 * part way through publishing a family of packages: on 2026-11-27 installs of the AWS SDK
 * failed with ETARGET, its newest releases asking for @aws-sdk/core and
 * @aws-sdk/credential-provider-process versions the registry did not have yet. Pinned, the
 * consumer gets what the workspace was tested with.
 */
async function lockedVersions(): Promise<Record<string, string>> {
  const lockfile = await readFile(join(ROOT, "pnpm-lock.yaml"), "utf8");
  const versions = new Map<string, Set<string>>();
  for (const [, name, version] of lockfile.matchAll(
    /^ {2}'?((?:@[^/\s']+\/)?[^@\s'/]+)@(\d[^'(:\s]*)'?:\s*$/gm,
  )) {
    if (!name || !version || name.startsWith("@hoist/")) continue;
    const seen = versions.get(name) ?? new Set<string>();
    seen.add(version);
    versions.set(name, seen);
  }
  const pinned: Record<string, string> = {};
  for (const [name, seen] of versions) if (seen.size === 1) pinned[name] = [...seen][0] as string;
  return pinned;
}

let workdir: string;
let locked: Record<string, string>;
// Promises, so that packages installing concurrently share one pack of a common dependency.
const tarballs = new Map<string, Promise<string>>();

function pack(pkg: WorkspacePackage): Promise<string> {
  let packed = tarballs.get(pkg.json.name);
  if (!packed) {
    packed = packOnce(pkg);
    tarballs.set(pkg.json.name, packed);
  }
  return packed;
}

async function packOnce(pkg: WorkspacePackage): Promise<string> {
  const destination = join(workdir, "tarballs", pkg.json.name.replace("/", "-"));
  await mkdir(destination, { recursive: true });
  // pnpm pack rewrites workspace: ranges into real versions, as a publish would.
  // pnpm may be a JavaScript entry point or a native executable.
  const [command, ...args] = !PNPM_CLI
    ? ["npx", "--yes", "pnpm@12.4.2"]
    : /\.[cm]?js$/.test(PNPM_CLI)
      ? [process.execPath, PNPM_CLI]
      : [PNPM_CLI];
  await run(command as string, [...args, "pack", "--pack-destination", destination], {
    cwd: pkg.path,
  });
  const [file] = await readdir(destination);
  if (!file) throw new Error(`pnpm pack wrote nothing for ${pkg.json.name}`);
  const path = join(destination, file);
  const { stdout: manifest } = await run("tar", ["-xzOf", path, "package/package.json"]);
  if (manifest.includes("workspace:"))
    throw new Error(`${pkg.json.name}'s tarball still has workspace: ranges`);
  return path;
}

beforeAll(async () => {
  // Outside the workspace, so nothing resolves through the workspace's node_modules.
  workdir = await mkdtemp(join(tmpdir(), "hoist-packaging-"));
  locked = await lockedVersions();
});

afterAll(async () => {
  await rm(workdir, { recursive: true, force: true });
});

describe.each(published.map((pkg) => [pkg.json.name, pkg] as const))(
  "%s installed alone",
  (name, pkg) => {
    // Concurrent: each install mostly waits on the npm registry.
    it.concurrent("installs from its tarball, imports, and type-checks in a fresh project", {
      timeout: 300_000,
    }, async ({ expect }) => {
      const needed = [...closure(pkg)];
      const files = Object.fromEntries(
        await Promise.all(
          needed.map(async (n) => [n, `file:${await pack(byName.get(n) as WorkspacePackage)}`]),
        ),
      );
      const project = join(workdir, "projects", name.replace("/", "-"));
      await mkdir(project, { recursive: true });
      const overrides = {
        ...locked,
        ...Object.fromEntries(Object.entries(files).filter(([n]) => n !== name)),
      };
      await writeFile(
        join(project, "package.json"),
        JSON.stringify({
          name: "consumer",
          private: true,
          type: "module",
          dependencies: { [name]: files[name] },
          overrides,
        }),
      );
      await run(
        "npm",
        ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
        {
          cwd: project,
          timeout: 200_000,
        },
      );

      // Only the package and the hoist packages it depends on came from the workspace.
      const installed = (await readdir(join(project, "node_modules/@hoist")))
        .map((n) => `@hoist/${n}`)
        .sort();
      expect(installed).toEqual(needed.sort());

      // The installed package exports exactly what the workspace build exports.
      const script = `import(${JSON.stringify(name)}).then((m) => console.log(JSON.stringify(Object.keys(m).sort())))`;
      const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
        cwd: project,
      });
      const local = await import(pathToFileURL(join(pkg.path, "dist/index.js")).href);
      expect(JSON.parse(stdout)).toEqual(Object.keys(local).sort());
      expect(Object.keys(local).length).toBeGreaterThan(0);

      // A command-line package's executables run from the install, bundled code and all.
      if (pkg.json.bin) {
        const bins = typeof pkg.json.bin === "string" ? { [name]: pkg.json.bin } : pkg.json.bin;
        for (const bin of Object.keys(bins)) {
          const { stdout: version } = await run(
            join(project, "node_modules/.bin", bin),
            ["version"],
            {
              cwd: project,
              env: { PATH: process.env.PATH, HOME: project },
            },
          );
          expect(version, `${bin} version`).toBe(`${pkg.json.version}\n`);
        }
      }

      // Its declarations type-check for a strict consumer that resolves like Node.
      await writeFile(
        join(project, "consumer.ts"),
        `import * as api from ${JSON.stringify(name)};\nexport const names: string[] = Object.keys(api);\n`,
      );
      await writeFile(
        join(project, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            module: "nodenext",
            moduleResolution: "nodenext",
            target: "es2022",
            strict: true,
            noEmit: true,
            skipLibCheck: false,
            types: ["node"],
            typeRoots: [join(ROOT, "node_modules/@types")],
          },
          files: ["consumer.ts"],
        }),
      );
      await run(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd: project }).catch((error) => {
        throw new Error(`${name}'s types fail for a consumer:\n${error.stdout}${error.stderr}`);
      });
    });
  },
);
