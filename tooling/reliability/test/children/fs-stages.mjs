// Preloaded into a child process (node --import) that the durability scenario kills: every
// call to node:fs/promises and to a FileHandle is counted ("stage N name" on stdout), and with
// PAUSE_AT=N the process stops forever at call N, so the parent can kill it exactly there.
import { createRequire, syncBuiltinESMExports } from "node:module";

const require = createRequire(import.meta.url);
const fsp = require("node:fs/promises");
const pauseAt = Number(process.env.PAUSE_AT ?? "0");
let calls = 0;

function stage(name) {
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
// Node's module loader reads every module through fs/promises: those reads are not counted.
const isModuleSource = (target) =>
  /\.(m|c)?js$/.test(String(target instanceof URL ? target.pathname : target));
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
    if (!(name === "readFile" && isModuleSource(args[0]))) await stage(name);
    return original.apply(this, args);
  };
}
// Makes `import { rename } from "node:fs/promises"` in already-bundled code see these too.
syncBuiltinESMExports();
