import { TransportError } from "./errors.js";

const TIMEOUT_CODES = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "ETIMEDOUT",
]);

function isTlsCode(code: string): boolean {
  return (
    code.startsWith("ERR_TLS_") ||
    code.startsWith("ERR_SSL_") ||
    code.startsWith("CERT_") ||
    code.startsWith("UNABLE_TO_") ||
    code === "DEPTH_ZERO_SELF_SIGNED_CERT" ||
    code === "SELF_SIGNED_CERT_IN_CHAIN" ||
    code === "EPROTO"
  );
}

export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  // undici and Node sometimes wrap the system error one level down.
  for (let depth = 0; depth < 3 && current && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Whether undici could not parse the start of an answer. Since a connection is kept after a HEAD,
 * that can be the late body of a server that answered the HEAD with one, read as the start of
 * the next answer on that connection; a fresh connection gets the real answer.
 */
export function isGarbledAnswer(error: unknown): boolean {
  return error instanceof Error && error.name === "HTTPParserError";
}

export interface NetworkErrorContext {
  operation: string;
  method: string;
  /** Redacted URL. */
  url: string;
  signal?: AbortSignal | undefined;
  attempts?: number | undefined;
  elapsedMs?: number | undefined;
}

/** Turns whatever undici or Node threw into a TransportError with a message a person can act on. */
export function toTransportError(error: unknown, context: NetworkErrorContext): TransportError {
  if (TransportError.is(error)) return error;
  const where = `${context.method} ${context.url}`;
  const tries =
    context.attempts !== undefined && context.attempts > 1
      ? ` (gave up after ${context.attempts} attempts${context.elapsedMs === undefined ? "" : ` over ${(context.elapsedMs / 1000).toFixed(1)} s`})`
      : "";
  const base = {
    operation: context.operation,
    method: context.method,
    url: context.url,
    attempts: context.attempts,
    cause: error,
  };
  if (context.signal?.aborted) {
    const reason = context.signal.reason;
    const why = reason instanceof Error ? reason.message : String(reason);
    return new TransportError(`${where}: aborted (${why}).`, {
      ...base,
      code: "HOIST_TRANSPORT_ABORTED",
      cause: reason,
    });
  }
  const code = errorCode(error);
  const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
  if (code && TIMEOUT_CODES.has(code)) {
    const phase =
      code === "UND_ERR_CONNECT_TIMEOUT"
        ? "connecting"
        : code === "UND_ERR_BODY_TIMEOUT"
          ? "waiting for more of the response body"
          : "waiting for the response";
    return new TransportError(
      `${where}: timed out ${phase}${tries}. The registry or the network is too slow or stalled; try again or raise the transport's timeouts.`,
      { ...base, code: "HOIST_TRANSPORT_TIMEOUT", systemCode: code },
    );
  }
  if (code && isTlsCode(code)) {
    const hint =
      code === "ERR_SSL_WRONG_VERSION_NUMBER" || code === "EPROTO"
        ? "The server may not speak TLS at all (a plain-http registry needs to be declared insecure)."
        : "If the registry uses a private CA, pass it as tls.ca (or set NODE_EXTRA_CA_CERTS); skip verification only for registries you declared insecure.";
    return new TransportError(`${where}: TLS failed: ${detail} [${code}]. ${hint}`, {
      ...base,
      code: "HOIST_TRANSPORT_TLS",
      systemCode: code,
    });
  }
  const hint =
    code === "ECONNREFUSED"
      ? " Nothing is listening there; check the registry address and port."
      : code === "ENOTFOUND"
        ? " The host name does not resolve; check the registry address."
        : "";
  return new TransportError(`${where}: ${detail}${code ? ` [${code}]` : ""}${tries}.${hint}`, {
    ...base,
    code: "HOIST_TRANSPORT_NETWORK",
    systemCode: code,
  });
}
