import { messageOf } from "./errors.js";

// Turns any failure into the one line a person reads on stderr. The libraries' typed errors
// (matched by their stable `code`, never by message text, and without importing the libraries,
// which keeps start-up light) get a hint saying what to do next.

interface Coded {
  code?: unknown;
  reference?: unknown;
  status?: unknown;
  url?: unknown;
  realm?: unknown;
  errors?: unknown;
  cause?: unknown;
}

function chain(error: unknown): Coded[] {
  const out: Coded[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 10 && typeof current === "object" && current !== null; depth++) {
    out.push(current as Coded);
    current = (current as Coded).cause;
  }
  return out;
}

function hostOf(url: unknown): string | undefined {
  if (typeof url !== "string") return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/** The registry part of a reference string ("127.0.0.1:5000/a/b:c" → "127.0.0.1:5000"). */
function registryOf(reference: unknown): string | undefined {
  if (typeof reference !== "string") return undefined;
  const first = reference.split("/")[0] ?? "";
  return first.includes(".") || first.includes(":") || first === "localhost" ? first : undefined;
}

function registryCodes(error: Coded): string[] {
  if (!Array.isArray(error.errors)) return [];
  return error.errors
    .map((entry) => (entry as { code?: unknown }).code)
    .filter((code): code is string => typeof code === "string");
}

function loginHint(host: string | undefined): string {
  const target = host ?? "REGISTRY";
  return `log in with "hoist auth login ${target} -u USER -p PASSWORD", or put credentials for ${target} in $DOCKER_CONFIG/config.json`;
}

const TLS_HINT = "if the registry serves plain http or an untrusted certificate, pass --insecure";

/** What to do next, from the first typed error in the cause chain that has a useful answer. */
export function hintFor(error: unknown): string | undefined {
  const entries = chain(error);
  // A TLS failure anywhere explains the rest (the plain-http fallback that followed it, say);
  // so does Go's answer to plain http on a TLS port.
  if (entries.some((entry) => entry.code === "HOIST_TRANSPORT_TLS")) return TLS_HINT;
  if (
    entries.some((entry) =>
      /HTTP request to an HTTPS server/.test(String((entry as Error).message)),
    )
  ) {
    return "the registry speaks https with a certificate that is not trusted here: pass --insecure";
  }
  for (const entry of entries) {
    const code = typeof entry.code === "string" ? entry.code : undefined;
    if (!code) continue;
    const status = typeof entry.status === "number" ? entry.status : undefined;
    switch (code) {
      case "HOIST_TRANSPORT_REGISTRY_ERROR": {
        const codes = registryCodes(entry);
        if (status === 401) return loginHint(hostOf(entry.url));
        if (status === 403 || codes.includes("DENIED")) {
          return "the registry refused access: check that these credentials may do this in this repository";
        }
        if (codes.includes("MANIFEST_UNKNOWN") || codes.includes("NAME_UNKNOWN")) {
          return 'check the repository and tag with "hoist ls REPOSITORY"';
        }
        if (status === 429 || codes.includes("TOOMANYREQUESTS")) {
          return "the registry is rate limiting: wait and try again, or log in for a higher limit";
        }
        return undefined;
      }
      case "HOIST_REMOTE_UNAUTHORIZED":
        return loginHint(registryOf(entry.reference));
      case "HOIST_REMOTE_DENIED":
        return "the registry refused access: check that these credentials may do this in this repository";
      case "HOIST_REMOTE_NOT_FOUND":
        return 'check the repository and tag with "hoist ls REPOSITORY"';
      case "HOIST_REMOTE_NO_MATCHING_PLATFORM":
        return 'see which platforms the index has with "hoist index list IMAGE", then pass one with --platform';
      case "HOIST_TRANSPORT_TOKEN_EXCHANGE":
        if (status === 401) return loginHint(hostOf(entry.realm));
        return undefined;
      case "HOIST_TRANSPORT_NETWORK":
      case "HOIST_TRANSPORT_PING_FAILED":
        return "is the registry running and reachable from here?";
      case "HOIST_TRANSPORT_TIMEOUT":
        return "the registry stopped answering; try again, or check the network";
      case "HOIST_AUTHN_CONFIG_INVALID":
        return "fix or remove the config file named above";
      case "HOIST_AUTHN_HELPER_NOT_FOUND":
        return "install the credential helper, or remove it from credHelpers/credsStore in the docker config";
      default:
        break;
    }
  }
  return undefined;
}

/**
 * The one line printed after "Error: ". Newlines in messages (a registry's multi-line detail,
 * a list of validation problems) are folded so that the output stays one line.
 */
export function describeError(error: unknown): string {
  const message =
    messageOf(error)
      .replace(/\s*\n\s*/g, "; ")
      .trim() || "unknown error";
  const hint = hintFor(error);
  return hint && !message.includes(hint) ? `${message} (${hint})` : message;
}

/** The stack of every error in the chain, for `--verbose`. */
export function verboseDetail(error: unknown): string {
  const parts: string[] = [];
  for (const entry of chain(error)) {
    const stack = (entry as { stack?: unknown }).stack;
    const code = typeof entry.code === "string" ? ` [${entry.code}]` : "";
    parts.push(typeof stack === "string" ? `${stack}${code}` : `${String(entry)}${code}`);
  }
  return parts.join("\nCaused by: ");
}
