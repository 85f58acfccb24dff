import type { RegistryCore, RequestContext } from "./core.js";
import { digestParam } from "./digests.js";
import { apiError } from "./distribution-error.js";
import { parseRange } from "./http-ranges.js";
import { emptyResponse, type RegistryResponse } from "./response.js";

/** GET and HEAD /v2/<name>/blobs/<digest>, with single byte ranges. */
export async function getBlob(
  core: RegistryCore,
  ctx: RequestContext,
  repository: string,
  digestText: string,
): Promise<RegistryResponse> {
  const digest = digestParam(digestText).toString();
  const linked = await core.storage.isBlobLinked(repository, digest, { signal: ctx.signal });
  const stat = linked ? await core.storage.statBlob(digest, { signal: ctx.signal }) : undefined;
  if (!stat) throw apiError(404, "BLOB_UNKNOWN", undefined, digest);
  const headers = {
    "Content-Type": "application/octet-stream",
    "Docker-Content-Digest": digest,
    ETag: `"${digest}"`,
    "Accept-Ranges": "bytes",
    "Cache-Control": "max-age=31536000",
  };
  if (ctx.method === "HEAD")
    return { status: 200, headers: { ...headers, "Content-Length": stat.size } };
  const range = parseRange(ctx.req.headers.range, stat.size);
  switch (range.kind) {
    case "whole":
      return {
        status: 200,
        headers: { ...headers, "Content-Length": stat.size },
        body: await core.storage.readBlob(digest, { signal: ctx.signal }),
      };
    case "range":
      return {
        status: 206,
        headers: {
          ...headers,
          "Content-Length": range.end - range.start + 1,
          "Content-Range": `bytes ${range.start}-${range.end}/${stat.size}`,
        },
        body: await core.storage.readBlob(digest, {
          start: range.start,
          end: range.end,
          signal: ctx.signal,
        }),
      };
    default:
      throw apiError(
        416,
        "RANGE_INVALID",
        `the range ${JSON.stringify(ctx.req.headers.range)} cannot be served from a blob of ${stat.size} bytes`,
        { size: stat.size },
        { "Content-Range": `bytes */${stat.size}` },
      );
  }
}

/** DELETE /v2/<name>/blobs/<digest>: unlinks the blob from this repository only. */
export async function deleteBlob(
  core: RegistryCore,
  ctx: RequestContext,
  repository: string,
  digestText: string,
): Promise<RegistryResponse> {
  if (!core.deletes) throw apiError(405, "UNSUPPORTED", "deleting is disabled on this registry");
  const digest = digestParam(digestText).toString();
  if (!(await core.storage.unlinkBlob(repository, digest, { signal: ctx.signal }))) {
    throw apiError(404, "BLOB_UNKNOWN", undefined, digest);
  }
  return emptyResponse(202);
}
