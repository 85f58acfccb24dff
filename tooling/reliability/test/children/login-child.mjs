// A child process that runs @hoist/authn's login against one config file, for the durability
// scenario to kill. Every file-system call login makes is counted ("stage N name" on stdout);
// with PAUSE_AT=N the child stops forever at call N, so the parent can kill it exactly there.
// MODE=once logs in once; MODE=loop logs in again and again with numbered credentials.
import { createRequire, syncBuiltinESMExports } from "node:module";

const require = createRequire(import.meta.url);
const fsp = require("node:fs/promises");
const pauseAt = Number(process.env.PAUSE_AT ?? "0");
let calls = 0;
let counting = false;

function stage(name) {
  if (!counting) return undefined;
  calls++;
  process.stdout.write(`stage ${calls} ${name}\n`);
  if (calls !== pauseAt) return undefined;
  process.stdout.write("paused\n");
  setInterval(() => {}, 1000);
  return new Promise(() => {});
}

const probe = await fsp.open(new URL(import.meta.url), "r");
const handleProto = Object.getPrototypeOf(probe);
await probe.close();
for (const name of ["writeFile", "write", "chmod", "chown", "sync", "datasync", "close"]) {
  const original = handleProto[name];
  if (typeof original !== "function") continue;
  handleProto[name] = async function (...args) {
    await stage(`handle.${name}`);
    return original.apply(this, args);
  };
}
for (const name of [
  "open",
  "rename",
  "readFile",
  "writeFile",
  "unlink",
  "mkdir",
  "stat",
  "lstat",
]) {
  const original = fsp[name];
  fsp[name] = async function (...args) {
    await stage(name);
    return original.apply(this, args);
  };
}
// Makes `import { rename } from "node:fs/promises"` in @hoist/authn see the counted versions.
syncBuiltinESMExports();

const { login } = await import("@hoist/authn");
const configPath = process.env.CONFIG_PATH;
const server = process.env.SERVER ?? "registry.example";
process.stdout.write("ready\n");
counting = true;
if (process.env.MODE === "loop") {
  for (let i = 1; ; i++) {
    await login(
      server,
      { kind: "basic", username: `user${i}`, password: `password-${i}` },
      { configPath },
    );
    process.stdout.write(`wrote ${i}\n`);
  }
} else {
  await login(
    server,
    { kind: "basic", username: "newuser", password: "new-password" },
    { configPath },
  );
  process.stdout.write("done\n");
}
