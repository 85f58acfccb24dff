import { z } from "zod";
import { Hash } from "./hash.js";
import { isValidMediaType } from "./media-type.js";
import type {
  ConfigFile,
  ContainerConfig,
  Descriptor,
  HealthConfig,
  History,
  IndexManifest,
  Manifest,
  Platform,
  RootFS,
} from "./types.js";

// Schemas for untrusted JSON. Two rules shape them:
// - Objects are loose: fields these schemas do not name pass through untouched.
// - Arrays and maps stop at their first bad entry. zod otherwise reports every bad element, and a
//   4 MiB manifest of a million `{}` layers would cost gigabytes of issue objects.

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** An array whose elements are validated one by one, stopping at the first bad element. */
function list<T extends z.ZodType>(element: T): z.ZodType<z.output<T>[], unknown> {
  return z.array(z.unknown()).transform((items, context) => {
    const output: z.output<T>[] = new Array(items.length);
    for (let index = 0; index < items.length; index++) {
      const result = element.safeParse(items[index], { reportInput: true });
      if (!result.success) {
        for (const issue of result.error.issues.slice(0, 5)) {
          context.issues.push({ ...issue, path: [index, ...issue.path] } as never);
        }
        return z.NEVER;
      }
      output[index] = result.data;
    }
    return output;
  });
}

/**
 * A JSON object used as a map (annotations, labels). Stops at the first bad value, and keeps
 * every key, `__proto__` included, as an own property.
 */
function map<T extends z.ZodType>(value: T): z.ZodType<Record<string, z.output<T>>, unknown> {
  return z.unknown().transform((input, context) => {
    if (!isPlainObject(input)) {
      context.issues.push({
        code: "invalid_type",
        expected: "record",
        input,
        message: "expected an object",
      } as never);
      return z.NEVER;
    }
    const output: Record<string, z.output<T>> = {};
    for (const key of Object.keys(input)) {
      const result = value.safeParse(input[key], { reportInput: true });
      if (!result.success) {
        for (const issue of result.error.issues.slice(0, 5)) {
          context.issues.push({ ...issue, path: [key, ...issue.path] } as never);
        }
        return z.NEVER;
      }
      Object.defineProperty(output, key, {
        value: result.data,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return output;
  });
}

/** A digest string, validated by {@link Hash.parse} and turned into a Hash. */
export const DigestSchema: z.ZodType<Hash, unknown> = z.string().transform((value, context) => {
  try {
    return Hash.parse(value);
  } catch (error) {
    context.issues.push({
      code: "custom",
      input: value,
      message: error instanceof Error ? error.message : String(error),
    });
    return z.NEVER;
  }
});

/** An RFC 6838 media type without parameters. */
export const MediaTypeSchema: z.ZodType<string, unknown> = z.string().refine(isValidMediaType, {
  error: (issue) =>
    `invalid media type ${JSON.stringify(String(issue.input).slice(0, 120))}: expected "type/subtype" of letters, digits and !#$&^_.+-`,
});

const SIZE = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const STRINGS = list(z.string());
const STRING_MAP = map(z.string());
const EMPTY_OBJECT_MAP = map(z.looseObject({}));
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const PlatformSchema: z.ZodType<Platform, unknown> = z.looseObject({
  architecture: z.string(),
  os: z.string(),
  "os.version": z.string().optional(),
  "os.features": STRINGS.optional(),
  variant: z.string().optional(),
  features: STRINGS.optional(),
});

export const DescriptorSchema: z.ZodType<Descriptor, unknown> = z.looseObject({
  mediaType: MediaTypeSchema,
  size: SIZE,
  digest: DigestSchema,
  urls: STRINGS.optional(),
  annotations: STRING_MAP.optional(),
  data: z
    .string()
    .refine((value) => BASE64.test(value), { error: "expected standard base64 (RFC 4648)" })
    .optional(),
  platform: PlatformSchema.optional(),
  artifactType: MediaTypeSchema.optional(),
});

const DESCRIPTORS = list(DescriptorSchema);

export const ManifestSchema: z.ZodType<Manifest, unknown> = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: MediaTypeSchema.optional(),
  artifactType: MediaTypeSchema.optional(),
  config: DescriptorSchema,
  layers: DESCRIPTORS,
  subject: DescriptorSchema.optional(),
  annotations: STRING_MAP.optional(),
});

export const IndexManifestSchema: z.ZodType<IndexManifest, unknown> = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: MediaTypeSchema.optional(),
  artifactType: MediaTypeSchema.optional(),
  manifests: DESCRIPTORS,
  subject: DescriptorSchema.optional(),
  annotations: STRING_MAP.optional(),
});

const HealthConfigSchema: z.ZodType<HealthConfig, unknown> = z.looseObject({
  Test: STRINGS.nullable().optional(),
  Interval: z.number().optional(),
  Timeout: z.number().optional(),
  StartPeriod: z.number().optional(),
  StartInterval: z.number().optional(),
  Retries: z.number().optional(),
});

export const ContainerConfigSchema: z.ZodType<ContainerConfig, unknown> = z.looseObject({
  User: z.string().optional(),
  ExposedPorts: EMPTY_OBJECT_MAP.nullable().optional(),
  Env: STRINGS.nullable().optional(),
  Entrypoint: STRINGS.nullable().optional(),
  Cmd: STRINGS.nullable().optional(),
  Volumes: EMPTY_OBJECT_MAP.nullable().optional(),
  WorkingDir: z.string().optional(),
  Labels: STRING_MAP.nullable().optional(),
  StopSignal: z.string().optional(),
  ArgsEscaped: z.boolean().optional(),
  Healthcheck: HealthConfigSchema.nullable().optional(),
  OnBuild: STRINGS.nullable().optional(),
  Shell: STRINGS.nullable().optional(),
  StopTimeout: z.number().optional(),
  Hostname: z.string().optional(),
  Domainname: z.string().optional(),
  AttachStdin: z.boolean().optional(),
  AttachStdout: z.boolean().optional(),
  AttachStderr: z.boolean().optional(),
  Tty: z.boolean().optional(),
  OpenStdin: z.boolean().optional(),
  StdinOnce: z.boolean().optional(),
  Image: z.string().optional(),
  NetworkDisabled: z.boolean().optional(),
  MacAddress: z.string().optional(),
  Memory: z.number().optional(),
  MemorySwap: z.number().optional(),
  CpuShares: z.number().optional(),
});

const HistorySchema: z.ZodType<History, unknown> = z.looseObject({
  created: z.string().optional(),
  created_by: z.string().optional(),
  author: z.string().optional(),
  comment: z.string().optional(),
  empty_layer: z.boolean().optional(),
});

const RootFSSchema: z.ZodType<RootFS, unknown> = z.looseObject({
  type: z.string(),
  // Go writes a nil slice as null (go-containerregistry's empty image does); it means "none".
  diff_ids: list(DigestSchema)
    .nullable()
    .transform((value) => value ?? []),
});

export const ConfigFileSchema: z.ZodType<ConfigFile, unknown> = z.looseObject({
  created: z.string().optional(),
  author: z.string().optional(),
  architecture: z.string().optional(),
  os: z.string().optional(),
  "os.version": z.string().optional(),
  "os.features": STRINGS.nullable()
    .transform((value) => value ?? undefined)
    .optional(),
  variant: z.string().optional(),
  config: ContainerConfigSchema.optional(),
  rootfs: RootFSSchema.optional(),
  history: list(HistorySchema).optional(),
  container: z.string().optional(),
  container_config: ContainerConfigSchema.optional(),
  docker_version: z.string().optional(),
});
