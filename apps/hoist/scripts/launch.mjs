// `pnpm --silent hoist ARGS` from the repository root: runs the built CLI, building it first
// when dist/ is missing or older than any source it is made from. Build output goes to stderr,
// so stdout carries exactly what the command prints.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const app = join(dirname(fileURLToPath(import.meta.url)), "..");
const root = join(app, "../..");
const entry = join(app, "dist/index.js");

function newest(path) {
  let latest = 0;
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  for (const name of readdirSync(path)) {
    if (name === "node_modules" || name === "dist") continue;
    latest = Math.max(latest, newest(join(path, name)));
  }
  return latest;
}

function sources() {
  const dirs = [join(app, "src"), join(app, "package.json"), join(app, "build.mjs")];
  for (const name of readdirSync(join(root, "packages"))) {
    dirs.push(join(root, "packages", name, "src"), join(root, "packages", name, "package.json"));
  }
  return Math.max(...dirs.map(newest));
}

if (!existsSync(entry) || statSync(entry).mtimeMs < sources()) {
  const turbo = join(root, "node_modules/.bin/turbo");
  const built = spawnSync(
    turbo,
    ["run", "build", "--filter=@hoist/cli...", "--output-logs=errors-only"],
    { cwd: root, stdio: ["ignore", 2, 2] },
  );
  if (built.status !== 0) {
    process.stderr.write("hoist: building the CLI failed (see above)\n");
    process.exit(built.status ?? 1);
  }
}

const { main } = await import(pathToFileURL(entry).href);
await main(process.argv.slice(2));
