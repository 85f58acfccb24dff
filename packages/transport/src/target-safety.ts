import { BlockList, isIPv4, isIPv6 } from "node:net";
import { TransportError } from "./errors.js";
import { redactUrl } from "./redact.js";

/** Where an address points, from the point of view of a request leaving this machine. */
export type AddressClass =
  | "public"
  | "private"
  | "loopback"
  | "link-local"
  | "metadata"
  | "unspecified";

function blockList(v4: string[], v6: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of v4) {
    const [net, bits] = cidr.split("/");
    list.addSubnet(net as string, Number(bits), "ipv4");
  }
  for (const cidr of v6) {
    const [net, bits] = cidr.split("/");
    list.addSubnet(net as string, Number(bits), "ipv6");
  }
  return list;
}

// Cloud metadata endpoints: AWS/GCP/Azure/OpenStack (169.254.169.254), AWS IPv6, Alibaba, Oracle.
const METADATA = blockList(
  ["169.254.169.254/32", "169.254.170.2/32", "100.100.100.200/32", "192.0.0.192/32"],
  ["fd00:ec2::254/128"],
);
const UNSPECIFIED = blockList(["0.0.0.0/8"], ["::/128"]);
const LOOPBACK = blockList(["127.0.0.0/8"], ["::1/128"]);
const LINK_LOCAL = blockList(["169.254.0.0/16"], ["fe80::/10"]);
const PRIVATE = blockList(
  ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"],
  ["fc00::/7"],
);
const METADATA_NAMES = new Set(["metadata.google.internal", "metadata", "instance-data"]);

/** "[::1]" → "::1"; IPv4-mapped IPv6 ("::ffff:7f00:1") → its IPv4 form. */
function normaliseAddress(
  hostname: string,
): { address: string; family: "ipv4" | "ipv6" } | undefined {
  const bare =
    hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  if (isIPv4(bare)) return { address: bare, family: "ipv4" };
  if (!isIPv6(bare)) return undefined;
  const lower = bare.toLowerCase();
  const mapped = /^(?:0{0,4}:){0,5}:?ffff:(.+)$/.exec(lower)?.[1];
  if (mapped) {
    if (isIPv4(mapped)) return { address: mapped, family: "ipv4" };
    const parts = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(mapped);
    if (parts?.[1] && parts[2]) {
      const high = Number.parseInt(parts[1], 16);
      const low = Number.parseInt(parts[2], 16);
      return {
        address: `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`,
        family: "ipv4",
      };
    }
  }
  return { address: lower, family: "ipv6" };
}

/**
 * Classifies a URL host name. IP literals are classified exactly; DNS names are not resolved
 * (that would race with the real connection), except the well-known `localhost` and metadata
 * names.
 */
export function classifyHost(hostname: string): AddressClass {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return "loopback";
  if (METADATA_NAMES.has(host)) return "metadata";
  const ip = normaliseAddress(host);
  if (!ip) return "public";
  if (METADATA.check(ip.address, ip.family)) return "metadata";
  if (UNSPECIFIED.check(ip.address, ip.family)) return "unspecified";
  if (LOOPBACK.check(ip.address, ip.family)) return "loopback";
  if (LINK_LOCAL.check(ip.address, ip.family)) return "link-local";
  if (PRIVATE.check(ip.address, ip.family)) return "private";
  return "public";
}

/**
 * Whether a server in class `source` may send us on to class `target`. A public registry may
 * not point a client at this machine, its network, or the cloud metadata service; a registry
 * that is itself on such an address may point at its neighbours.
 */
export function mayReach(source: AddressClass, target: AddressClass): boolean {
  switch (target) {
    case "public":
      return true;
    case "loopback":
      return source === "loopback";
    case "private":
      return source === "loopback" || source === "private";
    case "link-local":
    case "metadata":
      return source === "link-local" || source === "metadata";
    case "unspecified":
      return false;
  }
}

/**
 * Checks a token realm from a registry's challenge. Throws HOIST_TRANSPORT_UNSAFE_REALM unless
 * the realm is http(s), is not a downgrade from an https registry, and does not point at an
 * address the registry itself could not legitimately send us to.
 */
export function checkRealm(realm: string, registryUrl: URL): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch (cause) {
    throw unsafeRealm(realm, registryUrl, "it is not an absolute URL", cause);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw unsafeRealm(realm, registryUrl, `its scheme is ${url.protocol.replace(":", "")}`);
  }
  if (registryUrl.protocol === "https:" && url.protocol === "http:") {
    throw unsafeRealm(realm, registryUrl, "it would downgrade an https registry to plain http");
  }
  if (url.username || url.password) {
    throw unsafeRealm(realm, registryUrl, "it carries user info");
  }
  if (url.host === registryUrl.host) return url;
  const source = classifyHost(registryUrl.hostname);
  const target = classifyHost(url.hostname);
  if (!mayReach(source, target)) {
    throw unsafeRealm(
      realm,
      registryUrl,
      `it points at a ${target} address while the registry is ${source === "public" ? "a public host" : `on a ${source} address`}`,
    );
  }
  return url;
}

function unsafeRealm(
  realm: string,
  registryUrl: URL,
  why: string,
  cause?: unknown,
): TransportError {
  return new TransportError(
    `Refusing token realm "${redactUrl(realm)}" from ${registryUrl.host}: ${why}. ` +
      "A registry's challenge must not send credentials or requests elsewhere; check the registry address.",
    {
      code: "HOIST_TRANSPORT_UNSAFE_REALM",
      operation: "token exchange",
      url: redactUrl(realm),
      cause,
    },
  );
}

/**
 * Checks a redirect (or an absolute URL handed back by a registry, such as an upload location)
 * before it is followed. `trusted` is the origin the caller chose to talk to.
 */
export function checkTarget(target: URL, trusted: URL, operation: string): void {
  if (target.protocol !== "https:" && target.protocol !== "http:") {
    throw unsafeTarget(
      target,
      trusted,
      `its scheme is ${target.protocol.replace(":", "")}`,
      operation,
    );
  }
  if (target.username || target.password) {
    throw unsafeTarget(target, trusted, "it carries user info", operation);
  }
  if (target.hostname === trusted.hostname) return;
  const source = classifyHost(trusted.hostname);
  const destination = classifyHost(target.hostname);
  if (!mayReach(source, destination)) {
    throw unsafeTarget(
      target,
      trusted,
      `it points at a ${destination} address while ${trusted.host} is ${source === "public" ? "a public host" : `on a ${source} address`}`,
      operation,
    );
  }
}

function unsafeTarget(target: URL, trusted: URL, why: string, operation: string): TransportError {
  return new TransportError(
    `Refusing to follow ${redactUrl(target)} from ${trusted.host}: ${why}.`,
    { code: "HOIST_TRANSPORT_UNSAFE_TARGET", operation, url: redactUrl(target) },
  );
}
