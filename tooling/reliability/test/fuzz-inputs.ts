import fc from "fast-check";

/** Strings of any code points (lone surrogates and control characters included). */
export const anyString = (maxLength = 200) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: "binary", maxLength }),
    fc.string({ unit: "grapheme", maxLength }),
  );

/** Concatenations of grammar pieces and junk: reaches far deeper into a parser than noise. */
export function tokens(pieces: readonly string[], maxPieces = 16): fc.Arbitrary<string> {
  const piece = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...pieces) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 4 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
  );
  return fc.array(piece, { maxLength: maxPieces }).map((parts) => parts.join(""));
}

/** Valid inputs with a few characters inserted, deleted, replaced or a slice repeated. */
export function mutations(
  seeds: readonly string[],
  alphabet: readonly string[],
): fc.Arbitrary<string> {
  const edit = fc.tuple(
    fc.constantFrom("insert", "delete", "replace", "repeat", "truncate"),
    fc.nat(),
    fc.nat(),
    fc.constantFrom(...alphabet),
  );
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 5 }))
    .map(([seed, edits]) => {
      let text = seed;
      for (const [kind, a, b, char] of edits) {
        const at = text.length === 0 ? 0 : a % (text.length + 1);
        if (kind === "insert") text = text.slice(0, at) + char + text.slice(at);
        else if (kind === "delete") text = text.slice(0, at) + text.slice(at + 1 + (b % 4));
        else if (kind === "replace") text = text.slice(0, at) + char + text.slice(at + 1);
        else if (kind === "repeat") {
          const slice = text.slice(at, at + 1 + (b % 8));
          text = text.slice(0, at) + slice.repeat(2 + (b % 50)) + text.slice(at);
        } else text = text.slice(0, at);
      }
      return text;
    });
}

/** Very long inputs: one piece repeated up to a few hundred thousand characters. */
export function huge(pieces: readonly string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...pieces), fc.integer({ min: 1_000, max: 300_000 }))
    .map(([piece, length]) => piece.repeat(Math.ceil(length / Math.max(1, piece.length))));
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a value inside a JSON document. */
function paths(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(prefix);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) paths(v, [...prefix, i], out);
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  }
  return out;
}

function setAt(root: Json, path: (string | number)[], replacement: Json | undefined): Json {
  if (path.length === 0) return replacement ?? null;
  const copy: Json = structuredClone(root);
  let cursor = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) cursor = cursor[key] as Record<string | number, Json>;
  const last = path[path.length - 1] as string | number;
  if (replacement === undefined) {
    if (Array.isArray(cursor)) cursor.splice(Number(last), 1);
    else delete cursor[last];
  } else cursor[last] = replacement;
  return copy;
}

/** JSON values that stress validators: wrong types, extremes, prototype keys, odd strings. */
const nastyValue: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(
    -1,
    0,
    1e308,
    -0,
    2 ** 53 + 2,
    1.5,
    "",
    "sha256:../../x",
    "sha256:",
    "../../etc/passwd",
    "/absolute",
    "a".repeat(5000),
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    JSON.parse('{"__proto__":{"polluted":true}}') as Json,
    JSON.parse('{"constructor":{"prototype":{"polluted":true}}}') as Json,
    [],
    {},
    null,
  ),
);

/** A valid document with fields replaced, removed or added at random paths. */
export function jsonMutations(seeds: readonly string[]): fc.Arbitrary<string> {
  const parsed = seeds.map((s) => JSON.parse(s) as Json);
  const edit = fc.tuple(fc.constantFrom("set", "delete", "add"), fc.nat(), nastyValue, fc.string());
  return fc
    .tuple(fc.nat(parsed.length - 1), fc.array(edit, { minLength: 1, maxLength: 4 }))
    .map(([which, edits]) => {
      let doc = parsed[which] as Json;
      for (const [kind, at, value, key] of edits) {
        const all = paths(doc);
        const path = all[at % all.length] ?? [];
        if (kind === "set") doc = setAt(doc, path, value);
        else if (kind === "delete") doc = setAt(doc, path, undefined);
        else {
          const target = path.reduce<Json>(
            (node, k) => (node as Record<string | number, Json>)[k] as Json,
            doc,
          );
          if (target !== null && typeof target === "object" && !Array.isArray(target)) {
            doc = setAt(doc, [...path, key], value);
          }
        }
      }
      return JSON.stringify(doc);
    });
}

/** Nesting deep enough to break a recursive walker. */
export const deepJson = fc
  .tuple(fc.integer({ min: 100, max: 200_000 }), fc.constantFrom("[", '{"a":'))
  .map(([depth, open]) => {
    const close = open === "[" ? "]" : "}";
    return `${open.repeat(depth)}1${close.repeat(depth)}`;
  });

/** Any bytes, including invalid UTF-8 and byte order marks. */
export const anyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 512 }),
  fc.constantFrom(
    Uint8Array.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
    Uint8Array.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]),
    Uint8Array.from([0xc3, 0x28]),
  ),
);
