import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Digest,
  NAME_ERROR_CODES,
  NameError,
  type ParseOptions,
  parseReference,
  Registry,
  Repository,
  Tag,
} from "./index.js";

const chars = (alphabet: string) => fc.constantFrom(...alphabet.split(""));
const word = (alphabet: string, maxLength: number) =>
  fc.string({ unit: chars(alphabet), minLength: 1, maxLength });

const LOWER_DIGITS = "abcdefghijklmnopqrstuvwxyz0123456789";
const label = word(`${LOWER_DIGITS}-`, 12);
const port = fc.integer({ min: 0, max: 65535 }).map(String);
const octet = fc.integer({ min: 0, max: 255 });
const hex4 = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));

const ipv6 = fc.oneof(
  fc.array(hex4, { minLength: 8, maxLength: 8 }).map((g) => g.join(":")),
  fc
    .tuple(fc.array(hex4, { maxLength: 3 }), fc.array(hex4, { maxLength: 3 }))
    .map(([a, b]) => `${a.join(":")}::${b.join(":")}`),
);

// Hosts that name a registry in the first path component: they contain "." or ":", or are
// "localhost".
const host = fc.oneof(
  fc.array(label, { minLength: 2, maxLength: 4 }).map((labels) => labels.join(".")),
  fc.constant("localhost"),
  fc.tuple(octet, octet, octet, octet).map((o) => o.join(".")),
  ipv6.map((a) => `[${a}]`),
  fc.constantFrom("docker.io", "index.docker.io", "ghcr.io", "127.0.0.1", "::1"),
);
const registry = fc.tuple(host, fc.option(port, { nil: undefined })).map(([h, p]) => {
  if (p === undefined) return h;
  return h === "::1" ? `[::1]:${p}` : `${h}:${p}`;
});

const component = word(`${LOWER_DIGITS}_.-`, 12);
const path = fc.array(component, { minLength: 1, maxLength: 4 }).map((c) => c.join("/"));
const tag = word(`${LOWER_DIGITS}ABCXYZ_.-`, 128);
const digest = fc.oneof(
  fc
    .string({ unit: chars("0123456789abcdef"), minLength: 64, maxLength: 64 })
    .map((h) => `sha256:${h}`),
  fc
    .string({ unit: chars("0123456789abcdef"), minLength: 128, maxLength: 128 })
    .map((h) => `sha512:${h}`),
);

/** Strings that are valid references under weak validation, in every shape. */
const validReference = fc
  .tuple(
    fc.option(registry, { nil: undefined }),
    path,
    fc.option(tag, { nil: undefined }),
    fc.option(digest, { nil: undefined }),
  )
  .map(([r, p, t, d]) => {
    let s = r === undefined ? p : `${r}/${p}`;
    if (t !== undefined) s += `:${t}`;
    if (d !== undefined) s += `@${d}`;
    return s;
  });

const options: fc.Arbitrary<ParseOptions> = fc.record(
  {
    strict: fc.boolean(),
    insecure: fc.boolean(),
    defaultRegistry: fc.constantFrom("index.docker.io", "registry.example.com", "localhost:5000"),
    defaultTag: fc.constantFrom("latest", "stable", "v1.0"),
  },
  { requiredKeys: [] },
);

function expectOnlyNameError(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!NameError.is(error)) throw error;
    expect(NAME_ERROR_CODES).toContain(error.code);
    expect(error.message).toMatch(/^Invalid /);
  }
}

describe("properties", () => {
  it("generated references parse, and parse(x.name).name === x.name", () => {
    fc.assert(
      fc.property(validReference, (s) => {
        const ref = parseReference(s);
        expect(ref.toString()).toBe(s);
        expect(ref.kind).toBe(s.includes("@") ? "digest" : "tag");
        expect(parseReference(ref.name).name).toBe(ref.name);
        expect(parseReference(ref.toString()).name).toBe(ref.name);
        const again = ref.kind === "tag" ? Tag.parse(ref.name) : Digest.parse(ref.name);
        expect(again.name).toBe(ref.name);
      }),
      { numRuns: 2000 },
    );
  });

  it("fully qualified names are valid under strict validation and unchanged by it", () => {
    fc.assert(
      fc.property(validReference, (s) => {
        const ref = parseReference(s);
        expect(parseReference(ref.name, { strict: true }).name).toBe(ref.name);
      }),
      { numRuns: 1000 },
    );
  });

  it("names are made of their parts", () => {
    fc.assert(
      fc.property(validReference, (s) => {
        const ref = parseReference(s);
        const sep = ref.kind === "tag" ? ":" : "@";
        expect(ref.name).toBe(`${ref.registry.host}/${ref.repository.path}${sep}${ref.identifier}`);
        expect(ref.repository.name).toBe(`${ref.registry.host}/${ref.repository.path}`);
        expect(Repository.parse(ref.repository.name).name).toBe(ref.repository.name);
        expect(Registry.parse(ref.registry.host).host).toBe(ref.registry.host);
        expect(ref.scope("pull")).toBe(`repository:${ref.repository.path}:pull`);
      }),
      { numRuns: 1000 },
    );
  });

  it("round trips with the same options when the default registry names a host", () => {
    fc.assert(
      fc.property(validReference, options, (s, opts) => {
        let ref: ReturnType<typeof parseReference>;
        try {
          ref = parseReference(s, opts);
        } catch (error) {
          // Strict validation refuses some of these; it must say so with a NameError.
          expect(opts.strict).toBe(true);
          expect(NameError.is(error)).toBe(true);
          return;
        }
        expect(parseReference(ref.name, opts).name).toBe(ref.name);
        if (opts.insecure) expect(ref.scheme).toBe("http");
      }),
      { numRuns: 1000 },
    );
  });

  it("a strict success is a weak success with the same name", () => {
    fc.assert(
      fc.property(validReference, (s) => {
        let strict: ReturnType<typeof parseReference> | undefined;
        try {
          strict = parseReference(s, { strict: true });
        } catch (error) {
          expect(NameError.is(error)).toBe(true);
        }
        if (strict !== undefined) expect(parseReference(s).name).toBe(strict.name);
      }),
      { numRuns: 1000 },
    );
  });

  const arbitraryStrings = fc.oneof(
    fc.string({ unit: "binary", maxLength: 300 }),
    fc.string({ unit: "grapheme", maxLength: 100 }),
    // Dense in the characters the grammar cares about, so deep paths are explored.
    fc.string({ unit: chars("aZ09._-/:@[]%#? \u00e9"), maxLength: 80 }),
    validReference.chain((s) =>
      fc
        .tuple(fc.nat(s.length), fc.string({ unit: "binary", maxLength: 3 }))
        .map(([at, insert]) => s.slice(0, at) + insert + s.slice(at + 1)),
    ),
  );

  it("arbitrary strings never throw anything but NameError", () => {
    fc.assert(
      fc.property(arbitraryStrings, fc.option(options, { nil: undefined }), (s, opts) => {
        expectOnlyNameError(() => parseReference(s, opts));
        expectOnlyNameError(() => Tag.parse(s, opts));
        expectOnlyNameError(() => Digest.parse(s, opts));
        expectOnlyNameError(() => Repository.parse(s, opts));
        expectOnlyNameError(() => Registry.parse(s, opts));
        expectOnlyNameError(() => Repository.parse("foo").tag(s));
        expectOnlyNameError(() => Repository.parse("foo").digest(s));
        expectOnlyNameError(() => Registry.parse("gcr.io").repository(s));
      }),
      { numRuns: 3000 },
    );
  });

  it("arbitrary values and options never throw anything but NameError", () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (value, opts) => {
        expectOnlyNameError(() => parseReference(value as string, opts as ParseOptions));
        expectOnlyNameError(() => Registry.parse(value as string, opts as ParseOptions));
      }),
      { numRuns: 1000 },
    );
  });

  it("a successful parse of an arbitrary string round trips", () => {
    fc.assert(
      fc.property(arbitraryStrings, (s) => {
        let ref: ReturnType<typeof parseReference>;
        try {
          ref = parseReference(s);
        } catch {
          return;
        }
        expect(ref.toString()).toBe(s);
        expect(parseReference(ref.name).name).toBe(ref.name);
      }),
      { numRuns: 3000 },
    );
  });
});
