import { OciError } from "./errors.js";
import { checkLevel, DEFAULT_GZIP_LEVEL } from "./gzip.js";
import { isValidMediaType, MediaType } from "./media-type.js";
import { quote } from "./quote.js";

/** Options of the layer builders. */
export interface LayerOptions {
  /**
   * The form of the layer's blob. `"gzip"` compresses a plain tar (gzip input is kept as is);
   * `"none"` decompresses gzip input (plain input is kept). Default: the input's own form.
   */
  compression?: "gzip" | "none";
  /** gzip level 0–9 when compressing. Default: {@link DEFAULT_GZIP_LEVEL} (6). */
  gzipLevel?: number;
  /**
   * The layer's media type. Default: `application/vnd.oci.image.layer.v1.tar+gzip` for a gzip
   * blob, `application/vnd.oci.image.layer.v1.tar` for a plain one.
   */
  mediaType?: string;
}

/** @internal Options checked once, at construction. */
export interface ResolvedLayerOptions {
  compression: "gzip" | "none" | undefined;
  level: number;
  mediaType: string | undefined;
}

/** @internal */
export function resolveLayerOptions(
  options: LayerOptions,
  operation: string,
): ResolvedLayerOptions {
  const { compression, mediaType } = options;
  if (compression !== undefined && compression !== "gzip" && compression !== "none") {
    throw new OciError(`compression must be "gzip" or "none", got ${quote(compression)}`, {
      code: "HOIST_OCI_INVALID_ARGUMENT",
      operation,
    });
  }
  if (mediaType !== undefined && !isValidMediaType(mediaType)) {
    throw new OciError(
      `invalid media type ${quote(mediaType)}: expected "type/subtype" without parameters`,
      {
        code: "HOIST_OCI_INVALID_ARGUMENT",
        operation,
      },
    );
  }
  return {
    compression,
    level: checkLevel(options.gzipLevel ?? DEFAULT_GZIP_LEVEL, operation),
    mediaType,
  };
}

/** @internal The default media type for a blob form. */
export function defaultLayerMediaType(blob: "gzip" | "none"): string {
  return blob === "gzip" ? MediaType.OCI_LAYER_GZIP : MediaType.OCI_LAYER;
}
