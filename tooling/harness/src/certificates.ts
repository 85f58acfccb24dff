import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBinary } from "./system-binary.js";

/** A key pair and certificate on disk (PEM), removed by `remove()`. */
export interface TestCertificate {
  readonly certificatePem: string;
  readonly keyPem: string;
  readonly certificatePath: string;
  readonly keyPath: string;
  remove(): void;
}

export interface CertificateOptions {
  commonName: string;
  /** Subject alternative names: IP addresses. */
  ipAddresses?: readonly string[];
  /** Subject alternative names: DNS names. */
  dnsNames?: readonly string[];
  /** Sign with this CA instead of self-signing. */
  issuer?: TestCertificate;
  /** Make it a CA certificate (basicConstraints CA:TRUE). */
  ca?: boolean;
  days?: number;
}

function openssl(): string {
  return findBinary("openssl", { debianPackage: "openssl", candidates: ["/usr/bin/openssl"] });
}

/**
 * Creates an RSA certificate with the `openssl` CLI: self-signed, or issued by a test CA.
 * Node's crypto can sign but not build X.509 certificates, hence the CLI.
 */
export function createCertificate(options: CertificateOptions): TestCertificate {
  const bin = openssl();
  const dir = mkdtempSync(join(tmpdir(), "hoist-cert-"));
  const keyPath = join(dir, "key.pem");
  const certificatePath = join(dir, "cert.pem");
  const san = [
    ...(options.ipAddresses ?? []).map((ip) => `IP:${ip}`),
    ...(options.dnsNames ?? []).map((name) => `DNS:${name}`),
  ];
  const extensions = [
    options.ca ? "basicConstraints=critical,CA:TRUE" : "basicConstraints=CA:FALSE",
    options.ca
      ? "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
      : "keyUsage=digitalSignature,keyEncipherment",
    ...(san.length ? [`subjectAltName=${san.join(",")}`] : []),
  ];
  const extPath = join(dir, "ext.cnf");
  writeFileSync(extPath, `[v3]\n${extensions.join("\n")}\n`);
  const days = String(options.days ?? 2);
  const subject = `/CN=${options.commonName}`;
  const quiet = { stdio: ["ignore", "ignore", "pipe"] as ["ignore", "ignore", "pipe"] };
  if (options.issuer) {
    const csrPath = join(dir, "req.csr");
    execFileSync(
      bin,
      [
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        keyPath,
        "-out",
        csrPath,
        "-subj",
        subject,
      ],
      quiet,
    );
    execFileSync(
      bin,
      [
        "x509",
        "-req",
        "-in",
        csrPath,
        "-CA",
        options.issuer.certificatePath,
        "-CAkey",
        options.issuer.keyPath,
        "-CAcreateserial",
        "-out",
        certificatePath,
        "-days",
        days,
        "-extfile",
        extPath,
        "-extensions",
        "v3",
      ],
      quiet,
    );
  } else {
    execFileSync(
      bin,
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        keyPath,
        "-out",
        certificatePath,
        "-days",
        days,
        "-subj",
        subject,
        ...extensions.flatMap((ext) => ["-addext", ext]),
      ],
      quiet,
    );
  }
  return {
    certificatePem: readFileSync(certificatePath, "utf8"),
    keyPem: readFileSync(keyPath, "utf8"),
    certificatePath,
    keyPath,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
