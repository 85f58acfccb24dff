// What the "node" and "undici" rows of pull, push-cold and copy do, apart from the HTTP client that
// carries it: the least a correct Node.js client has to do, with no hoist code. A pull GETs
// every manifest and blob (4 at once, as hoist and crane do), hashes each on the main thread,
// writes it gathering the chunks that wait into one writev, flushes it to disk and renames it
// into an OCI layout; a push POSTs an upload session per blob and PUTs the blob streamed from
// its file (4 at once), then the manifests. No retries, auth, limits or progress, and no
// existence checks before a push: how fast a Node client can be on this machine while still
// verifying and durably writing what it pulls. A copy does what crane's does at its least: it checks each blob at the
// destination with a HEAD, then streams the blob's GET into its upload's PUT (4 at once),
// hashing it on the way and failing the upload before its end if the bytes are wrong, then PUTs
// the manifests it fetched. The two rows differ only in their HTTP client (node-client.ts,
// undici-client.ts), which separates what the client costs from what hoist adds to it.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { type FileHandle, mkdir, open, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Readable, Transform } from "node:stream";
import type { NodeClientBlob, NodeClientPlan } from "./node-floor.js";

const JOBS = 4;
/** How many received bytes may wait for the disk before the download pauses. */
const MAX_WAITING = 8 * 1024 * 1024;

/** The few calls the minimal clients make; every response body is read to its end. */
export interface MinimalHttp {
  get(url: string, headers: Record<string, string>): Promise<{ status: number; body: Readable }>;
  /** The status of a HEAD request. */
  head(url: string): Promise<number>;
  /** POSTs to start an upload; the session's Location, resolved against the request. */
  post(url: string): Promise<{ status: number; location: string | undefined }>;
  put(
    url: string,
    headers: Record<string, string | number>,
    body: Readable | Buffer,
  ): Promise<number>;
  close(): Promise<void>;
}

function hexOf(digest: string): string {
  return digest.slice("sha256:".length);
}

/** Receives one body into `file`, hashing every chunk; resolves with the hex digest. */
function receive(body: Readable, file: FileHandle): Promise<string> {
  const hash = createHash("sha256");
  return new Promise((resolve, reject) => {
    let waiting: Buffer[] = [];
    let waitingBytes = 0;
    let writing = false;
    let ended = false;
    const pump = () => {
      if (writing) return;
      if (waiting.length === 0) {
        if (ended) resolve(hash.digest("hex"));
        return;
      }
      const chunks = waiting;
      waiting = [];
      waitingBytes = 0;
      writing = true;
      body.resume();
      file.writev(chunks).then(() => {
        writing = false;
        pump();
      }, reject);
    };
    body.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      waiting.push(chunk);
      waitingBytes += chunk.length;
      if (waitingBytes >= MAX_WAITING) body.pause();
      pump();
    });
    body.on("end", () => {
      ended = true;
      pump();
    });
    body.on("error", reject);
  });
}

async function pullBlob(
  http: MinimalHttp,
  plan: Extract<NodeClientPlan, { mode: "pull" }>,
  blob: NodeClientBlob,
): Promise<void> {
  const manifest = blob.kind === "manifest";
  const url = `${plan.url}/v2/${plan.repo}/${manifest ? "manifests" : "blobs"}/${blob.digest}`;
  const response = await http.get(url, manifest ? { accept: blob.mediaType } : {});
  if (response.status !== 200) {
    response.body.resume();
    throw new Error(`GET ${blob.digest}: status ${response.status}`);
  }
  const dir = join(plan.outDir, "blobs", "sha256");
  const temporary = join(dir, `.${hexOf(blob.digest)}.partial`);
  const file = await open(temporary, "w");
  try {
    const hex = await receive(response.body, file);
    if (hex !== hexOf(blob.digest)) throw new Error(`${blob.digest}: received sha256:${hex}`);
    await file.datasync();
  } finally {
    await file.close();
  }
  await rename(temporary, join(dir, hexOf(blob.digest)));
}

async function pushBlob(
  http: MinimalHttp,
  plan: Extract<NodeClientPlan, { mode: "push" }>,
  blob: NodeClientBlob,
): Promise<void> {
  const started = await http.post(`${plan.url}/v2/${plan.repo}/blobs/uploads/`);
  if (started.status !== 202 || started.location === undefined) {
    throw new Error(`POST for ${blob.digest}: status ${started.status}`);
  }
  const location = new URL(started.location, plan.url);
  location.searchParams.set("digest", blob.digest);
  const body = createReadStream(join(plan.layoutDir, "blobs", "sha256", hexOf(blob.digest)));
  const status = await http.put(
    location.href,
    { "content-type": "application/octet-stream", "content-length": blob.size },
    body,
  );
  if (status !== 201) throw new Error(`PUT ${blob.digest}: status ${status}`);
}

/** Passes a blob's bytes through, failing before the last of them if they are not `digest`. */
function verified(body: Readable, digest: string): Readable {
  const hash = createHash("sha256");
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const hex = hash.digest("hex");
      done(hex === hexOf(digest) ? null : new Error(`${digest}: received sha256:${hex}`));
    },
  });
  body.on("error", (error) => check.destroy(error));
  return body.pipe(check);
}

async function copyBlob(
  http: MinimalHttp,
  plan: Extract<NodeClientPlan, { mode: "copy" }>,
  blob: NodeClientBlob,
): Promise<void> {
  const target = `${plan.destination.url}/v2/${plan.destination.repo}/blobs`;
  if ((await http.head(`${target}/${blob.digest}`)) === 200) return;
  const started = await http.post(`${target}/uploads/`);
  if (started.status !== 202 || started.location === undefined) {
    throw new Error(`POST for ${blob.digest}: status ${started.status}`);
  }
  const location = new URL(started.location, plan.destination.url);
  location.searchParams.set("digest", blob.digest);
  const download = await http.get(
    `${plan.source.url}/v2/${plan.source.repo}/blobs/${blob.digest}`,
    {},
  );
  if (download.status !== 200) {
    download.body.resume();
    throw new Error(`GET ${blob.digest}: status ${download.status}`);
  }
  const status = await http.put(
    location.href,
    { "content-type": "application/octet-stream", "content-length": blob.size },
    verified(download.body, blob.digest),
  );
  if (status !== 201) throw new Error(`PUT ${blob.digest}: status ${status}`);
}

/** GETs a manifest by digest and checks its bytes. */
async function fetchManifest(
  http: MinimalHttp,
  plan: Extract<NodeClientPlan, { mode: "copy" }>,
  manifest: NodeClientBlob,
): Promise<Buffer> {
  const response = await http.get(
    `${plan.source.url}/v2/${plan.source.repo}/manifests/${manifest.digest}`,
    { accept: manifest.mediaType },
  );
  const chunks: Buffer[] = [];
  for await (const chunk of response.body) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  const hex = createHash("sha256").update(bytes).digest("hex");
  if (response.status !== 200 || hex !== hexOf(manifest.digest)) {
    throw new Error(`GET manifest ${manifest.digest}: status ${response.status}, sha256:${hex}`);
  }
  return bytes;
}

async function putManifests(
  http: MinimalHttp,
  base: string,
  manifests: ReadonlyArray<NodeClientBlob & { reference: string }>,
  bytesOf: (manifest: NodeClientBlob) => Promise<Buffer>,
): Promise<void> {
  for (const manifest of manifests) {
    const status = await http.put(
      `${base}/manifests/${manifest.reference}`,
      { "content-type": manifest.mediaType },
      await bytesOf(manifest),
    );
    if (status !== 201) throw new Error(`PUT manifest ${manifest.reference}: status ${status}`);
  }
}

async function inTurns<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: JOBS }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

async function run(http: MinimalHttp, planPath: string): Promise<void> {
  const plan = JSON.parse(await readFile(planPath, "utf8")) as NodeClientPlan;
  if (plan.mode === "pull") {
    await mkdir(join(plan.outDir, "blobs", "sha256"), { recursive: true });
    await inTurns(plan.blobs, (blob) => pullBlob(http, plan, blob));
    await writeFile(join(plan.outDir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(plan.outDir, "index.json"), plan.index);
  } else if (plan.mode === "push") {
    await inTurns(plan.blobs, (blob) => pushBlob(http, plan, blob));
    await putManifests(http, `${plan.url}/v2/${plan.repo}`, plan.manifests, (manifest) =>
      readFile(join(plan.layoutDir, "blobs", "sha256", hexOf(manifest.digest))),
    );
  } else {
    const fetched = new Map<string, Buffer>();
    await inTurns(plan.manifests, async (manifest) => {
      fetched.set(manifest.digest, await fetchManifest(http, plan, manifest));
    });
    await inTurns(plan.blobs, (blob) => copyBlob(http, plan, blob));
    await putManifests(
      http,
      `${plan.destination.url}/v2/${plan.destination.repo}`,
      plan.manifests,
      async (manifest) => fetched.get(manifest.digest) as Buffer,
    );
  }
  await http.close();
}

/** Runs the plan named by the first argument with `http`; run as `node CLIENT.js PLAN.json`. */
export function runMinimalClient(http: MinimalHttp): void {
  run(http, process.argv[2] as string).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
