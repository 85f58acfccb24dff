import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { PassThrough, type Readable } from "node:stream";
import {
  appendLayers,
  detectCompression,
  type Image,
  type Layer,
  layerFromFile,
  layerFromStream,
  MediaType,
} from "@hoist/oci";
import { readLayerTar } from "@hoist/tarball";
import { pack as createPack } from "tar-stream";
import { CliError } from "./errors.js";

// crane's Append: each path becomes a layer on top of `base`. Layers are Docker layers on a
// Docker base and OCI layers on an OCI base; a zstd file keeps zstd; `-` (stdin) and anything
// that is not a regular file (a named pipe) is read once as a stream. On a Windows base the
// layer is rewritten as Windows containers need: entries move under Files/, Files and Hives
// directories are added, and each entry gets the security descriptor that makes it usable.

// Owner and group BUILTIN\Users ("O:BUG:BU"), as a Windows security descriptor in base64.
const USERS_OWNER_AND_GROUP_SID =
  "AQAAgBQAAAAkAAAAAAAAAAAAAAABAgAAAAAABSAAAAAhAgAAAQIAAAAAAAUgAAAAIQIAAA==";

async function isZstd(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return detectCompression(head.subarray(0, bytesRead)) === "zstd";
  } finally {
    await handle.close();
  }
}

async function layerFor(path: string, mediaType: string, stdin: Readable): Promise<Layer> {
  if (path === "-") return layerFromStream(stdin, { compression: "gzip", mediaType });
  let regular: boolean;
  try {
    regular = (await stat(path)).isFile();
  } catch (cause) {
    throw new CliError(`reading layer ${JSON.stringify(path)}: ${(cause as Error).message}`, {
      code: "HOIST_CLI_NOT_FOUND",
      operation: "append",
      input: path,
      cause,
    });
  }
  if (!regular) return layerFromStream(createReadStream(path), { compression: "gzip", mediaType });
  if (await isZstd(path)) return layerFromFile(path, { mediaType: MediaType.OCI_LAYER_ZSTD });
  return layerFromFile(path, { compression: "gzip", mediaType });
}

/** The layer's tar with every entry under Files/, plus the Files and Hives directories. */
function windowsLayer(layer: Layer, mediaType: string): Layer {
  const output = new PassThrough();
  const pack = createPack();
  pack.pipe(output);
  const rewrite = async () => {
    for (const dir of ["Files", "Hives"]) {
      pack.entry({ name: dir, type: "directory", mode: 0o555, mtime: new Date(0) });
    }
    for await (const entry of readLayerTar(await layer.uncompressed())) {
      if (entry.name === "Files" || entry.name.startsWith("Files/")) {
        throw new CliError(`file path "${entry.rawName}" already suitable for Windows`, {
          code: "HOIST_CLI_INVALID_ARGUMENT",
          operation: "append",
          input: entry.rawName,
        });
      }
      const type =
        entry.type === "other"
          ? "file"
          : entry.type === "character-device"
            ? "character-device"
            : entry.type;
      const header = {
        name: entry.name === "." ? "Files" : `Files/${entry.name}`,
        type,
        mode: entry.mode,
        uid: entry.uid,
        gid: entry.gid,
        uname: entry.uname,
        gname: entry.gname,
        mtime: entry.mtime,
        size: entry.type === "file" ? entry.size : 0,
        ...(entry.linkname
          ? { linkname: entry.type === "link" ? `Files/${entry.linkname}` : entry.linkname }
          : {}),
        pax: { ...entry.pax, "MSWINDOWS.rawsd": USERS_OWNER_AND_GROUP_SID },
      } as Parameters<typeof pack.entry>[0];
      if (entry.type === "file") {
        await new Promise<void>((resolve, reject) => {
          const sink = pack.entry(header, (error) => (error ? reject(error) : resolve()));
          entry.body.on("error", reject);
          entry.body.pipe(sink);
        });
      } else {
        entry.body.resume();
        pack.entry(header);
      }
    }
    pack.finalize();
  };
  rewrite().catch((error: unknown) => output.destroy(error as Error));
  return layerFromStream(output, { compression: "gzip", mediaType });
}

/** Appends one layer per path to `base`, as crane append does. */
export async function appendFiles(
  base: Image,
  paths: readonly string[],
  options: { stdin: Readable; signal?: AbortSignal },
): Promise<Image> {
  const read = options.signal ? { signal: options.signal } : {};
  const [mediaType, config] = await Promise.all([base.mediaType(read), base.configFile(read)]);
  const layerType =
    mediaType === MediaType.OCI_MANIFEST ? MediaType.OCI_LAYER_GZIP : MediaType.DOCKER_LAYER;
  const windows = config.os === "windows";
  const layers: Layer[] = [];
  for (const path of paths) {
    const layer = await layerFor(path, layerType, options.stdin);
    layers.push(windows ? windowsLayer(layer, layerType) : layer);
  }
  return appendLayers(base, layers);
}
