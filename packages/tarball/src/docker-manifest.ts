import { type Descriptor, Hash, OciError, parseDescriptor } from "@hoist/oci";
import { z } from "zod";
import { quote, TarballError } from "./errors.js";

/**
 * One image in a `docker save` tarball: an entry of its `manifest.json`. Paths are relative to
 * the archive's root. The field names are the file's own.
 */
export interface TarballDescriptor {
  /** Path of the config blob (`<hex>.json`, `blobs/sha256/<hex>`, …). */
  Config: string;
  /** Tags such as `registry.example/app:1.0`; empty for an untagged image. */
  RepoTags: string[];
  /** Paths of the layer blobs, base first. */
  Layers: string[];
  /** Descriptors of layers keyed by diffID: foreign layers, and every layer in Docker 25+. */
  LayerSources?: Record<string, Descriptor>;
}

/** 8 MiB: room for thousands of images, small enough to parse without a second thought. */
export const DEFAULT_MAX_MANIFEST_JSON_BYTES = 8 * 1024 * 1024;

// Docker and Go write `null` for empty lists; containers/image adds `Parent`. Unknown fields are
// allowed because writers add them over time.
const EntrySchema = z.looseObject({
  Config: z.string().min(1),
  RepoTags: z.array(z.string()).nullish(),
  Layers: z.array(z.string()).nullish(),
  LayerSources: z.record(z.string(), z.unknown()).nullish(),
});
const ManifestJsonSchema = z.array(EntrySchema);

function invalid(message: string, operation: string, cause?: unknown): TarballError {
  return new TarballError(`manifest.json: ${message}`, {
    code: "HOIST_TARBALL_INVALID_MANIFEST",
    operation,
    cause,
  });
}

function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((key) => (typeof key === "number" ? `[${key}]` : `.${String(key)}`))
    .join("")
    .replace(/^\./, "");
}

/**
 * Parses a `manifest.json` from untrusted bytes. Throws `HOIST_TARBALL_INVALID_MANIFEST` naming
 * the field that is wrong (`[0].Layers[2]: expected string`).
 */
export function parseManifestJson(
  bytes: Uint8Array,
  options: { maxBytes?: number; operation: string },
): TarballDescriptor[] {
  const { operation } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MANIFEST_JSON_BYTES;
  if (bytes.byteLength > maxBytes) {
    throw invalid(`${bytes.byteLength} bytes is larger than the ${maxBytes} allowed`, operation);
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw invalid(`not UTF-8 JSON (${(error as Error).message})`, operation, error);
  }
  const parsed = ManifestJsonSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? fieldPath(issue.path) : "";
    throw invalid(
      `${where ? `${where}: ` : ""}${issue?.message ?? "invalid"}; expected a list of {Config, RepoTags, Layers}`,
      operation,
      parsed.error,
    );
  }
  return parsed.data.map((entry, index) => {
    const descriptor: TarballDescriptor = {
      Config: entry.Config,
      RepoTags: entry.RepoTags ?? [],
      Layers: entry.Layers ?? [],
    };
    if (entry.LayerSources) {
      const sources: Record<string, Descriptor> = {};
      for (const [diffID, source] of Object.entries(entry.LayerSources)) {
        const where = `[${index}].LayerSources[${quote(diffID)}]`;
        if (!Hash.isValid(diffID)) throw invalid(`${where}: the key is not a digest`, operation);
        try {
          sources[diffID] = parseDescriptor(JSON.stringify(source));
        } catch (error) {
          const detail = OciError.is(error) ? error.message : String(error);
          throw invalid(`${where}: ${detail}`, operation, error);
        }
      }
      descriptor.LayerSources = sources;
    }
    return descriptor;
  });
}

/** @internal A deep copy (descriptors hold immutable Hash values, which are shared). */
export function cloneDescriptors(descriptors: readonly TarballDescriptor[]): TarballDescriptor[] {
  return descriptors.map((descriptor) => {
    const copy: TarballDescriptor = {
      Config: descriptor.Config,
      RepoTags: [...descriptor.RepoTags],
      Layers: [...descriptor.Layers],
    };
    if (descriptor.LayerSources) {
      copy.LayerSources = Object.fromEntries(
        Object.entries(descriptor.LayerSources).map(([key, value]) => [
          key,
          parseDescriptor(JSON.stringify(value)),
        ]),
      );
    }
    return copy;
  });
}
