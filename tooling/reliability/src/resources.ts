import { readdirSync, readFileSync, readlinkSync } from "node:fs";

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
  /** The inodes of those sockets, to name a leaked one. */
  readonly socketInodes: readonly string[];
}

/** "127.0.0.1:5000" from /proc/net/tcp's "0100007F:1388" (IPv4 only; v6 stays in hex). */
function procAddress(hex: string): string {
  const [ip = "", port = ""] = hex.split(":");
  const address =
    ip.length === 8
      ? [6, 4, 2, 0].map((at) => Number.parseInt(ip.slice(at, at + 2), 16)).join(".")
      : ip;
  return `${address}:${Number.parseInt(port, 16)}`;
}

/**
 * What each socket inode is, from the kernel's tables: a TCP connection "local -> remote" or
 * a Unix socket (libuv's child-process pipes are Unix socket pairs). Names a leaked socket.
 */
function describeSockets(inodes: readonly string[]): string[] {
  const wanted = new Set(inodes);
  const found = new Map<string, string>();
  for (const table of ["tcp", "tcp6"]) {
    let text = "";
    try {
      text = readFileSync(`/proc/net/${table}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const inode = fields[9];
      if (inode && wanted.has(inode)) {
        found.set(inode, `tcp ${procAddress(fields[1] ?? "")} -> ${procAddress(fields[2] ?? "")}`);
      }
    }
  }
  try {
    for (const line of readFileSync("/proc/net/unix", "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const inode = fields[6];
      if (inode && wanted.has(inode)) found.set(inode, `unix ${fields[7] ?? "(unnamed)"}`);
    }
  } catch {
    // no unix table: the inode stays undescribed
  }
  return inodes.map((inode) => found.get(inode) ?? `socket ${inode}`);
}

/** Counts this process's descriptors and active resources. Linux only (/proc). */
export function snapshotResources(): ResourceSnapshot {
  let fds = 0;
  let sockets = 0;
  let files = 0;
  const socketInodes: string[] = [];
  for (const entry of readdirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${entry}`);
    } catch {
      continue; // the descriptor readdir itself used, closed by now
    }
    fds++;
    if (target.startsWith("socket:")) {
      sockets++;
      socketInodes.push(target.slice("socket:[".length, -1));
    } else if (target.startsWith("/")) files++;
  }
  const active: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) active[kind] = (active[kind] ?? 0) + 1;
  const memory = process.memoryUsage();
  return {
    fds,
    sockets,
    files,
    active,
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    socketInodes,
  };
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
  const added = after.socketInodes.filter((inode) => !before.socketInodes.includes(inode));
  if (grew.length > 0 && added.length > 0) {
    grew[grew.length - 1] += ` (sockets opened since: ${describeSockets(added).join("; ")})`;
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
