import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { findBinary } from "./system-binary.js";

const run = promisify(execFile);

/** A throwaway certificate authority and a server certificate it signed, on disk and in memory. */
export interface TestCertificate {
  /** The CA certificate (PEM): what clients trust, e.g. through NODE_EXTRA_CA_CERTS. */
  readonly ca: string;
  readonly caPath: string;
  /** The server certificate (PEM) and its private key, for https.createServer. */
  readonly cert: string;
  readonly key: string;
  remove(): Promise<void>;
}

/**
 * Makes a CA and a server certificate for 127.0.0.1 and localhost (plus `hosts`) with the real
 * openssl, valid for two days. For tests of SDKs that insist on https.
 */
export async function createTestCertificate(
  options: { hosts?: readonly string[] } = {},
): Promise<TestCertificate> {
  const openssl = findBinary("openssl", { debianPackage: "openssl" });
  const dir = await mkdtemp(join(tmpdir(), "hoist-tls-"));
  const hosts = ["127.0.0.1", "localhost", ...(options.hosts ?? [])];
  const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(",");
  const file = (name: string) => join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await run(openssl, [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=hoist test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await run(openssl, [
    "req",
    ...ec,
    "-keyout",
    file("server.key"),
    "-out",
    file("server.csr"),
    "-subj",
    "/CN=localhost",
  ]);
  await writeFile(
    file("server.ext"),
    `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n`,
  );
  await run(openssl, [
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.pem"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-out",
    file("server.pem"),
    "-days",
    "2",
    "-extfile",
    file("server.ext"),
  ]);
  const [ca, cert, key] = await Promise.all(
    ["ca.pem", "server.pem", "server.key"].map((name) => readFile(file(name), "utf8")),
  );
  return {
    ca: ca as string,
    caPath: file("ca.pem"),
    cert: cert as string,
    key: key as string,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
