/**
 * Media types of OCI and Docker manifests, configs and layers. Media-type fields stay plain
 * strings everywhere (registries invent new ones); these are the ones hoist knows.
 */
export const MediaType = {
  /** OCI image index. */
  OCI_INDEX: "application/vnd.oci.image.index.v1+json",
  /** OCI image manifest. */
  OCI_MANIFEST: "application/vnd.oci.image.manifest.v1+json",
  /** OCI image config. */
  OCI_CONFIG: "application/vnd.oci.image.config.v1+json",
  /** OCI uncompressed layer tar. */
  OCI_LAYER: "application/vnd.oci.image.layer.v1.tar",
  /** OCI gzip-compressed layer tar. */
  OCI_LAYER_GZIP: "application/vnd.oci.image.layer.v1.tar+gzip",
  /** OCI zstd-compressed layer tar. */
  OCI_LAYER_ZSTD: "application/vnd.oci.image.layer.v1.tar+zstd",
  /** OCI non-distributable layer (deprecated by the spec, still found in Windows images). */
  OCI_NONDISTRIBUTABLE_LAYER: "application/vnd.oci.image.layer.nondistributable.v1.tar",
  OCI_NONDISTRIBUTABLE_LAYER_GZIP: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  OCI_NONDISTRIBUTABLE_LAYER_ZSTD: "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  /** The OCI empty descriptor's type: the two-byte blob `{}`, used as config of artifacts. */
  OCI_EMPTY: "application/vnd.oci.empty.v1+json",
  /** Docker image manifest, schema 2. */
  DOCKER_MANIFEST: "application/vnd.docker.distribution.manifest.v2+json",
  /** Docker manifest list (the Docker counterpart of an OCI index). */
  DOCKER_MANIFEST_LIST: "application/vnd.docker.distribution.manifest.list.v2+json",
  /** Docker image config. */
  DOCKER_CONFIG: "application/vnd.docker.container.image.v1+json",
  /** Docker gzip-compressed layer. */
  DOCKER_LAYER: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  /** Docker uncompressed layer. */
  DOCKER_LAYER_UNCOMPRESSED: "application/vnd.docker.image.rootfs.diff.tar",
  /** Docker foreign layer: fetched from its `urls`, not pushed to registries by default. */
  DOCKER_FOREIGN_LAYER: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  /** Docker plugin config. */
  DOCKER_PLUGIN_CONFIG: "application/vnd.docker.plugin.v1+json",
  /** Docker schema 1 manifest (unsigned). Known only to detect and refuse it. */
  DOCKER_MANIFEST_SCHEMA1: "application/vnd.docker.distribution.manifest.v1+json",
  /** Docker schema 1 manifest, signed. Known only to detect and refuse it. */
  DOCKER_MANIFEST_SCHEMA1_SIGNED: "application/vnd.docker.distribution.manifest.v1+prettyjws",
} as const;

/** One of the media types in {@link MediaType}. Fields that hold media types are `string`. */
export type MediaType = (typeof MediaType)[keyof typeof MediaType];

/**
 * The media type without parameters, lowercased: `Application/JSON; charset=utf-8` becomes
 * `application/json`. Content-Type headers carry parameters; manifests do not.
 */
export function baseMediaType(mediaType: string): string {
  const semicolon = mediaType.indexOf(";");
  return (semicolon === -1 ? mediaType : mediaType.slice(0, semicolon)).trim().toLowerCase();
}

function is(mediaType: string | undefined, ...candidates: string[]): boolean {
  if (mediaType === undefined) return false;
  return candidates.includes(baseMediaType(mediaType));
}

/** An OCI index or a Docker manifest list. */
export function isIndex(mediaType: string | undefined): boolean {
  return is(mediaType, MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST_LIST);
}

/** An OCI image manifest or a Docker schema 2 manifest (not schema 1, which hoist refuses). */
export function isImage(mediaType: string | undefined): boolean {
  return is(mediaType, MediaType.OCI_MANIFEST, MediaType.DOCKER_MANIFEST);
}

/** A Docker schema 1 manifest, signed or not. */
export function isSchema1(mediaType: string | undefined): boolean {
  return is(mediaType, MediaType.DOCKER_MANIFEST_SCHEMA1, MediaType.DOCKER_MANIFEST_SCHEMA1_SIGNED);
}

/** Any manifest kind: index, image, or schema 1. */
export function isManifest(mediaType: string | undefined): boolean {
  return isIndex(mediaType) || isImage(mediaType) || isSchema1(mediaType);
}

/** An OCI or Docker image config (plugin configs are not image configs). */
export function isConfig(mediaType: string | undefined): boolean {
  return is(mediaType, MediaType.OCI_CONFIG, MediaType.DOCKER_CONFIG);
}

/** A filesystem layer of any known compression, distributable or not. */
export function isLayer(mediaType: string | undefined): boolean {
  return is(
    mediaType,
    MediaType.OCI_LAYER,
    MediaType.OCI_LAYER_GZIP,
    MediaType.OCI_LAYER_ZSTD,
    MediaType.OCI_NONDISTRIBUTABLE_LAYER,
    MediaType.OCI_NONDISTRIBUTABLE_LAYER_GZIP,
    MediaType.OCI_NONDISTRIBUTABLE_LAYER_ZSTD,
    MediaType.DOCKER_LAYER,
    MediaType.DOCKER_LAYER_UNCOMPRESSED,
    MediaType.DOCKER_FOREIGN_LAYER,
  );
}

/**
 * False for layers that registries must not receive by default (Docker foreign layers and OCI
 * non-distributable layers, found in Windows base images); true for everything else.
 */
export function isDistributable(mediaType: string | undefined): boolean {
  return !is(
    mediaType,
    MediaType.DOCKER_FOREIGN_LAYER,
    MediaType.OCI_NONDISTRIBUTABLE_LAYER,
    MediaType.OCI_NONDISTRIBUTABLE_LAYER_GZIP,
    MediaType.OCI_NONDISTRIBUTABLE_LAYER_ZSTD,
  );
}

/** The compression a layer media type declares, or undefined for types that do not say. */
export function layerCompression(
  mediaType: string | undefined,
): "gzip" | "zstd" | "none" | undefined {
  if (!isLayer(mediaType) || mediaType === undefined) return undefined;
  const base = baseMediaType(mediaType);
  if (base.endsWith("+gzip") || base.endsWith(".tar.gzip")) return "gzip";
  if (base.endsWith("+zstd")) return "zstd";
  return "none";
}

// RFC 6838 restricted names: type "/" subtype, each 1–127 characters, no parameters. Media types
// from manifests travel into Accept and Content-Type headers, so CR, LF and spaces must never pass.
const RFC6838 = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** True for a media type without parameters that RFC 6838 allows (what OCI requires). */
export function isValidMediaType(value: unknown): value is string {
  return typeof value === "string" && RFC6838.test(value);
}

const DEFAULT_SNIFF_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Guesses a manifest's media type from its JSON, for registries and files that send manifests
 * without a `mediaType` field. A present, non-empty `mediaType` wins. Otherwise: schemaVersion 1
 * is schema 1 (signed when it has `signatures`); a `manifests` array is an OCI index (Docker
 * manifest lists always carry their media type); a `config` whose media type is the Docker config
 * type is a Docker manifest; any other `config` or `layers` is an OCI manifest. Returns undefined
 * when the input is not a JSON object, is larger than `maxBytes` (default 4 MiB), or fits no rule.
 */
export function sniffManifestMediaType(
  input: Uint8Array | string,
  options: { maxBytes?: number } = {},
): string | undefined {
  const maxBytes = options.maxBytes ?? DEFAULT_SNIFF_MAX_BYTES;
  const length = typeof input === "string" ? Buffer.byteLength(input) : input.byteLength;
  if (length > maxBytes) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(
      typeof input === "string" ? input : new TextDecoder("utf-8", { fatal: true }).decode(input),
    );
  } catch {
    return undefined;
  }
  return sniffParsed(value);
}

/** @internal The sniffing rules on an already-parsed document. */
export function sniffParsed(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const document = value as Record<string, unknown>;
  if (typeof document.mediaType === "string" && document.mediaType !== "") {
    return document.mediaType;
  }
  if (document.schemaVersion === 1) {
    return Array.isArray(document.signatures)
      ? MediaType.DOCKER_MANIFEST_SCHEMA1_SIGNED
      : MediaType.DOCKER_MANIFEST_SCHEMA1;
  }
  if (Array.isArray(document.manifests)) return MediaType.OCI_INDEX;
  const config = document.config;
  if (typeof config === "object" && config !== null) {
    const configType = (config as Record<string, unknown>).mediaType;
    return configType === MediaType.DOCKER_CONFIG
      ? MediaType.DOCKER_MANIFEST
      : MediaType.OCI_MANIFEST;
  }
  if (Array.isArray(document.layers)) return MediaType.OCI_MANIFEST;
  return undefined;
}
