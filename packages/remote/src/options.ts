import type { Authenticator, Keychain } from "@hoist/authn";
import {
  DEFAULT_MAX_MANIFEST_BYTES,
  DEFAULT_PLATFORM,
  OciError,
  type Platform,
  PlatformSchema,
  parsePlatform,
} from "@hoist/oci";
import type { RetryPolicyOptions, Transport, TransportOptions } from "@hoist/transport";
import { z } from "zod";
import { RemoteError } from "./errors.js";

/** How far a push or copy has got, for the whole operation. */
export interface Progress {
  /** Bytes uploaded, found already present, or mounted so far. Never decreases. */
  readonly complete: number;
  /**
   * Bytes the operation moves in all: distinct blobs plus manifests. It grows only when a
   * streamed layer reveals its size; the last update has `complete === total`.
   */
  readonly total: number;
}

/** An undici dispatcher (Agent, Pool, ProxyAgent, MockAgent, ...). */
export type Dispatcher = NonNullable<TransportOptions["dispatcher"]>;

/**
 * Options of every function in this package. Client options (credentials, transport) apply
 * to a whole Puller or Pusher; the others can also be given per call.
 */
export interface RemoteOptions {
  /** Looks credentials up per repository (e.g. `defaultKeychain()` from @hoist/authn). */
  keychain?: Keychain;
  /** Fixed credentials for every registry. Pass this or `keychain`, not both. Default: anonymous. */
  auth?: Authenticator;
  /** Appended to "hoist/<version>" in the User-Agent header. */
  userAgent?: string;
  /** Retry policy of the transport, or `false` for none. Default: @hoist/transport's. */
  retry?: RetryPolicyOptions | false;
  /**
   * A @hoist/transport `Transport` to share (it is not closed by this package), or an undici
   * dispatcher to send requests through. Default: a transport of its own.
   */
  transport?: Transport | Dispatcher;
  /** The platform `image()` picks from an index, and `copy` copies alone when set. Default linux/amd64 for `image()`. */
  platform?: Platform | string;
  /** Requests in flight at once across a whole push or copy. Default 4. */
  jobs?: number;
  /** Called as a push or copy progresses. It runs in the transfer: an exception fails the push. */
  onProgress?: (progress: Progress) => void;
  /** Cancels every request and upload of the call. */
  signal?: AbortSignal;
  /** Tags or repositories asked for per page (`n`), at most 1000; 0 leaves `n` out. Default 1000. */
  pageSize?: number;
  /** Use the `sha256-<hex>` tag when a registry lacks the referrers API. Default true. */
  referrersTagFallback?: boolean;
  /** Push foreign and non-distributable layers too. Default false: they are skipped. */
  allowNondistributableArtifacts?: boolean;
  /**
   * Upload blobs larger than this in PATCH requests of this many bytes (GHCR accepts at most
   * 4 MiB per request). Default: none, one request per blob.
   */
  chunkSize?: number;
  /** Largest manifest accepted, in bytes. Default 4 MiB, as distribution. */
  maxManifestBytes?: number;
}

/** Options with defaults filled in. */
export interface ResolvedOptions {
  keychain: Keychain | undefined;
  auth: Authenticator | undefined;
  userAgent: string | undefined;
  retry: RetryPolicyOptions | false | undefined;
  transport: Transport | Dispatcher | undefined;
  platform: Platform | undefined;
  jobs: number;
  onProgress: ((progress: Progress) => void) | undefined;
  signal: AbortSignal | undefined;
  pageSize: number;
  referrersTagFallback: boolean;
  allowNondistributableArtifacts: boolean;
  chunkSize: number | undefined;
  maxManifestBytes: number;
}

export const DEFAULT_JOBS = 4;
/** ECR refuses larger pages; Quay answers 413 above 100 (then we shrink). */
export const DEFAULT_PAGE_SIZE = 1000;
export const MIN_CHUNK_SIZE = 1024;
const MAX_MANIFEST_CAP = 100 * 1024 * 1024;

const hasMethod = (name: string) => (value: unknown) =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as Record<string, unknown>)[name] === "function";

const OptionsSchema = z
  .object({
    keychain: z.custom<Keychain>(hasMethod("resolve"), {
      message: "must be a Keychain (an object with resolve(), e.g. defaultKeychain())",
    }),
    auth: z.custom<Authenticator>(hasMethod("authorization"), {
      message: "must be an Authenticator (an object with authorization(), e.g. basic(user, pw))",
    }),
    userAgent: z.string().min(1).max(200),
    retry: z.union([z.literal(false), z.record(z.string(), z.unknown())]),
    transport: z.custom<Transport | Dispatcher>(
      (value) => hasMethod("session")(value) || hasMethod("dispatch")(value),
      { message: "must be a @hoist/transport Transport or an undici Dispatcher" },
    ),
    platform: z.union([z.string(), PlatformSchema]),
    jobs: z.number().int().min(1).max(256),
    onProgress: z.custom<(progress: Progress) => void>((value) => typeof value === "function", {
      message: "must be a function",
    }),
    signal: z.custom<AbortSignal>(
      (value) => value instanceof AbortSignal || hasMethod("addEventListener")(value),
      { message: "must be an AbortSignal" },
    ),
    pageSize: z.number().int().min(0).max(DEFAULT_PAGE_SIZE),
    referrersTagFallback: z.boolean(),
    allowNondistributableArtifacts: z.boolean(),
    chunkSize: z.number().int().min(MIN_CHUNK_SIZE).max(Number.MAX_SAFE_INTEGER),
    maxManifestBytes: z.number().int().min(1024).max(MAX_MANIFEST_CAP),
  })
  .partial()
  .strict();

function invalid(message: string): RemoteError {
  return new RemoteError(message, {
    code: "HOIST_REMOTE_INVALID_OPTIONS",
    operation: "check options",
  });
}

/** Validates options (throwing RemoteError HOIST_REMOTE_INVALID_OPTIONS) and fills defaults. */
export function resolveOptions(options: RemoteOptions | undefined): ResolvedOptions {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw invalid("options must be an object, e.g. { keychain: defaultKeychain() }");
  }
  const defined = Object.fromEntries(
    Object.entries(options ?? {}).filter(([, value]) => value !== undefined),
  );
  const parsed = OptionsSchema.safeParse(defined);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join(".") ?? "";
    if (issue?.code === "unrecognized_keys") {
      throw invalid(
        `unknown option ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}; see the RemoteOptions type for what is accepted`,
      );
    }
    throw invalid(
      `option ${JSON.stringify(field)} ${issue?.message ?? "is invalid"} (got ${describe(
        (defined as Record<string, unknown>)[field.split(".")[0] ?? ""],
      )})`,
    );
  }
  const value = options ?? {};
  if (value.keychain && value.auth) {
    throw invalid(
      "pass either keychain or auth, not both: it would be unclear which credentials win",
    );
  }
  const ownsTransportOptions = value.userAgent !== undefined || value.retry !== undefined;
  if (value.transport && hasMethod("session")(value.transport) && ownsTransportOptions) {
    throw invalid(
      "userAgent and retry configure a transport; with a shared transport, set them where it is created",
    );
  }
  let platform: Platform | undefined;
  if (typeof value.platform === "string") {
    try {
      platform = parsePlatform(value.platform);
    } catch (cause) {
      throw new RemoteError(
        `option "platform": ${OciError.is(cause) ? cause.message : String(cause)}`,
        { code: "HOIST_REMOTE_INVALID_OPTIONS", operation: "check options", cause },
      );
    }
  } else {
    platform = value.platform;
  }
  return {
    keychain: value.keychain,
    auth: value.auth,
    userAgent: value.userAgent,
    retry: value.retry,
    transport: value.transport,
    platform,
    jobs: value.jobs ?? DEFAULT_JOBS,
    onProgress: value.onProgress,
    signal: value.signal,
    pageSize: value.pageSize ?? DEFAULT_PAGE_SIZE,
    referrersTagFallback: value.referrersTagFallback ?? true,
    allowNondistributableArtifacts: value.allowNondistributableArtifacts ?? false,
    chunkSize: value.chunkSize,
    maxManifestBytes: value.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES,
  };
}

/** Per-call options layered over a Puller's or Pusher's defaults. */
export function mergeOptions(
  defaults: ResolvedOptions,
  call: RemoteOptions | undefined,
): ResolvedOptions {
  if (call === undefined) return defaults;
  const clientKeys = ["keychain", "auth", "userAgent", "retry", "transport"] as const;
  for (const key of clientKeys) {
    if (call[key] !== undefined) {
      throw invalid(
        `option "${key}" belongs to the Puller or Pusher; pass it to createPuller()/createPusher()`,
      );
    }
  }
  const resolved = resolveOptions(call);
  const given = (key: keyof RemoteOptions) => call[key] !== undefined;
  return {
    ...defaults,
    platform: given("platform") ? resolved.platform : defaults.platform,
    jobs: given("jobs") ? resolved.jobs : defaults.jobs,
    onProgress: given("onProgress") ? resolved.onProgress : defaults.onProgress,
    signal: given("signal") ? resolved.signal : defaults.signal,
    pageSize: given("pageSize") ? resolved.pageSize : defaults.pageSize,
    referrersTagFallback: given("referrersTagFallback")
      ? resolved.referrersTagFallback
      : defaults.referrersTagFallback,
    allowNondistributableArtifacts: given("allowNondistributableArtifacts")
      ? resolved.allowNondistributableArtifacts
      : defaults.allowNondistributableArtifacts,
    chunkSize: given("chunkSize") ? resolved.chunkSize : defaults.chunkSize,
    maxManifestBytes: given("maxManifestBytes")
      ? resolved.maxManifestBytes
      : defaults.maxManifestBytes,
  };
}

/** The platform `image()` selects by. */
export function platformOf(options: ResolvedOptions): Platform {
  return options.platform ?? { ...DEFAULT_PLATFORM };
}

function describe(value: unknown): string {
  if (typeof value === "function") return "a function";
  if (typeof value === "object" && value !== null) return "an object";
  try {
    return JSON.stringify(value)?.slice(0, 60) ?? String(value);
  } catch {
    return String(value);
  }
}
