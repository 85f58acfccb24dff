import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { emptyImage, emptyIndex } from "./empty.js";
import { OciError } from "./errors.js";
import type { Image, ImageIndex } from "./interfaces.js";
import { layerFromBytes } from "./layer-from-bytes.js";
import { MediaType } from "./media-type.js";
import { appendLayers, type LayerAddendum } from "./mutate-image.js";
import { appendManifests } from "./mutate-index.js";
import { tarWithFile } from "./tar-writer.js";
import type { Platform } from "./types.js";

export interface RandomImageOptions {
  /** Number of layers. Default: 1. */
  layers?: number;
  /** Bytes of random content in each layer's one file. Default: 1024. */
  layerSize?: number;
  /** Same seed, same image, byte for byte. Default: a fresh random seed. */
  seed?: number | string;
  /** OCI (default) or Docker schema 2; layer media types follow. */
  mediaType?: typeof MediaType.OCI_MANIFEST | typeof MediaType.DOCKER_MANIFEST;
  /** Written into the config. Default: none, like {@link emptyImage}. */
  platform?: Platform;
}

// A deterministic byte stream from a seed: AES-256-CTR over zeros, keyed by sha256(seed). It is
// fast (hardware AES) and its output is indistinguishable from random, which keeps gzip honest.
function randomSource(seed: number | string | undefined): (length: number) => Buffer {
  if (seed === undefined) return (length) => randomBytes(length);
  const key = createHash("sha256")
    .update(`hoist random:${String(seed)}`)
    .digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  return (length) => cipher.update(Buffer.alloc(length));
}

function count(
  value: number | undefined,
  fallback: number,
  name: string,
  operation: string,
): number {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result < 0) {
    throw new OciError(`${name} must be a non-negative integer, got ${value}`, {
      code: "HOIST_OCI_INVALID_ARGUMENT",
      operation,
    });
  }
  return result;
}

/**
 * An image of random layers, for tests (go-containerregistry's random.Image). Each layer is a
 * real gzipped tar holding one file of `layerSize` random bytes; the config records a history
 * entry per layer. With a `seed` the image is the same every time. Layers live in memory, so keep
 * them small.
 */
export function randomImage(options: RandomImageOptions = {}): Image {
  const operation = "random image";
  const layers = count(options.layers, 1, "layers", operation);
  const layerSize = count(options.layerSize, 1024, "layerSize", operation);
  const mediaType = options.mediaType ?? MediaType.OCI_MANIFEST;
  const next = randomSource(options.seed);
  const layerMediaType =
    mediaType === MediaType.DOCKER_MANIFEST ? MediaType.DOCKER_LAYER : MediaType.OCI_LAYER_GZIP;
  const addenda: LayerAddendum[] = [];
  for (let index = 0; index < layers; index++) {
    const name = `random-${next(8).toString("hex")}`;
    const tar = tarWithFile(name, next(layerSize));
    addenda.push({
      layer: layerFromBytes(tar, { compression: "gzip", mediaType: layerMediaType }),
      history: {
        author: "hoist",
        created_by: "randomImage",
        comment: `random layer ${index + 1} of ${layers}`,
      },
    });
  }
  return appendLayers(emptyImage({ mediaType, platform: options.platform }), addenda);
}

export interface RandomIndexOptions {
  /** Number of images. Default: 1. */
  images?: number;
  /** Layers per image. Default: 1. */
  layers?: number;
  /** Bytes per layer file. Default: 1024. */
  layerSize?: number;
  seed?: number | string;
  /** OCI index (default, with OCI images) or Docker manifest list (with Docker images). */
  mediaType?: typeof MediaType.OCI_INDEX | typeof MediaType.DOCKER_MANIFEST_LIST;
  /**
   * One platform per image, written into its config and its index entry. Default: none, so the
   * entries carry no platform.
   */
  platforms?: Platform[];
}

/** An index of random images, for tests (go-containerregistry's random.Index). */
export function randomIndex(options: RandomIndexOptions = {}): ImageIndex {
  const operation = "random index";
  const images = count(options.images, 1, "images", operation);
  if (options.platforms !== undefined && options.platforms.length !== images) {
    throw new OciError(
      `platforms has ${options.platforms.length} entries for ${images} images; give one per image`,
      {
        code: "HOIST_OCI_INVALID_ARGUMENT",
        operation,
      },
    );
  }
  const mediaType = options.mediaType ?? MediaType.OCI_INDEX;
  const seed = options.seed ?? randomBytes(16).toString("hex");
  const children: Image[] = [];
  for (let index = 0; index < images; index++) {
    children.push(
      randomImage({
        layers: options.layers,
        layerSize: options.layerSize,
        seed: `${seed}/${index}`,
        mediaType:
          mediaType === MediaType.DOCKER_MANIFEST_LIST
            ? MediaType.DOCKER_MANIFEST
            : MediaType.OCI_MANIFEST,
        platform: options.platforms?.[index],
      }),
    );
  }
  return appendManifests(emptyIndex({ mediaType }), children);
}
