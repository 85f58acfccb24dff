import {
  type Descriptor,
  type Image,
  type ImageIndex,
  type Platform,
  parseDescriptor,
  platformFromConfig,
} from "@hoist/oci";
import { LayoutError, quote } from "./errors.js";
import { isValidRefName, REF_NAME_ANNOTATION, toPlatform } from "./matchers.js";
import { validHash } from "./paths.js";

// The entry an append adds to index.json: its options are checked before anything is written,
// and the finished entry is validated as strictly as one read from index.json.

/** Fields of the entry that an append or replace adds to index.json. */
export interface EntryOptions {
  /** Sets `org.opencontainers.image.ref.name`: the name `skopeo` finds it by (`oci:<dir>:<name>`). */
  refName?: string;
  /** Annotations of the entry (a `refName` wins over a ref-name annotation given here). */
  annotations?: Record<string, string>;
  /** The entry's platform, as an object or `os/arch[/variant][:osversion]` text. */
  platform?: Platform | string;
  /** For an image: take the entry's platform from the image's config (when `platform` is not given). */
  platformFromConfig?: boolean;
  /** Locations the content may also be fetched from. */
  urls?: string[];
}

/** @internal */
export interface CheckedEntryFields {
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
}

function argument(message: string, operation: string, cause?: unknown): LayoutError {
  return new LayoutError(message, { code: "HOIST_LAYOUT_INVALID_ARGUMENT", operation, cause });
}

/** @internal */
export function checkEntryOptions(options: EntryOptions, operation: string): CheckedEntryFields {
  const fields: CheckedEntryFields = {};
  if (options.annotations !== undefined) {
    const annotations = options.annotations;
    if (typeof annotations !== "object" || annotations === null || Array.isArray(annotations)) {
      throw argument("annotations must be an object of strings", operation);
    }
    for (const [key, value] of Object.entries(annotations)) {
      if (typeof value !== "string") {
        throw argument(`annotation ${quote(key)} must be a string, got ${typeof value}`, operation);
      }
    }
    fields.annotations = { ...annotations };
  }
  if (options.refName !== undefined) {
    if (!isValidRefName(options.refName)) {
      throw argument(
        `invalid reference name ${quote(options.refName)}: use letters and digits joined by ".", "_", "-", ":", "@", "+" or "--", in "/"-separated parts (for example "v1.0" or "example.com/app:1.0")`,
        operation,
      );
    }
    fields.annotations = { ...fields.annotations, [REF_NAME_ANNOTATION]: options.refName };
  }
  if (options.platform !== undefined) fields.platform = toPlatform(options.platform);
  if (options.urls !== undefined) {
    if (!Array.isArray(options.urls) || options.urls.some((url) => typeof url !== "string")) {
      throw argument("urls must be an array of strings", operation);
    }
    fields.urls = [...options.urls];
  }
  return fields;
}

/** @internal */
export async function buildEntry(
  written: Descriptor,
  target: Image | ImageIndex,
  fields: CheckedEntryFields,
  options: EntryOptions & { signal?: AbortSignal },
  operation: string,
): Promise<Descriptor> {
  const entry: Descriptor = { ...written, ...fields };
  if (
    fields.platform === undefined &&
    options.platformFromConfig &&
    typeof (target as Image).configFile === "function"
  ) {
    const platform = await platformFromConfig(target as Image, { signal: options.signal });
    if (platform) entry.platform = platform;
  }
  return validDescriptor(entry, operation);
}

/** @internal Validates a descriptor as one read from index.json would be; the digest first. */
export function validDescriptor(descriptor: Descriptor, operation: string): Descriptor {
  if (typeof descriptor !== "object" || descriptor === null) {
    throw argument("expected a descriptor object", operation);
  }
  // The digest is checked first and on its own, and only the parsed value goes further, so no
  // forged digest object (one whose toString and toJSON disagree) reaches index.json.
  const digest = validHash(descriptor.digest, operation);
  try {
    return parseDescriptor(JSON.stringify({ ...descriptor, digest }));
  } catch (error) {
    throw argument(`invalid descriptor: ${(error as Error).message}`, operation, error);
  }
}
