import { readFile } from "node:fs/promises";
import { z } from "zod";
import { type AuthEntry, decodeAuthField } from "./auth-entry.js";
import { AuthnError } from "./errors.js";

/**
 * "config": docker's config.json and the containers auth.json (same `auths` shape, plus
 * `credHelpers`/`credsStore`). "dockercfg": the legacy ~/.dockercfg, a bare map of entries.
 */
export type ConfigFormat = "config" | "dockercfg";

/** A config document, read and checked. */
export interface ParsedConfig {
  /** Where it came from: a file path, or "DOCKER_AUTH_CONFIG". */
  readonly source: string;
  /** The whole JSON document as read, unknown fields included (what login/logout rewrite). */
  readonly document: Record<string, unknown>;
  /** `auths` with `auth` decoded, in file order. */
  readonly auths: ReadonlyMap<string, AuthEntry>;
  readonly credHelpers: Readonly<Record<string, string>>;
  readonly credsStore?: string;
}

const optionalString = z.string().optional();

const entrySchema = z.looseObject({
  auth: optionalString,
  username: optionalString,
  password: optionalString,
  identitytoken: optionalString,
  registrytoken: optionalString,
  email: optionalString,
  serveraddress: optionalString,
});

const configSchema = z.looseObject({
  auths: z.record(z.string(), entrySchema).nullish(),
  credHelpers: z.record(z.string(), z.string()).nullish(),
  credsStore: z.string().nullish(),
});

const legacySchema = z.record(z.string(), entrySchema);

// docker reads DOCKER_AUTH_CONFIG strictly: only `auths` entries with a non-empty `auth`.
const envSchema = z.strictObject({
  auths: z.record(z.string(), z.strictObject({ auth: z.string().min(1) })),
});

type Entry = z.infer<typeof entrySchema>;

function invalid(source: string, detail: string, what = "config file"): AuthnError {
  const subject =
    source === "DOCKER_AUTH_CONFIG"
      ? "the DOCKER_AUTH_CONFIG environment variable"
      : `${what} "${source}"`;
  return new AuthnError(
    `${subject} is not valid: ${detail}. Fix or remove it; hoist never rewrites a config it cannot read.`,
    { code: "HOIST_AUTHN_CONFIG_INVALID", operation: "read credentials config", path: source },
  );
}

function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(String(part)))
      out += out ? `.${String(part)}` : String(part);
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out || "the document";
}

function zodDetail(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "unexpected shape";
  // zod's messages name the expected and received types, never the received value.
  return `${fieldPath(issue.path)}: ${issue.message}`;
}

/**
 * JSON.parse messages quote part of the input, which may be a password: keep only where the
 * error is, as line and column.
 */
function jsonDetail(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : "";
  const position = /at position (\d+)/.exec(message);
  if (position?.[1] !== undefined) {
    const offset = Number(position[1]);
    const before = text.slice(0, offset);
    const line = before.split("\n").length;
    const column = offset - before.lastIndexOf("\n");
    return `malformed JSON at line ${line}, column ${column}`;
  }
  if (/end of (JSON )?input/i.test(message)) return "malformed JSON: the document ends too early";
  return "malformed JSON";
}

function parseJson(text: string, source: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid(source, jsonDetail(text, error), what);
  }
}

function decodeEntries(
  entries: Record<string, Entry>,
  source: string,
  what: string,
): Map<string, AuthEntry> {
  const auths = new Map<string, AuthEntry>();
  for (const [key, entry] of Object.entries(entries)) {
    let { username, password } = entry;
    if (entry.auth) {
      const decoded = decodeAuthField(entry.auth);
      if (!decoded) {
        throw invalid(
          source,
          `the "auth" field of ${JSON.stringify(key)} is not base64 of "username:password"`,
          what,
        );
      }
      ({ username, password } = decoded);
    }
    auths.set(key, {
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(entry.identitytoken ? { identitytoken: entry.identitytoken } : {}),
      ...(entry.registrytoken ? { registrytoken: entry.registrytoken } : {}),
    });
  }
  return auths;
}

/** The ancient ~/.dockercfg text form: "auth = <base64>\nemail = <address>", for Docker Hub. */
function parseLegacyText(text: string, source: string): Record<string, Entry> | undefined {
  const first = text.split("\n")[0] ?? "";
  const match = /^auth\s*=\s*(\S+)\s*$/.exec(first);
  if (!match?.[1]) return undefined;
  if (!decodeAuthField(match[1])) {
    throw invalid(
      source,
      'the "auth" line is not base64 of "username:password"',
      "legacy docker config",
    );
  }
  return { "https://index.docker.io/v1/": { auth: match[1] } };
}

/**
 * Parses a config document. An empty document is an empty config, as docker reads it.
 * Throws HOIST_AUTHN_CONFIG_INVALID, naming the file and the field, never a value.
 */
export function parseConfig(text: string, source: string, format: ConfigFormat): ParsedConfig {
  const what = format === "dockercfg" ? "legacy docker config" : "config file";
  if (text.trim() === "") {
    return { source, document: {}, auths: new Map(), credHelpers: {} };
  }
  if (format === "dockercfg") {
    const legacy = parseLegacyText(text, source);
    const json = legacy ?? parseJson(text, source, what);
    const checked = legacySchema.safeParse(json);
    if (!checked.success) throw invalid(source, zodDetail(checked.error), what);
    return {
      source,
      document: { auths: checked.data },
      auths: decodeEntries(checked.data, source, what),
      credHelpers: {},
    };
  }
  const json = parseJson(text, source, what);
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw invalid(source, "the document is not a JSON object", what);
  }
  const checked = configSchema.safeParse(json);
  if (!checked.success) throw invalid(source, zodDetail(checked.error), what);
  const { auths, credHelpers, credsStore } = checked.data;
  return {
    source,
    document: json as Record<string, unknown>,
    auths: decodeEntries(auths ?? {}, source, what),
    credHelpers: credHelpers ?? {},
    ...(credsStore ? { credsStore } : {}),
  };
}

/** Parses DOCKER_AUTH_CONFIG: `{"auths": {"<registry>": {"auth": "<base64>"}}}` and nothing else. */
export function parseEnvConfig(text: string): ParsedConfig {
  const source = "DOCKER_AUTH_CONFIG";
  const json = parseJson(text, source, "environment variable");
  const checked = envSchema.safeParse(json);
  if (!checked.success) throw invalid(source, zodDetail(checked.error));
  return {
    source,
    document: json as Record<string, unknown>,
    auths: decodeEntries(checked.data.auths, source, "environment variable"),
    credHelpers: {},
  };
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

/**
 * Reads and parses a config file. Undefined when there is no file, or when the path is a
 * directory (an optional Kubernetes secret mounted where the file would be).
 */
export async function readConfigFile(
  path: string,
  format: ConfigFormat,
  options: { signal?: AbortSignal } = {},
): Promise<ParsedConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, {
      encoding: "utf8",
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    options.signal?.throwIfAborted();
    const code = errnoCode(error);
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return undefined;
    throw new AuthnError(
      `cannot read credentials config "${path}" (${code ?? "I/O error"}). Check its permissions, or point DOCKER_CONFIG/REGISTRY_AUTH_FILE elsewhere.`,
      {
        code: "HOIST_AUTHN_CONFIG_UNREADABLE",
        operation: "read credentials config",
        path,
        cause: error,
      },
    );
  }
  return parseConfig(text, path, format);
}
