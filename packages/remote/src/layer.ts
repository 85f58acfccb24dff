import { pipeline, Readable } from "node:stream";
import {
  type Descriptor,
  type Hash,
  hashStream,
  type Layer,
  MediaType,
  type ReadOptions,
  VerifyingStream,
} from "@hoist/oci";
import { RemoteError } from "./errors.js";
import type { Fetcher } from "./fetcher.js";
import { trackLayer } from "./mount.js";

/** Passes bytes through, or gunzips them when they start with gzip's magic number. */
async function gunzipIfGzipped(source: Readable): Promise<Readable> {
  const iterator = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  while (headBytes < 2) {
    const next = await iterator.next();
    if (next.done) break;
    const chunk = next.value as Buffer;
    head.push(chunk);
    headBytes += chunk.length;
  }
  async function* replay(): AsyncGenerator<Buffer> {
    yield* head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value as Buffer;
    }
  }
  const joined = Buffer.concat(head);
  const stream = Readable.from(replay(), { objectMode: false });
  if (joined[0] === 0x1f && joined[1] === 0x8b) {
    // node:zlib is loaded here, not at start-up: most commands never gunzip a layer.
    return pipeline(stream, process.getBuiltinModule("node:zlib").createGunzip(), () => {});
  }
  return stream;
}

/**
 * A blob by digest as a layer (go-containerregistry's remote.Layer): its size comes
 * from a HEAD, its bytes are verified against the digest (and that size) as they stream, and
 * its diffID is computed by reading it.
 */
export function remoteLayer(fetcher: Fetcher, digest: Hash): Layer {
  let size: Promise<number> | undefined;
  let diffID: Promise<Hash> | undefined;
  const reference = `${fetcher.repository.name}@${digest}`;
  const sizeOf = (options: ReadOptions = {}): Promise<number> => {
    if (!size) {
      const pending = fetcher
        .headBlob(digest, options.signal ? { signal: options.signal } : {})
        .then((found) => {
          if (found === undefined) {
            throw new RemoteError(`${reference}: the registry has no such blob`, {
              code: "HOIST_REMOTE_NOT_FOUND",
              operation: "read layer",
              reference,
              status: 404,
            });
          }
          if (found.size === undefined) {
            throw new RemoteError(
              `${reference}: the registry answered HEAD without a Content-Length, so the blob's size is unknown`,
              { code: "HOIST_REMOTE_BAD_RESPONSE", operation: "read layer", reference },
            );
          }
          return found.size;
        });
      size = pending;
      pending.catch(() => {
        if (size === pending) size = undefined;
      });
    }
    return size;
  };
  const compressed = async (options: ReadOptions = {}): Promise<Readable> => {
    const expected = await sizeOf(options);
    const body = await fetcher.blob(
      { digest, size: expected },
      options.signal ? { signal: options.signal } : {},
    );
    // The verifier reads the body itself, so that it can also be drained straight through.
    return new VerifyingStream({
      digest,
      size: expected,
      operation: "read layer",
      subject: `blob ${digest}`,
      source: body,
    });
  };
  const layer: Layer = {
    digest: async () => digest,
    size: (options) => sizeOf(options),
    mediaType: async () => MediaType.DOCKER_LAYER,
    compressed,
    uncompressed: async (options) => gunzipIfGzipped(await compressed(options)),
    diffID: (options = {}) => {
      if (!diffID) {
        const pending = (async () => {
          const stream = await gunzipIfGzipped(await compressed(options));
          return (await hashStream(stream, options.signal ? { signal: options.signal } : {})).hash;
        })();
        diffID = pending;
        pending.catch(() => {
          if (diffID === pending) diffID = undefined;
        });
      }
      return diffID;
    },
    descriptor: async (options): Promise<Descriptor> => ({
      mediaType: MediaType.DOCKER_LAYER,
      size: await sizeOf(options),
      digest,
    }),
  };
  return trackLayer(layer, fetcher.repository);
}
