import { createHash } from "node:crypto";
import type { Image } from "@hoist/oci";
import type { Session } from "@hoist/transport";

// Image pushes and pulls spoken directly over @hoist/transport, for scenarios about the
// transport and credentials that do not need the registry client.

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Monolithic upload: POST for a session, PUT the bytes with their digest. */
export async function pushBlob(
  session: Session,
  repository: string,
  bytes: Uint8Array,
  signal?: AbortSignal,
): Promise<string> {
  const digest = sha256(bytes);
  const started = await session.request({
    method: "POST",
    path: `/v2/${repository}/blobs/uploads/`,
    expectStatus: [202],
    idempotent: true,
    ...(signal ? { signal } : {}),
  });
  await started.discard();
  const location = started.headers.get("location");
  if (!location) throw new Error("the registry gave no upload location");
  const url = new URL(location, started.url);
  url.searchParams.set("digest", digest);
  const done = await session.request({
    method: "PUT",
    url,
    body: bytes,
    headers: { "content-type": "application/octet-stream" },
    expectStatus: [201],
    ...(signal ? { signal } : {}),
  });
  await done.discard();
  return digest;
}

/** Pushes an image's layers, config and manifest under `tag`; returns the manifest digest. */
export async function pushImage(
  session: Session,
  repository: string,
  image: Image,
  tag: string,
  signal?: AbortSignal,
): Promise<string> {
  for (const layer of await image.layers()) {
    await pushBlob(session, repository, await collect(await layer.compressed()), signal);
  }
  await pushBlob(session, repository, await image.rawConfigFile(), signal);
  const manifest = await image.rawManifest();
  const put = await session.request({
    method: "PUT",
    path: `/v2/${repository}/manifests/${tag}`,
    body: manifest,
    headers: { "content-type": await image.mediaType() },
    expectStatus: [201],
    ...(signal ? { signal } : {}),
  });
  await put.discard();
  return sha256(manifest);
}

/** Reads a manifest and every blob it names back, checking each digest. */
export async function pullAndVerify(
  session: Session,
  repository: string,
  reference: string,
  expectedDigest: string,
  signal?: AbortSignal,
): Promise<void> {
  const response = await session.request({
    method: "GET",
    path: `/v2/${repository}/manifests/${reference}`,
    headers: {
      accept:
        "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
    },
    ...(signal ? { signal } : {}),
  });
  const manifest = await response.bytes();
  if (sha256(manifest) !== expectedDigest) {
    throw new Error(`manifest ${reference} read back as ${sha256(manifest)}`);
  }
  const parsed = JSON.parse(Buffer.from(manifest).toString("utf8")) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  for (const { digest } of [parsed.config, ...parsed.layers]) {
    const blob = await session.request({
      method: "GET",
      path: `/v2/${repository}/blobs/${digest}`,
      ...(signal ? { signal } : {}),
    });
    const bytes = await collect(blob.body);
    if (sha256(bytes) !== digest) throw new Error(`blob ${digest} read back as ${sha256(bytes)}`);
  }
}
