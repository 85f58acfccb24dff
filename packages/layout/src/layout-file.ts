import { LayoutError, quote } from "./errors.js";

/** The only `imageLayoutVersion` the OCI image-layout spec defines. */
export const IMAGE_LAYOUT_VERSION = "1.0.0";

/** @internal What a new layout's `oci-layout` file holds. */
export const LAYOUT_FILE_CONTENT = `${JSON.stringify({ imageLayoutVersion: IMAGE_LAYOUT_VERSION })}\n`;

/** @internal The cap on `oci-layout`: a version string and a few extra fields. */
export const MAX_LAYOUT_FILE_BYTES = 64 * 1024;

/** The parsed `oci-layout` file. Fields the spec does not name are kept. */
export interface LayoutFile {
  imageLayoutVersion: string;
  [field: string]: unknown;
}

/**
 * Parses the bytes of an `oci-layout` file. The spec requires a JSON object with an
 * `imageLayoutVersion` field and allows more fields; like containers/image, only version `1.0.0`
 * is accepted, because a layout of another version may be laid out differently.
 * Throws {@link LayoutError} `HOIST_LAYOUT_INVALID_LAYOUT_FILE` or
 * `HOIST_LAYOUT_UNSUPPORTED_VERSION`.
 */
export function parseLayoutFile(bytes: Uint8Array | string, path = "oci-layout"): LayoutFile {
  const operation = "parse oci-layout";
  const invalid = (reason: string, cause?: unknown) =>
    new LayoutError(
      `${quote(path)} is not a valid oci-layout file: ${reason}; it must hold a JSON object such as {"imageLayoutVersion":"1.0.0"}`,
      { code: "HOIST_LAYOUT_INVALID_LAYOUT_FILE", operation, path, cause },
    );
  if (typeof bytes !== "string" && !(bytes instanceof Uint8Array)) {
    throw invalid(`expected bytes or a string, got ${typeof bytes}`);
  }
  const length = typeof bytes === "string" ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (length > MAX_LAYOUT_FILE_BYTES) {
    throw invalid(`${length} bytes is more than the ${MAX_LAYOUT_FILE_BYTES}-byte limit`);
  }
  let value: unknown;
  try {
    const text =
      typeof bytes === "string" ? bytes : new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    value = JSON.parse(text);
  } catch (error) {
    throw invalid("not UTF-8 JSON", error);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(`expected a JSON object, got ${value === null ? "null" : typeof value}`);
  }
  const version = (value as Record<string, unknown>).imageLayoutVersion;
  if (typeof version !== "string") {
    throw invalid(
      version === undefined
        ? "imageLayoutVersion is missing"
        : `imageLayoutVersion must be a string, got ${JSON.stringify(version)?.slice(0, 60)}`,
    );
  }
  if (version !== IMAGE_LAYOUT_VERSION) {
    throw new LayoutError(
      `${quote(path)} declares imageLayoutVersion ${quote(version)}; only ${quote(IMAGE_LAYOUT_VERSION)} is supported, so this layout was not read (convert it with a tool that knows that version)`,
      { code: "HOIST_LAYOUT_UNSUPPORTED_VERSION", operation, path },
    );
  }
  return value as LayoutFile;
}
