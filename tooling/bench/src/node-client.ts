// The "node" row of pull and push-cold: the least a correct Node.js client has to do, with no
// hoist code. A pull GETs every manifest and blob (4 at once, as hoist and crane do), hashes each
// on the main thread, writes it gathering the chunks that wait into one writev, flushes it to
// disk and renames it into an OCI layout; a push POSTs an upload session per blob and PUTs the
// blob streamed from its file (4 at once), then the manifests. No existence checks, retries,
// auth, limits or progress: how fast a Node client can be on this machine while still verifying
// and durably writing what it pulls. Run as `node node-client.js PLAN.json`; node-floor.ts writes
// the plan.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { type FileHandle, mkdir, open, readFile, rename, writeFile } from "node:fs/promises";
import { Agent, type IncomingMessage } from "node:http";
import { join } from "node:path";
import type { NodeClientBlob, NodeClientPlan } from "./node-floor.js";
import { call, expectStatus } from "./plain-http.js";

const JOBS = 4;
/** How many received bytes may wait for the disk before the download pauses. */
const MAX_WAITING = 8 * 1024 * 1024;

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

function hexOf(digest: string): string {
  return digest.slice("sha256:".length);
}

/** Receives one response into `file`, hashing every chunk; resolves with the hex digest. */
function receive(response: IncomingMessage, file: FileHandle): Promise<string> {
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
      response.resume();
      file.writev(chunks).then(() => {
        writing = false;
        pump();
      }, reject);
    };
    response.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      waiting.push(chunk);
      waitingBytes += chunk.length;
      if (waitingBytes >= MAX_WAITING) response.pause();
      pump();
    });
    response.on("end", () => {
      ended = true;
      pump();
    });
    response.on("error", reject);
  });
}

async function pullBlob(
  plan: Extract<NodeClientPlan, { mode: "pull" }>,
  blob: NodeClientBlob,
): Promise<void> {
  const manifest = blob.kind === "manifest";
  const url = `${plan.url}/v2/${plan.repo}/${manifest ? "manifests" : "blobs"}/${blob.digest}`;
  const response = await call(agent, url, "GET", manifest ? { accept: blob.mediaType } : {});
  if (response.statusCode !== 200) {
    response.resume();
    throw new Error(`GET ${blob.digest}: status ${response.statusCode}`);
  }
  const dir = join(plan.outDir, "blobs", "sha256");
  const temporary = join(dir, `.${hexOf(blob.digest)}.partial`);
  const file = await open(temporary, "w");
  try {
    const hex = await receive(response, file);
    if (hex !== hexOf(blob.digest)) throw new Error(`${blob.digest}: received sha256:${hex}`);
    await file.datasync();
  } finally {
    await file.close();
  }
  await rename(temporary, join(dir, hexOf(blob.digest)));
}

async function pushBlob(
  plan: Extract<NodeClientPlan, { mode: "push" }>,
  blob: NodeClientBlob,
): Promise<void> {
  const started = await call(agent, `${plan.url}/v2/${plan.repo}/blobs/uploads/`, "POST", {});
  const location = new URL(String(started.headers.location), plan.url);
  await expectStatus(started, 202, `POST for ${blob.digest}`);
  location.searchParams.set("digest", blob.digest);
  const body = createReadStream(join(plan.layoutDir, "blobs", "sha256", hexOf(blob.digest)));
  const upload = await call(
    agent,
    location.href,
    "PUT",
    { "content-type": "application/octet-stream", "content-length": blob.size },
    body,
  );
  await expectStatus(upload, 201, `PUT ${blob.digest}`);
}

async function inTurns<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: JOBS }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

async function main(): Promise<void> {
  const plan = JSON.parse(await readFile(process.argv[2] as string, "utf8")) as NodeClientPlan;
  if (plan.mode === "pull") {
    await mkdir(join(plan.outDir, "blobs", "sha256"), { recursive: true });
    await inTurns(plan.blobs, (blob) => pullBlob(plan, blob));
    await writeFile(join(plan.outDir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(plan.outDir, "index.json"), plan.index);
  } else {
    await inTurns(plan.blobs, (blob) => pushBlob(plan, blob));
    for (const manifest of plan.manifests) {
      const bytes = await readFile(join(plan.layoutDir, "blobs", "sha256", hexOf(manifest.digest)));
      const response = await call(
        agent,
        `${plan.url}/v2/${plan.repo}/manifests/${manifest.reference}`,
        "PUT",
        { "content-type": manifest.mediaType },
        bytes,
      );
      await expectStatus(response, 201, `PUT manifest ${manifest.reference}`);
    }
  }
  agent.destroy();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
