import { Hash, MediaType } from "@hoist/oci";
import { describe, expect, it } from "vitest";
import { RemoteError } from "./errors.js";
import { parseSchema1, schema1PayloadDigest } from "./schema1.js";

// Served by Debian's docker-registry 2.8.2 for an image skopeo converted to schema 1; the
// registry named it by the Docker-Content-Digest below.
const SERVED =
  '{"name":"s/old","tag":"v1","architecture":"amd64","fsLayers":[{"blobSum":"sha256:3fdd7b4dc2d5f776c9746a8dc9f1b208ede70d9c80a87922afbe9816b53c6757"}],"history":[{"v1Compatibility":"{\\"architecture\\":\\"amd64\\",\\"id\\":\\"b4a6cbec792b1640bc42e668acbed2aa6a0d41a500bf9485800879efd188412d\\",\\"os\\":\\"linux\\"}"}],"schemaVersion":1,"signatures":[{"header":{"jwk":{"crv":"P-256","kid":"ZHQE:C4OH:6XU4:2Y24:SRWW:3IY2:4VCM:UZQY:67VA:ALFF:D66U:LL4R","kty":"EC","x":"sJ-f_haljfosddlfoVHjrJEdHfR3Cn4RpZqGERXr-DA","y":"H2WwR2JK4Q5TpwXSGbIauAt7rm_8a2OxsJai5Nq7UdQ"},"alg":"ES256"},"signature":"EIcg1RitGaQm-QyRuA1RrxSmP9XoRLA6atbPdPBflL0bv8yOZiV2t4J6X9Y5XiNBfup2GGwQk_zFGREeeaf8Fw","protected":"eyJmb3JtYXRMZW5ndGgiOjMyMiwiZm9ybWF0VGFpbCI6ImZRIiwidGltZSI6IjIwMjYtMTEtMjZUMTg6MjM6MjBaIn0"}]}';
const REGISTRY_DIGEST = "sha256:8000940296adf549c2aa7840d3875dbd577e0b8b4c0996b91b712abfe8b275e7";

describe("schema 1", () => {
  it("names a signed manifest by the digest of its signed payload, as registries do", () => {
    const bytes = new TextEncoder().encode(SERVED);
    expect(schema1PayloadDigest(bytes)?.toString()).toBe(REGISTRY_DIGEST);
    expect(Hash.compute(bytes).toString()).not.toBe(REGISTRY_DIGEST);
  });

  it("has no payload digest without a usable signature block", () => {
    const unsigned = { schemaVersion: 1, fsLayers: [] };
    const cases = [
      JSON.stringify(unsigned),
      JSON.stringify({ ...unsigned, signatures: [] }),
      JSON.stringify({ ...unsigned, signatures: [{ protected: "!!" }] }),
      JSON.stringify({
        ...unsigned,
        signatures: [
          {
            protected: Buffer.from('{"formatLength":999999,"formatTail":"fQ"}').toString(
              "base64url",
            ),
          },
        ],
      }),
      "not json",
    ];
    for (const text of cases)
      expect(schema1PayloadDigest(new TextEncoder().encode(text))).toBeUndefined();
  });

  it("lists blobs base first, repeats kept", () => {
    const a = `sha256:${"a".repeat(64)}`;
    const b = `sha256:${"b".repeat(64)}`;
    const raw = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 1,
        fsLayers: [{ blobSum: a }, { blobSum: b }, { blobSum: a }],
      }),
    );
    const parsed = parseSchema1(raw, MediaType.DOCKER_MANIFEST_SCHEMA1, Hash.compute(raw), "r:t");
    expect(parsed.layers.map(String)).toEqual([a, b, a]);
  });

  it("refuses what is not a schema 1 manifest with a typed error", () => {
    for (const text of [
      "[]",
      '{"schemaVersion":2}',
      '{"schemaVersion":1,"fsLayers":[{"blobSum":"md5:x"}]}',
      "{",
    ]) {
      const raw = new TextEncoder().encode(text);
      const error = (() => {
        try {
          parseSchema1(raw, MediaType.DOCKER_MANIFEST_SCHEMA1, Hash.compute(raw), "r:t");
        } catch (caught) {
          return caught;
        }
        throw new Error("expected an error");
      })();
      expect(RemoteError.is(error)).toBe(true);
      expect((error as RemoteError).code).toBe("HOIST_REMOTE_BAD_RESPONSE");
    }
  });
});
