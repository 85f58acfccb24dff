import { createHash, generateKeyPairSync, sign } from "node:crypto";

// Docker schema 1 manifests are JWS-signed JSON in libtrust's "pretty signature" form: the
// payload is the JSON up to its closing brace, and each signature's protected header says where
// (formatLength) and what the tail is (formatTail). Registries name such a manifest by the
// sha256 of that payload. This builds one, signed with a fresh P-256 key, for registries that
// cannot be made to produce one themselves.

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** libtrust's key ID: base32 of the first 240 bits of sha256(DER SPKI), in 12 groups of 4. */
function keyId(spki: Buffer): string {
  const id = base32(createHash("sha256").update(spki).digest().subarray(0, 30));
  return id.match(/.{4}/g)?.join(":") ?? id;
}

export interface SignedSchema1 {
  bytes: Buffer;
  /** sha256 of the signed payload: what a registry calls this manifest. */
  digest: string;
}

/** A signed schema 1 manifest naming `layers` (compressed blob digests, base first). */
export function signedSchema1(options: {
  name: string;
  tag: string;
  layers: readonly string[];
}): SignedSchema1 {
  const fsLayers = [...options.layers].reverse().map((blobSum) => ({ blobSum }));
  const history = fsLayers.map((_, i) => ({
    v1Compatibility: JSON.stringify({
      id: `${i}`.padStart(64, "0"),
      architecture: "amd64",
      os: "linux",
    }),
  }));
  const payload = Buffer.from(
    JSON.stringify(
      {
        schemaVersion: 1,
        name: options.name,
        tag: options.tag,
        architecture: "amd64",
        fsLayers,
        history,
      },
      null,
      3,
    ),
  );
  const close = payload.lastIndexOf("}");
  let formatLength = close;
  while (formatLength > 0 && /\s/.test(String.fromCharCode(payload[formatLength - 1] ?? 0))) {
    formatLength--;
  }
  const tail = payload.subarray(formatLength);
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const spki = publicKey.export({ format: "der", type: "spki" });
  const protectedHeader = Buffer.from(
    JSON.stringify({
      formatLength,
      formatTail: tail.toString("base64url"),
      time: "2026-01-01T00:00:00Z",
    }),
  ).toString("base64url");
  const signingInput = `${protectedHeader}.${payload.toString("base64url")}`;
  const signature = sign("sha256", Buffer.from(signingInput), {
    key: privateKey,
    dsaEncoding: "ieee-p1363",
  }).toString("base64url");
  const signatures = [
    {
      header: {
        jwk: { crv: jwk.crv, kid: keyId(spki), kty: jwk.kty, x: jwk.x, y: jwk.y },
        alg: "ES256",
      },
      signature,
      protected: protectedHeader,
    },
  ];
  const bytes = Buffer.concat([
    payload.subarray(0, formatLength),
    Buffer.from(
      `,\n   "signatures": ${JSON.stringify(signatures, null, 3).replace(/\n/g, "\n   ")}`,
    ),
    tail,
  ]);
  return { bytes, digest: `sha256:${createHash("sha256").update(payload).digest("hex")}` };
}
