import { createHash } from "node:crypto";
import type { RegistryLike, Session, TransportError } from "../src/index.js";

/** A registry as @hoist/name would describe it; loopback registries may use plain http. */
export function registryAt(host: string, scheme: "https" | "http" = "http"): RegistryLike {
  return { host, scheme, toString: () => host };
}

export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Monolithic blob upload: POST to start, PUT with the bytes and the digest. */
export async function pushBlob(
  session: Session,
  repository: string,
  bytes: Uint8Array,
): Promise<string> {
  const digest = digestOf(bytes);
  const started = await session.request({
    method: "POST",
    path: `/v2/${repository}/blobs/uploads/`,
    expectStatus: [202],
    idempotent: true,
  });
  await started.discard();
  const location = started.headers.get("location");
  if (!location) throw new Error("registry gave no upload location");
  const url = new URL(location, started.url);
  url.searchParams.set("digest", digest);
  const done = await session.request({
    method: "PUT",
    url,
    body: bytes,
    headers: { "content-type": "application/octet-stream" },
    expectStatus: [201],
  });
  await done.discard();
  return digest;
}

/** Collects debug lines. */
export function debugLog(): { lines: string[]; debug: (line: string) => void; text: () => string } {
  const lines: string[] = [];
  return { lines, debug: (line) => lines.push(line), text: () => lines.join("\n") };
}

/** Runs `fn` and returns what it threw (failing the test when it does not throw). */
export async function caught<T = TransportError>(fn: () => Promise<unknown>): Promise<T> {
  try {
    await fn();
  } catch (error) {
    return error as T;
  }
  throw new Error("expected the call to throw");
}
