import { Readable } from "node:stream";
import { OciError } from "./errors.js";
import { detectCompression } from "./gzip.js";
import type { Layer } from "./interfaces.js";
import { type LayerOptions, resolveLayerOptions } from "./layer-options.js";
import { ReplayableLayer } from "./replayable-layer.js";

/**
 * A layer from bytes in memory: a tar, or a gzipped tar (detected by its magic number). With
 * `compression: "gzip"` a plain tar is gzipped deterministically (same bytes, same digest).
 * Digests are computed on first use. The bytes are copied, so later changes to `data` do not
 * affect the layer.
 */
export function layerFromBytes(data: Uint8Array, options: LayerOptions = {}): Layer {
  const operation = "layer from bytes";
  if (!(data instanceof Uint8Array)) {
    throw new OciError(`expected a Uint8Array, got ${typeof data}`, {
      code: "HOIST_OCI_INVALID_ARGUMENT",
      operation,
    });
  }
  const resolved = resolveLayerOptions(options, operation);
  const bytes = Buffer.from(data);
  const compression = detectCompression(bytes);
  return new ReplayableLayer(
    async () => ({ compression, stream: Readable.from([bytes], { objectMode: false }) }),
    resolved,
    operation,
  );
}
