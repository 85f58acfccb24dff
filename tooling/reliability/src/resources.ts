import { readdirSync, readlinkSync } from "node:fs";

/** What the process holds at one moment. */
export interface ResourceSnapshot {
  /** Open file descriptors (from /proc/self/fd). */
  readonly fds: number;
  /** Of those, sockets. */
  readonly sockets: number;
  /** Of those, regular files and directories (anything with a path). */
  readonly files: number;
  /** `process.getActiveResourcesInfo()`, counted by kind (TCPSocketWrap, FSReqPromise, Timeout…). */
  readonly active: Readonly<Record<string, number>>;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

/** Counts this process's descriptors and active resources. Linux only (/proc). */
export function snapshotResources(): ResourceSnapshot {
  let fds = 0;
  let sockets = 0;
  let files = 0;
  for (const entry of readdirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${entry}`);
    } catch {
      continue; // the descriptor readdir itself used, closed by now
    }
    fds++;
    if (target.startsWith("socket:")) sockets++;
    else if (target.startsWith("/")) files++;
  }
  const active: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) active[kind] = (active[kind] ?? 0) + 1;
  const memory = process.memoryUsage();
  return { fds, sockets, files, active, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed };
}

/** What grew between two snapshots (only growth; shrinking is fine). */
export function resourceGrowth(before: ResourceSnapshot, after: ResourceSnapshot): string[] {
  const grew: string[] = [];
  if (after.sockets > before.sockets) grew.push(`sockets ${before.sockets} -> ${after.sockets}`);
  if (after.files > before.files) grew.push(`open files ${before.files} -> ${after.files}`);
  if (after.fds > before.fds) grew.push(`descriptors ${before.fds} -> ${after.fds}`);
  for (const kind of ["TCPSocketWrap", "TCPServerWrap", "FileHandle", "FSReqPromise"]) {
    const was = before.active[kind] ?? 0;
    const now = after.active[kind] ?? 0;
    if (now > was) grew.push(`${kind} ${was} -> ${now}`);
  }
  return grew;
}

/**
 * Waits until nothing has grown since `baseline` (closing sockets takes a few ticks), or the
 * timeout passes; returns what still grew then (empty when everything came back).
 */
export async function settledGrowth(
  baseline: ResourceSnapshot,
  options: { timeoutMs?: number } = {},
): Promise<{ growth: string[]; after: ResourceSnapshot }> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  for (;;) {
    const after = snapshotResources();
    const growth = resourceGrowth(baseline, after);
    if (growth.length === 0 || Date.now() > deadline) return { growth, after };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
