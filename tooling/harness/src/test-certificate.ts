import { createCertificate } from "./certificates.js";

/** A throwaway CA and a server certificate it signed for loopback, on disk and in memory. */
export interface ServerCertificate {
  /** The CA certificate (PEM): what clients trust, e.g. through NODE_EXTRA_CA_CERTS. */
  readonly ca: string;
  readonly caPath: string;
  /** The server certificate (PEM) and its private key, for https.createServer. */
  readonly cert: string;
  readonly key: string;
  remove(): Promise<void>;
}

/**
 * Makes a CA and a server certificate for 127.0.0.1, ::1 and localhost (plus `hosts`), for
 * tests of clients and SDKs that insist on https.
 */
export async function createServerCertificate(
  options: { hosts?: readonly string[] } = {},
): Promise<ServerCertificate> {
  const hosts = ["127.0.0.1", "::1", "localhost", ...(options.hosts ?? [])];
  const isIp = (host: string) => /^[\d.]+$/.test(host) || host.includes(":");
  const ca = createCertificate({ commonName: "hoist test CA", ca: true });
  const leaf = createCertificate({
    commonName: "localhost",
    ipAddresses: hosts.filter(isIp),
    dnsNames: hosts.filter((host) => !isIp(host)),
    issuer: ca,
  });
  return {
    ca: ca.certificatePem,
    caPath: ca.certificatePath,
    cert: leaf.certificatePem,
    key: leaf.keyPem,
    remove: async () => {
      leaf.remove();
      ca.remove();
    },
  };
}
