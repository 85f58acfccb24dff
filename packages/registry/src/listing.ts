import { MediaType } from "@hoist/oci";
import type { RegistryCore, RequestContext } from "./core.js";
import { digestParam } from "./digests.js";
import { apiError } from "./distribution-error.js";
import { bytesResponse, type RegistryResponse } from "./response.js";

/**
 * The page size `n`. Like distribution, an unparsable or negative `n` counts as absent, and a
 * page larger than the registry's maximum is refused with PAGINATION_NUMBER_INVALID.
 */
function pageSize(url: URL, max: number): number | undefined {
  const text = url.searchParams.get("n");
  if (text === null || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  if (n > max) {
    throw apiError(
      400,
      "PAGINATION_NUMBER_INVALID",
      `n=${text} is more than the ${max} entries a page may hold`,
      {
        n,
      },
    );
  }
  return n;
}

/**
 * One page of a sorted list: the entries strictly after `last`, at most `n` of them, and the
 * path of the next page when more remain (for the Link header).
 */
function page(
  sorted: readonly string[],
  last: string | null,
  n: number | undefined,
  path: string,
): { entries: string[]; next?: string } {
  const after = last === null ? sorted : sorted.filter((entry) => entry > last);
  if (n === undefined) return { entries: [...after] };
  if (n === 0) return { entries: [] };
  const entries = after.slice(0, n);
  const final = entries.at(-1);
  if (after.length <= n || final === undefined) return { entries };
  return { entries, next: `${path}?last=${encodeURIComponent(final)}&n=${n}` };
}

function linkHeader(next: string | undefined): Record<string, string> {
  return next ? { Link: `<${next}>; rel="next"` } : {};
}

/** A JSON list answer; like distribution's, the body ends with a newline. */
function listResponse(value: unknown, headers: Record<string, string>): RegistryResponse {
  return bytesResponse(200, `${JSON.stringify(value)}\n`, {
    "Content-Type": "application/json; charset=utf-8",
    ...headers,
  });
}

/** GET /v2/<name>/tags/list with `n` and `last`, sorted, with a Link header between pages. */
export async function listTags(
  core: RegistryCore,
  ctx: RequestContext,
  repository: string,
): Promise<RegistryResponse> {
  const n = pageSize(ctx.url, core.limits.maxPageSize);
  if (!(await core.storage.repositoryExists(repository, { signal: ctx.signal }))) {
    throw apiError(404, "NAME_UNKNOWN", undefined, { name: repository });
  }
  const tags = (await core.storage.listTags(repository, { signal: ctx.signal })).sort();
  const { entries, next } = page(
    tags,
    ctx.url.searchParams.get("last"),
    n,
    `/v2/${repository}/tags/list`,
  );
  return listResponse({ name: repository, tags: entries }, linkHeader(next));
}

/** GET /v2/_catalog with `n` (default 100, like distribution) and `last`. */
export async function listCatalog(
  core: RegistryCore,
  ctx: RequestContext,
): Promise<RegistryResponse> {
  const n = pageSize(ctx.url, core.limits.maxPageSize) ?? core.limits.defaultCatalogPageSize;
  const repositories = (await core.storage.listRepositories({ signal: ctx.signal })).sort();
  const { entries, next } = page(repositories, ctx.url.searchParams.get("last"), n, "/v2/_catalog");
  return listResponse({ repositories: entries }, linkHeader(next));
}

/** GET /v2/<name>/referrers/<digest>, optionally filtered by `artifactType`. */
export async function listReferrers(
  core: RegistryCore,
  ctx: RequestContext,
  repository: string,
  digestText: string,
): Promise<RegistryResponse> {
  // With the API switched off, a 404 is what tells clients to use the referrers tag schema.
  if (!core.referrers)
    throw apiError(404, "UNSUPPORTED", "this registry does not serve the referrers API");
  const subject = digestParam(digestText, "subject digest").toString();
  let referrers = await core.storage.listReferrers(repository, subject, { signal: ctx.signal });
  const filters = ctx.url.searchParams.getAll("artifactType");
  const headers: Record<string, string> = { "Content-Type": MediaType.OCI_INDEX };
  if (filters.length > 0) {
    referrers = referrers.filter(
      (r) => r.artifactType !== undefined && filters.includes(r.artifactType),
    );
    headers["OCI-Filters-Applied"] = "artifactType";
  }
  referrers.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  return listResponse(
    { schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: referrers },
    headers,
  );
}
