import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import type { Readable } from "node:stream";
import { blobPath, type Descriptor, MEDIA_TYPES } from "./layout-writer.js";

// The benchmark's own plumbing (seeding registries, checking results) talks to the registry
// with node:http directly: it must not depend on the hoist code it measures.

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

export interface PlainResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export function send(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string | number>;
    body?: Buffer | string | Readable;
    signal?: AbortSignal;
  } = {},
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? "GET", headers: options.headers, agent, signal: options.signal },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on("error", reject);
    const body = options.body;
    if (body === undefined) req.end();
    else if (typeof body === "string" || Buffer.isBuffer(body)) req.end(body);
    else {
      body.on("error", (error) => req.destroy(error));
      body.pipe(req);
    }
  });
}

function expectStatus(response: PlainResponse, expected: number[], what: string) {
  if (!expected.includes(response.status))
    throw new Error(
      `${what}: the registry answered ${response.status}: ${response.body.toString("utf8").slice(0, 300)}`,
    );
}

const MANIFEST_ACCEPT = [
  MEDIA_TYPES.manifest,
  MEDIA_TYPES.index,
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

/** Uploads a blob from a layout (POST, then one PUT with the whole body), unless present. */
export async function uploadBlob(
  registryUrl: string,
  repo: string,
  layoutDir: string,
  blob: Descriptor,
): Promise<void> {
  const head = await send(`${registryUrl}/v2/${repo}/blobs/${blob.digest}`, { method: "HEAD" });
  if (head.status === 200) return;
  const started = await send(`${registryUrl}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  expectStatus(started, [202], `starting the upload of ${blob.digest}`);
  const location = new URL(String(started.headers.location), registryUrl);
  location.searchParams.set("digest", blob.digest);
  const put = await send(location.href, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream", "content-length": blob.size },
    body: createReadStream(blobPath(layoutDir, blob.digest), { highWaterMark: 1024 * 1024 }),
  });
  expectStatus(put, [201], `uploading ${blob.digest}`);
}

export async function putManifest(
  registryUrl: string,
  repo: string,
  reference: string,
  layoutDir: string,
  manifest: Descriptor,
): Promise<void> {
  const response = await send(`${registryUrl}/v2/${repo}/manifests/${reference}`, {
    method: "PUT",
    headers: { "content-type": manifest.mediaType },
    body: await readFile(blobPath(layoutDir, manifest.digest)),
  });
  expectStatus(response, [201], `putting the manifest ${repo}:${reference}`);
}

/** The digest the registry reports for a tag, or undefined when the tag does not exist. */
export async function manifestDigest(
  registryUrl: string,
  repo: string,
  reference: string,
): Promise<string | undefined> {
  const response = await send(`${registryUrl}/v2/${repo}/manifests/${reference}`, {
    method: "HEAD",
    headers: { accept: MANIFEST_ACCEPT },
  });
  if (response.status === 404) return undefined;
  expectStatus(response, [200], `checking ${repo}:${reference}`);
  return String(response.headers["docker-content-digest"]);
}

/** Runs `work` over the items with at most `limit` in flight. */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(workers);
}
