import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Writes back every dirty page on the machine (`sync`), before a timed run and outside it.
 * skopeo, hoist and the node row all flush what they write, and on ext4 (data=ordered) a flush
 * can wait for other files' data committed with it: without this a run would pay for what the
 * registries and earlier runs left in the page cache, more or less by chance.
 */
export async function settleDisks(signal?: AbortSignal): Promise<void> {
  await run("sync", [], signal ? { signal } : {});
}
