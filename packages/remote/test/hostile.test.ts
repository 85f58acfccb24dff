import {
  type RunningFaultProxy,
  startFaultProxy,
  useDockerRegistry,
  useStarted,
} from "@hoist/harness";
import {
  DigestMismatchError,
  descriptorOf,
  type Layer,
  MediaType,
  randomImage,
  randomIndex,
  SizeMismatchError,
} from "@hoist/oci";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createPuller, createPusher, type RemoteError } from "../src/index.js";
import { artifact, blobBytes, caught, uniqueRepo } from "./helpers.js";

// A registry (or something in front of it) that lies: wrong bytes, wrong digests, documents
// too large to be manifests, pagination that loops or points elsewhere, referrers fallback
// indexes that list what does not refer to the subject. Every lie is a typed error or is
// filtered out; none is trusted.

describe("hostile registry answers", () => {
  const registry = useDockerRegistry();
  const proxy = useStarted<RunningFaultProxy>(
    "fault proxy",
    () => startFaultProxy({ target: registry().url }),
    (p) => p.stop(),
  );
  const pusher = createPusher();
  const puller = createPuller({ retry: false });
  afterAll(async () => {
    await pusher.close();
    await puller.close();
  });
  const at = (host: string, repo: string, id: string) =>
    id.includes(":") ? `${host}/${repo}@${id}` : `${host}/${repo}:${id}`;
  const direct = (repo: string, id = "latest") => at(registry().host, repo, id);
  const proxied = (repo: string, id = "latest") => at(proxy().host, repo, id);
  const answer = (status: number, body: string | Buffer, headers: Record<string, string> = {}) => ({
    kind: "status" as const,
    status,
    body: body.toString("latin1"),
    headers,
  });

  beforeEach(() => {
    proxy().clearRules();
    proxy().clearRequests();
  });

  it("refuses blob bytes that do not hash to the digest", async () => {
    const repo = uniqueRepo("wrong-blob");
    const image = randomImage({ layers: 1, layerSize: 4096, seed: 1 });
    await pusher.write(direct(repo), image);
    const layer = (await image.layers())[0] as Layer;
    const size = await layer.size();
    proxy().setRules([
      { method: "GET", path: /\/blobs\/sha256:/, fault: answer(200, Buffer.alloc(size, 0x41)) },
    ]);
    const pulled = (await (await puller.image(proxied(repo))).layers())[0] as Layer;
    const error = await caught(() => blobBytes(pulled));
    expect(DigestMismatchError.is(error)).toBe(true);
    expect((error as DigestMismatchError).expected.equals(await layer.digest())).toBe(true);

    proxy().setRules([
      {
        method: "GET",
        path: /\/blobs\/sha256:/,
        fault: answer(200, Buffer.alloc(size + 10, 0x41)),
      },
    ]);
    const excess = await caught(() => blobBytes(pulled));
    expect(SizeMismatchError.is(excess)).toBe(true);
    expect((excess as SizeMismatchError).kind).toBe("excess");
  });

  it("refuses a manifest that does not hash to the digest asked for", async () => {
    const repo = uniqueRepo("wrong-manifest");
    const image = randomImage({ layers: 1, layerSize: 256, seed: 2 });
    const other = randomImage({ layers: 1, layerSize: 256, seed: 3 });
    await pusher.write(direct(repo), image);
    const digest = (await image.digest()).toString();
    proxy().setRules([
      {
        method: "GET",
        path: /\/manifests\/sha256:/,
        fault: answer(200, Buffer.from(await other.rawManifest()), {
          "content-type": MediaType.OCI_MANIFEST,
        }),
      },
    ]);
    const error = await caught<RemoteError>(() => puller.get(proxied(repo, digest)));
    expect(error.code).toBe("HOIST_REMOTE_DIGEST_MISMATCH");
    expect(error.message).toContain(digest);
    expect(error.message).toContain(String(await other.digest()));
  });

  it("refuses manifests over the size cap, announced or not", async () => {
    const repo = uniqueRepo("huge");
    const huge = Buffer.alloc(5 * 1024 * 1024, 0x20);
    proxy().setRules([
      {
        method: "GET",
        path: /\/manifests\/huge$/,
        fault: answer(200, huge, { "content-type": MediaType.OCI_MANIFEST }),
      },
    ]);
    const announced = await caught<RemoteError>(() => puller.get(proxied(repo, "huge")));
    expect(announced.code).toBe("HOIST_REMOTE_MANIFEST_TOO_LARGE");
    expect(announced.message).toContain("maxManifestBytes");

    // A real index, over a small cap, sent without Content-Length: the read stops at the cap.
    const index = randomIndex({ images: 8, layers: 1, layerSize: 64, seed: 4 });
    await pusher.writeIndex(direct(repo, "index"), index);
    proxy().setRules([
      {
        method: "GET",
        path: /\/manifests\/index$/,
        fault: {
          kind: "rewrite",
          response: ({ status, headers }) => ({
            status,
            headers: { ...headers, "content-length": undefined },
          }),
        },
      },
    ]);
    const streamed = await caught<RemoteError>(() =>
      puller.get(proxied(repo, "index"), { maxManifestBytes: 1024 }),
    );
    expect(streamed.code).toBe("HOIST_REMOTE_MANIFEST_TOO_LARGE");
    expect(await index.size()).toBeGreaterThan(1024);
  });

  it("stops at pagination loops, links to other hosts and pages of garbage", async () => {
    const repo = uniqueRepo("links");
    const page = (link: string) =>
      answer(200, JSON.stringify({ name: repo, tags: ["a", "b"] }), {
        "content-type": "application/json",
        link,
      });
    const cases: Array<[Array<ReturnType<typeof page>>, RegExp]> = [
      [[page(`</v2/${repo}/tags/list?n=1000>; rel="next"`)], /repeats/],
      [
        [
          page(`</v2/${repo}/tags/list?n=2&last=b>; rel="next"`),
          page(`</v2/${repo}/tags/list?n=2&last=c>; rel="next"`),
        ],
        /no new names/,
      ],
      [[page(`<http://169.254.169.254/v2/${repo}/tags/list>; rel="next"`)], /not the registry/],
      [[page('<http://[::1/>; rel="next"')], /not a URL/],
    ];
    for (const [faults, message] of cases) {
      proxy().setRules(
        faults.map((fault, i) => ({
          method: "GET",
          path: /\/tags\/list/,
          ...(i < faults.length - 1 ? { times: 1 } : {}),
          fault,
        })),
      );
      const error = await caught<RemoteError>(() => puller.list(`${proxy().host}/${repo}`));
      expect(error.code).toBe("HOIST_REMOTE_PAGINATION");
      expect(error.message).toMatch(message);
    }
    proxy().setRules([
      {
        method: "GET",
        path: /\/tags\/list/,
        fault: answer(200, JSON.stringify({ tags: "not a list" }), {
          "content-type": "application/json",
        }),
      },
    ]);
    const garbage = await caught<RemoteError>(() => puller.list(`${proxy().host}/${repo}`));
    expect(garbage.code).toBe("HOIST_REMOTE_BAD_RESPONSE");
  });

  it("trusts a referrers fallback index only for entries that name the subject", async () => {
    const repo = uniqueRepo("fallback");
    const subject = randomImage({ layers: 1, layerSize: 256, seed: 5 });
    const stranger = randomImage({ layers: 1, layerSize: 256, seed: 6 });
    const subjectDescriptor = await descriptorOf(subject);
    const signature = artifact({
      subject: subjectDescriptor,
      artifactType: "application/vnd.example.signature",
      content: "real",
    });
    await pusher.multiWrite([
      [direct(repo, "app"), subject],
      [direct(repo, "sig"), signature],
      [direct(repo, "stranger"), stranger],
    ]);
    // Someone adds an unrelated manifest to the fallback tag.
    const tag = `sha256-${subjectDescriptor.digest.hex}`;
    const forged = {
      schemaVersion: 2,
      mediaType: MediaType.OCI_INDEX,
      manifests: [await descriptorOf(signature), await descriptorOf(stranger)],
    };
    const bytes = new TextEncoder().encode(JSON.stringify(forged));
    await pusher.put(direct(repo, tag), {
      rawManifest: async () => bytes,
      mediaType: async () => MediaType.OCI_INDEX,
    });
    const subjectRef = direct(repo, subjectDescriptor.digest.toString());
    const listed = await puller.referrers(subjectRef);
    expect(listed.manifests.map((d) => d.digest.toString())).toEqual([
      (await signature.digest()).toString(),
    ]);

    // A registry that turns the tag into the subject's digest (GitLab) lists nothing.
    proxy().setRules([
      {
        method: "GET",
        path: new RegExp(`/manifests/${tag}$`),
        fault: {
          kind: "redirect",
          location: `/v2/${repo}/manifests/${subjectDescriptor.digest}`,
        },
      },
    ]);
    const normalised = await puller.referrers(
      at(proxy().host, repo, subjectDescriptor.digest.toString()),
    );
    expect(normalised.manifests).toEqual([]);
  });

  it("reports an upload without Location as a bad response", async () => {
    const repo = uniqueRepo("no-location");
    proxy().setRules([{ method: "POST", path: /\/blobs\/uploads\/$/, fault: answer(202, "") }]);
    const error = await caught<RemoteError>(() =>
      pusher.write(proxied(repo), randomImage({ layers: 1, layerSize: 128, seed: 7 })),
    );
    expect(error.code).toBe("HOIST_REMOTE_BAD_RESPONSE");
    expect(error.message).toContain("Location");
  });
});
