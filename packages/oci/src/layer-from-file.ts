import { open } from "node:fs/promises";
import { OciError } from "./errors.js";
import { detectCompression } from "./gzip.js";
import type { Layer } from "./interfaces.js";
import { type LayerOptions, resolveLayerOptions } from "./layer-options.js";
import { quote } from "./quote.js";
import { ReplayableLayer } from "./replayable-layer.js";

/**
 * A layer from a file holding a tar or a gzipped tar (detected by its magic number). Nothing is
 * read until asked; digests come from one streaming pass, and every later read is verified
 * against them, so a file changed in between fails with `HOIST_OCI_DIGEST_MISMATCH`. Opening
 * failures are `HOIST_OCI_READ_FAILED` with the system error as cause.
 */
export function layerFromFile(path: string, options: LayerOptions = {}): Layer {
  const operation = "layer from file";
  if (typeof path !== "string" || path === "") {
    throw new OciError(`expected a file path, got ${quote(path)}`, {
      code: "HOIST_OCI_INVALID_ARGUMENT",
      operation,
    });
  }
  const resolved = resolveLayerOptions(options, operation);
  return new ReplayableLayer(
    async (signal) => {
      signal?.throwIfAborted();
      let handle: Awaited<ReturnType<typeof open>>;
      try {
        handle = await open(path, "r");
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        throw new OciError(
          `cannot open layer file ${quote(path)} (${reason}); check the path and its permissions`,
          {
            code: "HOIST_OCI_READ_FAILED",
            operation,
            input: path,
            cause: error,
          },
        );
      }
      try {
        const head = Buffer.alloc(4);
        const { bytesRead } = await handle.read(head, 0, 4, 0);
        // The stream owns the handle from here on and closes it when it ends or is destroyed.
        return {
          compression: detectCompression(head.subarray(0, bytesRead)),
          stream: handle.createReadStream({ start: 0, autoClose: true }),
        };
      } catch (error) {
        await handle.close();
        throw new OciError(`cannot read layer file ${quote(path)}: ${(error as Error).message}`, {
          code: "HOIST_OCI_READ_FAILED",
          operation,
          input: path,
          cause: error,
        });
      }
    },
    resolved,
    operation,
  );
}
