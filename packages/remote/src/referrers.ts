import type { Repository } from "@hoist/name";
import {
  baseMediaType,
  type Descriptor,
  type Hash,
  type IndexManifest,
  isIndex,
  MediaType,
  parseIndexManifest,
} from "@hoist/oci";
import type { Session } from "@hoist/transport";
import { RemoteError } from "./errors.js";
import { type Fetcher, MANIFEST_ACCEPT } from "./fetcher.js";
import { mapLimit } from "./limiter.js";
import { translating } from "./translate-error.js";

/** The tag the referrers tag schema keeps a subject's referrers under: `sha256-<hex>`. */
export function fallbackTag(subject: Hash): string {
  return `${subject.algorithm}-${subject.hex}`;
}

function emptyIndex(): IndexManifest {
  return { schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [] };
}

/** Statuses with which registries without the referrers API answer its endpoint. */
const NO_API = [400, 404, 405, 406];

/**
 * Asks the referrers API. Returns undefined when the registry does not have it (a 404 or
 * similar, or a 200 that is not an OCI index, as registries that route unknown paths to
 * something else do).
 */
async function fromApi(
  session: Session,
  repository: Repository,
  subject: Hash,
  options: { artifactType: string | undefined; signal: AbortSignal | undefined; maxBytes: number },
): Promise<IndexManifest | undefined> {
  const query = options.artifactType
    ? `?artifactType=${encodeURIComponent(options.artifactType)}`
    : "";
  const response = await session.request({
    method: "GET",
    path: `/v2/${repository.path}/referrers/${subject}${query}`,
    headers: { accept: MediaType.OCI_INDEX },
    expectStatus: [200, ...NO_API],
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const type = baseMediaType(response.headers.get("content-type") ?? "");
  if (response.status !== 200 || type !== MediaType.OCI_INDEX) {
    await response.discard();
    return undefined;
  }
  const index = parseIndexManifest(await response.bytes({ limit: options.maxBytes }), {
    maxBytes: options.maxBytes,
  });
  const applied = (response.headers.get("oci-filters-applied") ?? "")
    .split(",")
    .map((entry) => entry.trim());
  if (options.artifactType && !applied.includes("artifactType")) {
    index.manifests = index.manifests.filter((d) => d.artifactType === options.artifactType);
  }
  return index;
}

/** Whether a manifest's JSON names `subject` as its subject. */
function namesSubject(bytes: Uint8Array, subject: Hash): boolean {
  try {
    const document = JSON.parse(Buffer.from(bytes).toString("utf8")) as {
      subject?: { digest?: unknown };
    };
    return document.subject?.digest === subject.toString();
  } catch {
    return false;
  }
}

/**
 * Reads the fallback tag's index and keeps only what it can prove: the tag must not
 * resolve to the subject itself (GitLab rewrites `sha256-<hex>` tags into that digest, so a
 * naive client lists the subject's own children), and every entry is fetched to check that
 * its `subject` really is this subject.
 */
export async function readFallbackIndex(
  fetcher: Fetcher,
  subject: Hash,
  options: { signal: AbortSignal | undefined; jobs: number; validate: boolean },
): Promise<IndexManifest | undefined> {
  let fetched: Awaited<ReturnType<Fetcher["manifest"]>>;
  try {
    fetched = await fetcher.manifest(fallbackTag(subject), {
      accept: MANIFEST_ACCEPT,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (RemoteError.is(error) && error.code === "HOIST_REMOTE_NOT_FOUND") return undefined;
    throw error;
  }
  if (fetched.digest.equals(subject)) return undefined;
  if (!isIndex(fetched.mediaType)) {
    throw new RemoteError(
      `referrers of ${fetcher.repository.name}@${subject}: the fallback tag ${fallbackTag(subject)} holds a ${fetched.mediaType}, not an index`,
      {
        code: "HOIST_REMOTE_BAD_RESPONSE",
        operation: "list referrers",
        reference: `${fetcher.repository.name}:${fallbackTag(subject)}`,
      },
    );
  }
  const index = parseIndexManifest(fetched.bytes);
  if (!options.validate) return index;
  const verdicts = await mapLimit(index.manifests, options.jobs, async (descriptor) => {
    try {
      const child = await fetcher.manifest(descriptor.digest.toString(), {
        accept: descriptor.mediaType,
        expected: descriptor,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return namesSubject(child.bytes, subject);
    } catch (error) {
      if (RemoteError.is(error) && error.code === "HOIST_REMOTE_NOT_FOUND") return false;
      throw error;
    }
  });
  index.manifests = index.manifests.filter((_, at) => verdicts[at]);
  return index;
}

/**
 * The referrers of `subject`: from the referrers API, else (unless disabled) from the
 * `sha256-<hex>` fallback tag, validated. Filtered by `artifactType` when given.
 */
export async function listReferrers(
  fetcher: Fetcher,
  subject: Hash,
  options: {
    artifactType: string | undefined;
    fallback: boolean;
    jobs: number;
    signal: AbortSignal | undefined;
    maxBytes: number;
  },
): Promise<IndexManifest> {
  const reference = `${fetcher.repository.name}@${subject}`;
  const context = { operation: "list referrers", reference, signal: options.signal };
  return translating(context, async () => {
    const session = await fetcher.session(options.signal);
    const api = await fromApi(session, fetcher.repository, subject, options);
    if (api) return api;
    if (!options.fallback) {
      throw new RemoteError(
        `list referrers ${reference}: ${fetcher.repository.registry.host} does not support the referrers API and the tag fallback is disabled (referrersTagFallback: false)`,
        { code: "HOIST_REMOTE_UNSUPPORTED", operation: "list referrers", reference },
      );
    }
    const index =
      (await readFallbackIndex(fetcher, subject, {
        signal: options.signal,
        jobs: options.jobs,
        validate: true,
      })) ?? emptyIndex();
    const manifests = options.artifactType
      ? index.manifests.filter((d) => d.artifactType === options.artifactType)
      : index.manifests;
    return { schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests };
  });
}

/** Whether the registry serves the referrers API for this repository. */
export async function hasReferrersApi(
  session: Session,
  repository: Repository,
  subject: Hash,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const index = await fromApi(session, repository, subject, {
    artifactType: undefined,
    signal,
    maxBytes: 4 * 1024 * 1024,
  });
  return index !== undefined;
}

/**
 * The referrers index for the fallback tag with `descriptor` added: entries sorted by
 * digest (as go-containerregistry writes them), or undefined when it is there already.
 */
export function addToFallbackIndex(
  existing: IndexManifest | undefined,
  descriptor: Descriptor,
): IndexManifest | undefined {
  const manifests = [...(existing?.manifests ?? [])];
  if (manifests.some((entry) => entry.digest.equals(descriptor.digest))) return undefined;
  manifests.push(descriptor);
  manifests.sort((a, b) => (a.digest.toString() < b.digest.toString() ? -1 : 1));
  return {
    ...(existing ?? {}),
    schemaVersion: 2,
    mediaType: MediaType.OCI_INDEX,
    manifests,
  };
}
