import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OciError } from "./errors.js";
import { Hash } from "./hash.js";

const HEX64 = "a".repeat(64);
const HEX128 = "0123456789abcdef".repeat(8);

function codeOf(input: string): string | undefined {
  try {
    Hash.parse(input);
    return undefined;
  } catch (error) {
    expect(OciError.is(error)).toBe(true);
    return (error as OciError).code;
  }
}

describe("Hash.parse", () => {
  it.each([
    [`sha256:${HEX64}`, "sha256", HEX64],
    [`sha512:${HEX128}`, "sha512", HEX128],
    [`sha256:${"0123456789abcdef".repeat(4)}`, "sha256", "0123456789abcdef".repeat(4)],
  ])("accepts %s", (input, algorithm, hex) => {
    const hash = Hash.parse(input);
    expect(hash.algorithm).toBe(algorithm);
    expect(hash.hex).toBe(hex);
    expect(hash.toString()).toBe(input);
    expect(JSON.stringify({ digest: hash })).toBe(`{"digest":"${input}"}`);
  });

  it.each([
    ["", "empty"],
    ["sha256", "no separator"],
    [":abc", "no algorithm"],
    ["sha256:", "no hex"],
    [`sha256:${"a".repeat(63)}`, "one short"],
    [`sha256:${"a".repeat(65)}`, "one long"],
    [`sha256:${"A".repeat(64)}`, "uppercase hex"],
    [`SHA256:${HEX64}`, "uppercase algorithm"],
    [`sha256:${"g".repeat(64)}`, "not hex"],
    [`sha256:${HEX64} `, "trailing space"],
    [` sha256:${HEX64}`, "leading space"],
    [`sha256:${HEX64}\n`, "trailing newline"],
    [`sha512:${HEX64}`, "sha512 with sha256 length"],
    ["sha256:../../etc/passwd", "path traversal"],
    [`sha256:../${"a".repeat(61)}`, "traversal padded to 64"],
    [`sha256:${"a".repeat(32)}/${"a".repeat(31)}`, "slash in hex"],
    [`sha256:${HEX64}:${HEX64}`, "two separators"],
    ["../sha256:abc", "traversal before"],
    [`sha256:${"a".repeat(62)}%2f`, "url-encoded slash"],
    [`sha256:${"a".repeat(63)}\u0000`, "NUL byte"],
  ])("refuses %j (%s) with HOIST_OCI_INVALID_DIGEST", (input) => {
    expect(codeOf(input)).toBe("HOIST_OCI_INVALID_DIGEST");
  });

  it.each([
    [`sha384:${"a".repeat(96)}`],
    [`blake3:${HEX64}`],
    ["md5:d41d8cd98f00b204e9800998ecf8427e"],
    [`multihash+base58:${"Q".repeat(46)}`],
  ])("refuses well-formed digests of other algorithms: %s", (input) => {
    expect(codeOf(input)).toBe("HOIST_OCI_UNSUPPORTED_ALGORITHM");
  });

  it("quotes the input and says what to do", () => {
    let error: OciError | undefined;
    try {
      Hash.parse("sha256:../../x");
    } catch (caught) {
      error = caught as OciError;
    }
    expect(error?.message).toBe(
      'invalid digest "sha256:../../x": expected exactly 64 lowercase hex characters after "sha256:"',
    );
    expect(error?.operation).toBe("parse digest");
    expect(error?.input).toBe("sha256:../../x");
  });

  it("keeps messages short for huge inputs", () => {
    const input = `sha256:${"x".repeat(1_000_000)}`;
    try {
      Hash.parse(input);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(400);
      expect((error as OciError).input).toBeUndefined();
    }
  });

  it("refuses non-strings with a typed error", () => {
    expect(codeOf(42 as unknown as string)).toBe("HOIST_OCI_INVALID_DIGEST");
    expect(codeOf(undefined as unknown as string)).toBe("HOIST_OCI_INVALID_DIGEST");
  });

  it("isValid agrees with parse", () => {
    expect(Hash.isValid(`sha256:${HEX64}`)).toBe(true);
    expect(Hash.isValid("sha256:../x")).toBe(false);
    expect(Hash.isValid(7)).toBe(false);
  });
});

describe("Hash.compute", () => {
  it("hashes bytes and strings with sha256 by default", () => {
    expect(Hash.compute("").toString()).toBe(
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    expect(Hash.compute(Buffer.from("{}")).toString()).toBe(
      "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    );
  });

  it("hashes with sha512 on request", () => {
    expect(Hash.compute("", { algorithm: "sha512" }).toString()).toBe(
      "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    );
  });

  it("refuses unknown algorithms", () => {
    expect(() => Hash.compute("", { algorithm: "md5" as "sha256" })).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_UNSUPPORTED_ALGORITHM" }),
    );
  });
});

describe("Hash values", () => {
  it("compares by algorithm and hex, and with strings", () => {
    const a = Hash.parse(`sha256:${HEX64}`);
    expect(a.equals(Hash.parse(`sha256:${HEX64}`))).toBe(true);
    expect(a.equals(`sha256:${HEX64}`)).toBe(true);
    expect(a.equals(`sha256:${"b".repeat(64)}`)).toBe(false);
    expect(a.equals(Hash.compute("x"))).toBe(false);
  });

  it("is immutable", () => {
    const hash = Hash.parse(`sha256:${HEX64}`);
    expect(Object.isFrozen(hash)).toBe(true);
    expect(() => {
      (hash as { hex: string }).hex = "../x";
    }).toThrow(TypeError);
  });
});

describe("Hash properties", () => {
  it("any string is either a Hash whose string form is the input, or an OciError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), digestLike()), (input) => {
        let hash: Hash | undefined;
        try {
          hash = Hash.parse(input);
        } catch (error) {
          expect(OciError.is(error)).toBe(true);
          return;
        }
        expect(hash.toString()).toBe(input);
        // The guard that keeps digests out of path trouble:
        expect(hash.hex).toMatch(/^[a-f0-9]+$/);
        expect(input).not.toMatch(/[/\\.]/);
      }),
      { numRuns: 2000 },
    );
  });

  it("every lowercase hex of the right length round-trips", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(["sha256", 64] as const, ["sha512", 128] as const),
        fc.array(fc.constantFrom(..."0123456789abcdef"), { minLength: 128, maxLength: 128 }),
        ([algorithm, length], characters) => {
          const input = `${algorithm}:${characters.slice(0, length).join("")}`;
          const hash = Hash.parse(input);
          expect(hash.toString()).toBe(input);
          expect(Hash.parse(hash.toString()).equals(hash)).toBe(true);
        },
      ),
    );
  });
});

// Strings close to digests, so the property test explores the edges rather than noise.
function digestLike(): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.constantFrom("sha256", "sha512", "sha384", "SHA256", "", "sha256:sha256"),
      fc.constantFrom(":", "", "::", "/"),
      fc.array(fc.constantFrom(..."0123456789abcdefABCDEF./-_=g"), {
        minLength: 60,
        maxLength: 130,
      }),
    )
    .map(([algorithm, separator, characters]) => `${algorithm}${separator}${characters.join("")}`);
}
