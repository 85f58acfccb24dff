import type { z } from "zod";
import { type DocumentKind, type DocumentProblem, InvalidDocumentError } from "./errors.js";
import { isImage, isIndex, isSchema1, sniffParsed } from "./media-type.js";
import { depthPastLimit } from "./nesting-depth.js";
import { quote } from "./quote.js";
import {
  ConfigFileSchema,
  DescriptorSchema,
  IndexManifestSchema,
  ManifestSchema,
} from "./schemas.js";
import type { ConfigFile, Descriptor, IndexManifest, Manifest } from "./types.js";

/** 4 MiB: the manifest size distribution accepts and containers/image reads. */
export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** 4 MiB, as containers/image caps config blobs. */
export const DEFAULT_MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export interface ParseDocumentOptions {
  /**
   * Refuse documents longer than this many bytes before parsing them
   * (`HOIST_OCI_DOCUMENT_TOO_LARGE`). Default: {@link DEFAULT_MAX_MANIFEST_BYTES} for manifests,
   * indexes and descriptors, {@link DEFAULT_MAX_CONFIG_BYTES} for configs.
   */
  maxBytes?: number;
}

/**
 * Parses an image manifest (OCI or Docker schema 2) from untrusted bytes. Throws
 * {@link InvalidDocumentError} naming the field that is wrong, e.g.
 * `manifest: layers[2].digest: invalid digest "sha256:../x": …`. Indexes are refused with a hint
 * to use {@link parseIndexManifest}; schema 1 with `HOIST_OCI_SCHEMA1_UNSUPPORTED`.
 */
export function parseManifest(
  input: Uint8Array | string,
  options: ParseDocumentOptions = {},
): Manifest {
  const value = decode(input, "manifest", options.maxBytes ?? DEFAULT_MAX_MANIFEST_BYTES);
  const mediaType = sniffParsed(value);
  refuseSchema1(mediaType, "manifest");
  if (isIndex(mediaType)) {
    throw invalid("manifest", [
      {
        path: "mediaType",
        message: `this is an index (${quote(mediaType)}), not an image manifest; parse it with parseIndexManifest`,
      },
    ]);
  }
  return validate(ManifestSchema, value, "manifest");
}

/** Parses an OCI index or Docker manifest list from untrusted bytes; see {@link parseManifest}. */
export function parseIndexManifest(
  input: Uint8Array | string,
  options: ParseDocumentOptions = {},
): IndexManifest {
  const value = decode(input, "index", options.maxBytes ?? DEFAULT_MAX_MANIFEST_BYTES);
  const mediaType = sniffParsed(value);
  refuseSchema1(mediaType, "index");
  if (isImage(mediaType)) {
    throw invalid("index", [
      {
        path: "mediaType",
        message: `this is an image manifest (${quote(mediaType)}), not an index; parse it with parseManifest`,
      },
    ]);
  }
  return validate(IndexManifestSchema, value, "index");
}

/** Parses an image config (OCI or Docker) from untrusted bytes; see {@link parseManifest}. */
export function parseConfigFile(
  input: Uint8Array | string,
  options: ParseDocumentOptions = {},
): ConfigFile {
  const value = decode(input, "config", options.maxBytes ?? DEFAULT_MAX_CONFIG_BYTES);
  return validate(ConfigFileSchema, value, "config");
}

/** Parses one descriptor (as found in `index.json` or a referrers response entry). */
export function parseDescriptor(
  input: Uint8Array | string,
  options: ParseDocumentOptions = {},
): Descriptor {
  const value = decode(input, "descriptor", options.maxBytes ?? DEFAULT_MAX_MANIFEST_BYTES);
  return validate(DescriptorSchema, value, "descriptor");
}

function refuseSchema1(mediaType: string | undefined, document: DocumentKind): void {
  if (isSchema1(mediaType)) {
    throw new InvalidDocumentError(
      `${document}: Docker schema 1 manifests (${quote(mediaType)}) are not supported; convert the image to schema 2 or OCI (for example by pushing it again with a current Docker or skopeo)`,
      { code: "HOIST_OCI_SCHEMA1_UNSUPPORTED", document },
    );
  }
}

function decode(input: Uint8Array | string, document: DocumentKind, maxBytes: number): unknown {
  if (typeof input !== "string" && !(input instanceof Uint8Array)) {
    throw new InvalidDocumentError(`${document}: expected bytes or a string, got ${typeof input}`, {
      code: "HOIST_OCI_INVALID_JSON",
      document,
    });
  }
  const length = typeof input === "string" ? Buffer.byteLength(input) : input.byteLength;
  if (length > maxBytes) {
    throw new InvalidDocumentError(
      `${document}: ${length} bytes is more than the ${maxBytes}-byte limit; raise maxBytes if the source is trusted`,
      { code: "HOIST_OCI_DOCUMENT_TOO_LARGE", document },
    );
  }
  let text: string;
  try {
    text =
      typeof input === "string" ? input : new TextDecoder("utf-8", { fatal: true }).decode(input);
  } catch (error) {
    throw new InvalidDocumentError(`${document}: not valid UTF-8`, {
      code: "HOIST_OCI_INVALID_JSON",
      document,
      cause: error,
    });
  }
  const depth = depthPastLimit(text, MAX_DEPTH);
  if (depth !== undefined) {
    throw invalid(document, [
      {
        path: "",
        message: `nested ${depth} levels deep; documents may nest at most ${MAX_DEPTH} levels`,
      },
    ]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidDocumentError(`${document}: not valid JSON (${reason.slice(0, 200)})`, {
      code: "HOIST_OCI_INVALID_JSON",
      document,
      cause: error,
    });
  }
}

// Real manifests and configs nest about six levels. The cap keeps hostile nesting (a few
// megabytes of "[") away from every recursive walk after parsing: zod, key-order restoration,
// cloning, and JSON.stringify when a mutated document is written back.
const MAX_DEPTH = 128;

function validate<T>(schema: z.ZodType<T, unknown>, value: unknown, document: DocumentKind): T {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(document, [
      { path: "", message: `expected a JSON object, got ${kindOf(value)}` },
    ]);
  }
  const result = schema.safeParse(value, { reportInput: true });
  if (!result.success) {
    throw invalid(
      document,
      result.error.issues.map((issue) => ({
        path: formatPath(issue.path),
        message: describeIssue(issue),
      })),
    );
  }
  return preserveKeyOrder(value, result.data) as T;
}

function invalid(document: DocumentKind, problems: DocumentProblem[]): InvalidDocumentError {
  const [first] = problems;
  const where = first?.path ? `${first.path}: ` : "";
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return new InvalidDocumentError(`${document}: ${where}${first?.message ?? "invalid"}${more}`, {
    code: "HOIST_OCI_INVALID_DOCUMENT",
    document,
    problems,
  });
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `layers[2].digest`, `annotations["org.opencontainers.image.title"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else if (typeof key === "string" && IDENTIFIER.test(key)) text += text === "" ? key : `.${key}`;
    else text += `[${JSON.stringify(String(key).slice(0, 120))}]`;
  }
  return text;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${quote(value)}`;
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${value}`;
  return typeof value === "object" ? "an object" : typeof value;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case "invalid_type":
      if (input === undefined) return `missing (expected ${article(issue.expected)})`;
      return `expected ${article(issue.expected)}, got ${kindOf(input)}`;
    case "invalid_value":
      return `expected ${issue.values.map((value) => JSON.stringify(value)).join(" or ")}, got ${kindOf(input)}`;
    case "too_small":
    case "too_big":
      return `${issue.message.replace(/^Too (small|big): /, "")}, got ${kindOf(input)}`;
    default:
      return issue.message;
  }
}

function article(expected: string): string {
  switch (expected) {
    case "record":
    case "object":
      return "an object";
    case "array":
      return "an array";
    case "int":
      return "an integer";
    default:
      return `a ${expected}`;
  }
}

function isPlain(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

// zod writes the fields it knows first and the passed-through ones after, and drops an unknown
// `__proto__` field (assigning it would swap the prototype). Putting keys back in the input's
// order, `__proto__` as plain data, makes `JSON.stringify(parsed)` reproduce compact input byte
// for byte.
function preserveKeyOrder(input: unknown, output: unknown): unknown {
  if (Array.isArray(input) && Array.isArray(output)) {
    for (let index = 0; index < output.length; index++) {
      output[index] = preserveKeyOrder(input[index], output[index]);
    }
    return output;
  }
  if (!isPlain(input) || !isPlain(output)) return output;
  const ordered: Record<string, unknown> = {};
  const define = (key: string, value: unknown) =>
    Object.defineProperty(ordered, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  for (const key of Object.keys(input)) {
    if (Object.hasOwn(output, key)) define(key, preserveKeyOrder(input[key], output[key]));
    else if (key === "__proto__") define(key, input[key]);
  }
  for (const key of Object.keys(output)) {
    if (!Object.hasOwn(ordered, key)) define(key, output[key]);
  }
  return ordered;
}
