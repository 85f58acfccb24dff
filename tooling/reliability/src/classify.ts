import { AuthnError } from "@hoist/authn";
import { LayoutError } from "@hoist/layout";
import { NameError } from "@hoist/name";
import { OciError } from "@hoist/oci";
import { RegistryError as EmbeddedRegistryError } from "@hoist/registry";
import { RemoteError } from "@hoist/remote";
import { TarballError } from "@hoist/tarball";
import { TransportError } from "@hoist/transport";

/** A package's error family: its name and the brand check every hoist error class has. */
export interface ErrorFamily {
  readonly name: string;
  readonly is: (value: unknown) => boolean;
}

/** Every error family hoist's packages throw. A failure outside these is "untyped". */
export const ERROR_FAMILIES: readonly ErrorFamily[] = [
  { name: "NameError", is: (v) => NameError.is(v) },
  { name: "OciError", is: (v) => OciError.is(v) },
  { name: "AuthnError", is: (v) => AuthnError.is(v) },
  { name: "TransportError", is: (v) => TransportError.is(v) },
  { name: "LayoutError", is: (v) => LayoutError.is(v) },
  { name: "RemoteError", is: (v) => RemoteError.is(v) },
  { name: "TarballError", is: (v) => TarballError.is(v) },
  { name: "RegistryError", is: (v) => EmbeddedRegistryError.is(v) },
];

const CODE = /^HOIST_[A-Z0-9]+(?:_[A-Z0-9]+)*$/;

export type Classification =
  | { readonly typed: true; readonly family: string; readonly code: string }
  | { readonly typed: false; readonly reason: string };

/**
 * Whether a failure is one a caller can act on: an instance of a hoist error family (by its
 * brand, not `instanceof`), with a stable `HOIST_*` code and a message. When `families` is
 * given, only those count (a parser must throw its own package's error, not another's).
 */
export function classifyError(
  error: unknown,
  families: readonly ErrorFamily[] = ERROR_FAMILIES,
): Classification {
  const family = families.find((candidate) => candidate.is(error));
  if (!family) return { typed: false, reason: describeUntyped(error) };
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code !== "string" || !CODE.test(code)) {
    return { typed: false, reason: `${family.name} without a HOIST_* code: ${String(code)}` };
  }
  if (typeof message !== "string" || message.trim() === "") {
    return { typed: false, reason: `${family.name} ${code} without a message` };
  }
  return { typed: true, family: family.name, code };
}

/** The families with these names (for "this parser throws only its own error class"). */
export function families(...names: string[]): ErrorFamily[] {
  return names.map((name) => {
    const found = ERROR_FAMILIES.find((family) => family.name === name);
    if (!found) throw new Error(`unknown error family ${name}`);
    return found;
  });
}

function describeUntyped(error: unknown): string {
  if (error instanceof Error) {
    const where = error.stack?.split("\n").slice(1, 3).join(" | ").trim() ?? "";
    return `${error.name}: ${error.message.slice(0, 300)}${where ? ` (${where})` : ""}`;
  }
  return `non-error thrown: ${String(error).slice(0, 300)}`;
}
