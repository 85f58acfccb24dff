import { OciError } from "@hoist/oci";
import { RegistryError, TransportError } from "@hoist/transport";
import { RemoteError, type RemoteErrorCode } from "./errors.js";

/** What a failed request was for, so the error can say it in words. */
export interface ErrorContext {
  /** "get manifest", "upload blob", ... */
  operation: string;
  /** The reference, repository or registry, as a string. */
  reference?: string | undefined;
  /** Whether a too-large body was a manifest (vs. a tag list or other document). */
  document?: "manifest" | "document";
  signal?: AbortSignal | undefined;
}

const NETWORK_CODES = new Set([
  "HOIST_TRANSPORT_NETWORK",
  "HOIST_TRANSPORT_TLS",
  "HOIST_TRANSPORT_TIMEOUT",
  "HOIST_TRANSPORT_PING_FAILED",
]);

function registryCode(error: RegistryError): { code: RemoteErrorCode; hint: string } {
  if (error.status === 404) {
    return { code: "HOIST_REMOTE_NOT_FOUND", hint: "check the name, tag or digest" };
  }
  if (error.status === 401) {
    return {
      code: "HOIST_REMOTE_UNAUTHORIZED",
      hint: "pass credentials (auth or keychain) that the registry accepts",
    };
  }
  if (error.status === 403) {
    return { code: "HOIST_REMOTE_DENIED", hint: "the credentials lack permission for this" };
  }
  if (error.status === 405 || error.status === 501 || error.hasCode("UNSUPPORTED")) {
    return { code: "HOIST_REMOTE_UNSUPPORTED", hint: "the registry does not support this" };
  }
  return { code: "HOIST_REMOTE_REGISTRY_ERROR", hint: "" };
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return true;
  if (TransportError.is(error) && error.code === "HOIST_TRANSPORT_ABORTED") return true;
  return (error as { name?: unknown } | null)?.name === "AbortError";
}

/**
 * Turns what the layers below throw into a {@link RemoteError}, keeping the original as `cause`.
 * RemoteErrors and `@hoist/oci` errors (digest and size mismatches, invalid documents) pass
 * through unchanged: they already say what is wrong.
 */
export function translateError(error: unknown, context: ErrorContext): unknown {
  if (RemoteError.is(error) || OciError.is(error)) return error;
  // A request body that failed verification (an upload streaming a blob that turned out not to
  // be what its descriptor said) reaches us wrapped by the transport: unwrap it.
  const content = ociCause(error);
  if (content) return content;
  const where = context.reference ? `${context.operation} ${context.reference}` : context.operation;
  const base = { operation: context.operation, reference: context.reference, cause: error };
  if (isAbort(error, context.signal)) {
    return new RemoteError(`${where}: aborted.`, { ...base, code: "HOIST_REMOTE_ABORTED" });
  }
  if (RegistryError.is(error)) {
    const { code, hint } = registryCode(error);
    return new RemoteError(`${where}: ${error.message}${hint ? `; ${hint}` : ""}`, {
      ...base,
      code,
      status: error.status,
      registryErrors: error.errors,
    });
  }
  if (TransportError.is(error)) {
    let code: RemoteErrorCode = "HOIST_REMOTE_REGISTRY_ERROR";
    if (NETWORK_CODES.has(error.code)) code = "HOIST_REMOTE_NETWORK";
    else if (error.code === "HOIST_TRANSPORT_CLOSED") code = "HOIST_REMOTE_CLOSED";
    else if (error.code === "HOIST_TRANSPORT_BAD_LINK") code = "HOIST_REMOTE_PAGINATION";
    else if (error.code === "HOIST_TRANSPORT_INVALID_OPTIONS")
      code = "HOIST_REMOTE_INVALID_OPTIONS";
    else if (
      error.code === "HOIST_TRANSPORT_CREDENTIALS" ||
      error.code === "HOIST_TRANSPORT_TOKEN_EXCHANGE"
    ) {
      code = "HOIST_REMOTE_UNAUTHORIZED";
    } else if (error.code === "HOIST_TRANSPORT_BODY_TOO_LARGE") {
      code =
        context.document === "manifest"
          ? "HOIST_REMOTE_MANIFEST_TOO_LARGE"
          : "HOIST_REMOTE_BAD_RESPONSE";
    } else if (
      error.code === "HOIST_TRANSPORT_BAD_RESPONSE" ||
      error.code === "HOIST_TRANSPORT_UNSAFE_TARGET" ||
      error.code === "HOIST_TRANSPORT_TOO_MANY_REDIRECTS"
    ) {
      code = "HOIST_REMOTE_BAD_RESPONSE";
    }
    return new RemoteError(`${where}: ${error.message}`, { ...base, code });
  }
  const systemCode = (error as { code?: unknown } | null)?.code;
  if (typeof systemCode === "string" && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(systemCode)) {
    return new RemoteError(`${where}: the connection failed (${systemCode}).`, {
      ...base,
      code: "HOIST_REMOTE_NETWORK",
    });
  }
  return error;
}

function ociCause(error: unknown): OciError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    if (OciError.is(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Runs `fn`, translating what it throws. */
export async function translating<T>(context: ErrorContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw translateError(error, context);
  }
}
