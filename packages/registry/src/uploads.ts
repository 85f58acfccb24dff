import type { IncomingMessage } from "node:http";
import type { HashAlgorithm } from "@hoist/oci";
import { type RegistryCore, type RequestContext, RunningHash } from "./core.js";
import { digestParam } from "./digests.js";
import { apiError, DistributionError } from "./distribution-error.js";
import { RegistryError } from "./errors.js";
import { parseContentRange, uploadRange } from "./http-ranges.js";
import { repositoryNameProblem } from "./names.js";
import { bodySource, declaredLength, hasBody } from "./request-body.js";
import { emptyResponse, type RegistryResponse } from "./response.js";
import type { UploadState } from "./storage/types.js";

// An upload session is the storage's upload plus, while its bytes stream through this
// process, a running digest. The rule for failures: a PATCH cut short by the client keeps the
// bytes that arrived (GET the session and resume from its Range); every other failure (a
// size or range error, a digest mismatch, a PUT cut short) leaves the session exactly as it
// was before the request.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function uploadLocation(repository: string, id: string): string {
  return `/v2/${repository}/blobs/uploads/${id}`;
}

function sessionHeaders(repository: string, state: UploadState) {
  return {
    Location: uploadLocation(repository, state.id),
    Range: uploadRange(state.size),
    "Docker-Upload-UUID": state.id,
  };
}

function blobCreated(repository: string, digest: string): RegistryResponse {
  return emptyResponse(201, {
    Location: `/v2/${repository}/blobs/${digest}`,
    "Docker-Content-Digest": digest,
  });
}

async function session(core: RegistryCore, ctx: RequestContext, repository: string, id: string) {
  const state = UUID.test(id)
    ? await core.storage.getUpload(id, { signal: ctx.signal })
    : undefined;
  if (!state || state.repository !== repository) {
    throw apiError(404, "BLOB_UPLOAD_UNKNOWN", undefined, { uuid: id.slice(0, 100) });
  }
  return state;
}

/** The chunk a PATCH or PUT carries: where it must start and how long it says it is. */
function chunkBounds(req: IncomingMessage, state: UploadState, repository: string) {
  const header = req.headers["content-range"];
  const length = declaredLength(req);
  if (header === undefined) return { expected: length };
  const range = parseContentRange(header);
  if (!range) {
    throw apiError(
      400,
      "BLOB_UPLOAD_INVALID",
      `Content-Range ${JSON.stringify(header)} is not "<start>-<end>"`,
    );
  }
  if (range.start !== state.size) {
    throw apiError(
      416,
      "RANGE_INVALID",
      `the chunk starts at byte ${range.start}, but the upload has ${state.size} bytes; GET the session and continue from its Range`,
      { expected: state.size, received: range.start },
      sessionHeaders(repository, state),
    );
  }
  const span = range.end - range.start + 1;
  if (length !== undefined && length !== span) {
    throw apiError(
      400,
      "SIZE_INVALID",
      `Content-Range spans ${span} bytes but Content-Length is ${length}`,
      { range: header, length },
    );
  }
  return { expected: span };
}

/**
 * Appends the request body to the session. Returns the new state. Rolls the session back on
 * any failure, except a client disconnect during a PATCH when `keepPartial` is set.
 */
async function appendBody(
  core: RegistryCore,
  ctx: RequestContext,
  repository: string,
  state: UploadState,
  keepPartial: boolean,
): Promise<UploadState> {
  const { expected } = chunkBounds(ctx.req, state, repository);
  const room = core.limits.blobBytes - state.size;
  if (expected !== undefined && expected > room) {
    throw apiError(
      413,
      "SIZE_INVALID",
      `the blob would exceed the ${core.limits.blobBytes} bytes this registry accepts`,
      { limit: core.limits.blobBytes },
    );
  }
  const running = core.runningHashes.get(state.id);
  const current = running && running.size === state.size ? running : undefined;
  const before = current?.snapshot();
  try {
    const size = await core.storage.writeUpload(
      state.id,
      state.size,
      bodySource(ctx.req, {
        expected,
        max: Number.isFinite(room) ? room : undefined,
        onChunk: (chunk) => current?.update(chunk),
      }),
      { signal: ctx.signal },
    );
    return { ...state, size };
  } catch (error) {
    const rejected = error instanceof DistributionError;
    if (rejected || !keepPartial) {
      await core.storage.truncateUpload(state.id, state.size).catch(() => undefined);
      if (before) core.runningHashes.set(state.id, before);
      else core.runningHashes.delete(state.id);
    } else {
      // Some bytes may be stored that the running digest has not seen (or the reverse).
      core.runningHashes.delete(state.id);
    }
    throw error;
  }
}

/** Turns the session into a blob, linked in the repository. */
async function commit(
  core: RegistryCore,
  ctx: RequestContext,
  repository: string,
  state: UploadState,
  digest: string,
): Promise<void> {
  const running = core.runningHashes.get(state.id);
  const verified =
    running && running.size === state.size && digest.startsWith(`${running.algorithm}:`)
      ? running.digest()
      : undefined;
  try {
    await core.storage.commitUpload(state.id, digest, { verified, signal: ctx.signal });
  } catch (error) {
    if (RegistryError.is(error) && error.code === "HOIST_REGISTRY_DIGEST_MISMATCH") {
      throw apiError(400, "DIGEST_INVALID", error.message, { Digest: digest });
    }
    throw error;
  }
  core.runningHashes.delete(state.id);
  await core.storage.linkBlob(repository, digest, { signal: ctx.signal });
}

function algorithmParam(text: string | null): HashAlgorithm {
  if (text === null || text === "sha256") return "sha256";
  if (text === "sha512") return "sha512";
  throw apiError(
    400,
    "DIGEST_INVALID",
    `digest-algorithm ${JSON.stringify(text)} is not supported; use sha256 or sha512`,
  );
}

/** POST /v2/<name>/blobs/uploads/: a new session, a monolithic upload, or a mount. */
export async function startUpload(
  core: RegistryCore,
  ctx: RequestContext,
  repository: string,
): Promise<RegistryResponse> {
  const query = ctx.url.searchParams;
  const mount = query.get("mount");
  const from = query.get("from");
  if (mount !== null && from !== null) {
    const digest = digestParam(mount, "mount digest").toString();
    const problem = repositoryNameProblem(from);
    if (problem)
      throw apiError(400, "NAME_INVALID", `from=${JSON.stringify(from)}: ${problem}`, {
        name: from,
      });
    const mountable =
      core.mount &&
      ctx.grant.can("repository", from, "pull") &&
      (await core.storage.isBlobLinked(from, digest, { signal: ctx.signal }));
    if (mountable) {
      await core.storage.linkBlob(repository, digest, { signal: ctx.signal });
      return blobCreated(repository, digest);
    }
    // Not mountable: distribution starts an ordinary upload instead, and so do we.
  }
  const monolithic = mount === null ? query.get("digest") : null;
  const digest = monolithic !== null ? digestParam(monolithic) : undefined;
  const algorithm = digest?.algorithm ?? algorithmParam(query.get("digest-algorithm"));
  const state = await core.storage.createUpload(repository, { signal: ctx.signal });
  core.runningHashes.set(state.id, new RunningHash(algorithm));
  if (!digest) return emptyResponse(202, sessionHeaders(repository, state));
  try {
    const filled = await appendBody(core, ctx, repository, state, false);
    await commit(core, ctx, repository, filled, digest.toString());
    return blobCreated(repository, digest.toString());
  } finally {
    // Whatever happened, a monolithic upload leaves no session behind.
    core.runningHashes.delete(state.id);
    await core.storage.deleteUpload(state.id).catch(() => undefined);
  }
}

/** GET <location>: the session's progress. */
export async function uploadStatus(
  core: RegistryCore,
  ctx: RequestContext,
  repository: string,
  id: string,
): Promise<RegistryResponse> {
  const state = await session(core, ctx, repository, id);
  return emptyResponse(204, sessionHeaders(repository, state));
}

/** PATCH <location>: one chunk (with Content-Range) or a stream (without). */
export async function patchUpload(
  core: RegistryCore,
  ctx: RequestContext,
  repository: string,
  id: string,
): Promise<RegistryResponse> {
  return core.uploadLocks.run(id, async () => {
    const state = await session(core, ctx, repository, id);
    const next = await appendBody(core, ctx, repository, state, true);
    return emptyResponse(202, sessionHeaders(repository, next));
  });
}

/** PUT <location>?digest=: the optional last chunk, then the blob is verified and stored. */
export async function finishUpload(
  core: RegistryCore,
  ctx: RequestContext,
  repository: string,
  id: string,
): Promise<RegistryResponse> {
  return core.uploadLocks.run(id, async () => {
    const state = await session(core, ctx, repository, id);
    const digest = digestParam(ctx.url.searchParams.get("digest")).toString();
    const running = core.runningHashes.get(id);
    const before = running && running.size === state.size ? running.snapshot() : undefined;
    const filled = hasBody(ctx.req) ? await appendBody(core, ctx, repository, state, false) : state;
    try {
      await commit(core, ctx, repository, filled, digest);
    } catch (error) {
      if (filled !== state) {
        // The final chunk belongs to the failed attempt: drop it so a retry starts clean.
        await core.storage.truncateUpload(id, state.size).catch(() => undefined);
        if (before) core.runningHashes.set(id, before);
        else core.runningHashes.delete(id);
      }
      throw error;
    }
    return blobCreated(repository, digest);
  });
}

/** DELETE <location>: cancels the session. */
export async function cancelUpload(
  core: RegistryCore,
  ctx: RequestContext,
  repository: string,
  id: string,
): Promise<RegistryResponse> {
  return core.uploadLocks.run(id, async () => {
    await session(core, ctx, repository, id);
    await core.storage.deleteUpload(id, { signal: ctx.signal });
    core.runningHashes.delete(id);
    return emptyResponse(204, { "Docker-Upload-UUID": id });
  });
}
