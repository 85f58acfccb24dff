// The ceiling of a streamed registry-to-registry copy: a minimal Node client (node:http,
// keep-alive, 8 blobs at a time) piping each blob's GET straight into its upload's PUT, then
// PUTting the manifests. Run as `node copy-ceiling-client.js PLAN.json` by the ceiling tool;
// curl would need two processes per blob, and spawning them costs more than the copy of
// small blobs.
import { readFile } from "node:fs/promises";
import { Agent } from "node:http";
import { call, expectStatus } from "./plain-http.js";

interface Plan {
  source: { url: string; repo: string };
  destination: { url: string; repo: string };
  blobs: Array<{ digest: string; size: number }>;
  /** In PUT order: children first, then the tagged root. */
  manifests: Array<{ path: string; mediaType: string; reference: string }>;
}

const agent = new Agent({ keepAlive: true, maxSockets: 32 });
const CONCURRENCY = 8;

async function copyBlob(plan: Plan, blob: { digest: string; size: number }): Promise<void> {
  const started = await call(
    agent,
    `${plan.destination.url}/v2/${plan.destination.repo}/blobs/uploads/`,
    "POST",
    {},
  );
  const location = new URL(String(started.headers.location), plan.destination.url);
  await expectStatus(started, 202, `POST for ${blob.digest}`);
  location.searchParams.set("digest", blob.digest);
  const download = await call(
    agent,
    `${plan.source.url}/v2/${plan.source.repo}/blobs/${blob.digest}`,
    "GET",
    {},
  );
  if (download.statusCode !== 200)
    throw new Error(`GET ${blob.digest}: status ${download.statusCode}`);
  const upload = await call(
    agent,
    location.href,
    "PUT",
    { "content-type": "application/octet-stream", "content-length": blob.size },
    download,
  );
  await expectStatus(upload, 201, `PUT ${blob.digest}`);
}

async function main(): Promise<void> {
  const plan = JSON.parse(await readFile(process.argv[2] as string, "utf8")) as Plan;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < plan.blobs.length)
        await copyBlob(plan, plan.blobs[next++] as Plan["blobs"][number]);
    }),
  );
  for (const manifest of plan.manifests) {
    const response = await call(
      agent,
      `${plan.destination.url}/v2/${plan.destination.repo}/manifests/${manifest.reference}`,
      "PUT",
      { "content-type": manifest.mediaType },
      await readFile(manifest.path),
    );
    await expectStatus(response, 201, `PUT manifest ${manifest.reference}`);
  }
  agent.destroy();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
