import type { Readable } from "node:stream";
import { z } from "zod";
import { scrubSecrets } from "./echoed-secrets.js";
import { type RegistryDiagnostic, RegistryError } from "./errors.js";
import { parseRateLimit, type RateLimit } from "./rate-limit.js";
import { readLimited } from "./response.js";
import { parseRetryAfter, type RetryPolicy, TEMPORARY_REGISTRY_CODES } from "./retry-policy.js";

/** Error and token bodies are read up to this size; registries never need more. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** How much of a non-JSON error body is quoted in a message. */
const MAX_QUOTED_BODY_CHARS = 1024;

const errorBodySchema = z.object({
  errors: z
    .array(
      z.looseObject({
        code: z.string().max(256),
        message: z
          .string()
          .max(64 * 1024)
          .optional(),
        detail: z.unknown().optional(),
      }),
    )
    .max(1000),
});

/** Parses `{"errors":[{code,message,detail}]}`; anything else gives no diagnostics. */
export function parseRegistryErrorBody(text: string): RegistryDiagnostic[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return [];
  }
  const parsed = errorBodySchema.safeParse(json);
  if (!parsed.success) return [];
  return parsed.data.errors.map((entry) => ({
    code: entry.code,
    message: entry.message ?? "",
    ...(entry.detail !== undefined ? { detail: entry.detail } : {}),
  }));
}

/** Whether a status and its diagnostics are transient under a policy. */
export function isTemporaryAnswer(
  status: number,
  diagnostics: readonly RegistryDiagnostic[],
  policy: RetryPolicy,
): boolean {
  if (!policy.statuses.includes(status)) return false;
  return (
    diagnostics.length === 0 ||
    diagnostics.every((entry) => TEMPORARY_REGISTRY_CODES.has(entry.code))
  );
}

export interface BufferedBody {
  bytes: Buffer;
  truncated: boolean;
}

/** Reads at most 64 KiB of an error body, dropping the rest. */
export async function bufferErrorBody(
  body: Readable,
  describe: () => { method: string; url: string },
  signal?: AbortSignal,
): Promise<BufferedBody> {
  try {
    return await readLimited(body, MAX_ERROR_BODY_BYTES, { truncate: true, describe, signal });
  } catch {
    // A body that breaks off is still an error answer; report what the status says.
    return { bytes: Buffer.alloc(0), truncated: true };
  }
}

export interface RegistryErrorInput {
  operation: string;
  method: string;
  /** Redacted URL. */
  url: string;
  status: number;
  statusText: string;
  headers: Headers;
  body: BufferedBody;
  policy: RetryPolicy;
  now: number;
  attempts?: number | undefined;
  elapsedMs?: number | undefined;
  hint?: string | undefined;
  /** What the request carried (credentials, tokens): removed wherever the server echoes them. */
  secrets?: readonly string[] | undefined;
}

/** Builds the RegistryError for an answer the caller did not accept. */
export function buildRegistryError(input: RegistryErrorInput): RegistryError {
  const text = scrubSecrets(input.body.bytes.toString("utf8"), input.secrets ?? []);
  const errors = parseRegistryErrorBody(text);
  let quoted: string | undefined;
  if (errors.length === 0 && text.trim()) {
    const printable = text.replace(/[^\x20-\x7e\n\t]/g, "?").trim();
    quoted =
      printable.length > MAX_QUOTED_BODY_CHARS || input.body.truncated
        ? `${printable.slice(0, MAX_QUOTED_BODY_CHARS)}… (truncated)`
        : printable;
  }
  const rateLimit: RateLimit | undefined = parseRateLimit(input.headers);
  return new RegistryError({
    operation: input.operation,
    method: input.method,
    url: input.url,
    status: input.status,
    statusText: input.statusText,
    errors,
    body: quoted,
    isTemporary: isTemporaryAnswer(input.status, errors, input.policy),
    retryAfterMs: parseRetryAfter(input.headers.get("retry-after"), input.now),
    rateLimit,
    attempts: input.attempts,
    elapsedMs: input.elapsedMs,
    hint: input.hint,
  });
}
