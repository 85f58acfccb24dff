import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type Image, type Layer, type ReadOptions, VerifyingStream } from "@hoist/oci";
import { delegateLayer, mapLayers } from "./image-wrappers.js";

// `hoist pull --cache_path DIR`: layers are kept in DIR by digest (as go-containerregistry's
// filesystem cache names them, `sha256:<hex>`), so pulling the same layers again reads them
// from disk. Cached files are verified against the digest on every read; a file is published
// only once the whole blob arrived and verified, by renaming a temporary file.

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function cachedLayer(layer: Layer, directory: string): Layer {
  const pathOf = async (options?: ReadOptions) =>
    join(directory, String(await layer.digest(options)));
  const fromDisk = async (path: string, options?: ReadOptions): Promise<Readable> => {
    const { createReadStream } = await import("node:fs");
    const verify = new VerifyingStream({
      digest: await layer.digest(options),
      size: await layer.size(options),
      operation: "read cached layer",
      subject: path,
    });
    const source = createReadStream(path, options?.signal ? { signal: options.signal } : {});
    source.on("error", (error) => verify.destroy(error));
    return source.pipe(verify);
  };
  const compressed = async (options?: ReadOptions): Promise<Readable> => {
    const path = await pathOf(options);
    if (await exists(path)) return fromDisk(path, options);
    await mkdir(directory, { recursive: true });
    const upstream = await layer.compressed(options);
    const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
    const file = createWriteStream(temporary);
    // The remote stream verifies itself as it is read; the copy is published (renamed into
    // place) only once that stream ended, that is, verified.
    const tee = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        if (file.write(chunk)) callback(null, chunk);
        else file.once("drain", () => callback(null, chunk));
      },
      flush(callback) {
        file.end(() => {
          rename(temporary, path).then(
            () => callback(),
            (error: unknown) => callback(error as Error),
          );
        });
      },
    });
    pipeline(upstream, tee).catch((error: unknown) => {
      file.destroy();
      rm(temporary, { force: true }).catch(() => {});
      tee.destroy(error as Error);
    });
    return tee;
  };
  return delegateLayer(layer, {
    compressed,
    uncompressed: async (options) => {
      const { createGunzip } = await import("node:zlib");
      const { layerCompression } = await import("@hoist/oci");
      const body = await compressed(options);
      if (layerCompression(await layer.mediaType(options)) !== "gzip") return body;
      const gunzip = createGunzip();
      body.on("error", (error) => gunzip.destroy(error));
      return body.pipe(gunzip);
    },
  });
}

/** The image with its layers read through a cache directory. */
export function cachedImage(image: Image, directory: string): Image {
  return mapLayers(image, (layer) => cachedLayer(layer, directory));
}
