import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { configFileKeychain, findCredential } from "@hoist/authn";
import { createLayout, openLayout, parseLayoutFile } from "@hoist/layout";
import { Digest, type ParseOptions, parseReference, Registry, Repository, Tag } from "@hoist/name";
import {
  formatPlatform,
  Hash,
  parseConfigFile,
  parseDescriptor,
  parseIndexManifest,
  parseManifest,
  parsePlatform,
  platformEquals,
  randomImage,
  randomIndex,
} from "@hoist/oci";
import { isSafeEntryName, readLayerTar } from "@hoist/tarball";
import {
  inspectToken,
  nextLink,
  parseChallenges,
  parseLinkHeader,
  parseRateLimit,
  parseRetryAfter,
} from "@hoist/transport";
import fc from "fast-check";
import { beforeAll, describe, it } from "vitest";
import { families, suiteSize } from "../src/index.js";
import {
  anyBytes,
  anyString,
  deepJson,
  huge,
  jsonMutations,
  mutations,
  tokens,
} from "./fuzz-inputs.js";
import { fuzz } from "./fuzz-runner.js";
import { paxEntry, rawTar } from "./raw-tar.js";
import { expectClean, readWholeTarball, tempDir, useTally } from "./support.js";

// Arbitrary input to each of hoist's parsers yields a value or the package's own error class:
// never a crash, a hang, a foreign exception or a polluted prototype. Counts go to the table.

const size = suiteSize();
const RUNS = size.fuzzRuns;
// Parsers that touch the disk get fewer inputs; they are slower per input, not less important.
const IO_RUNS = Math.max(200, Math.floor(RUNS / 10));

const HEX64 = "0123456789abcdef".repeat(4);
const DIGEST = `sha256:${HEX64}`;
const SHA512 = `sha512:${HEX64.repeat(2)}`;
const ALPHABET = [..."abcz09AZ._-:/@[]%+ \t\n\u0000\u00e9\ud800", "::", "//", "..", "sha256:"];

/** A few non-string values: JavaScript callers pass anything. */
const notAString = fc.oneof(
  fc.constantFrom(undefined, null, 42, {}, [], true),
  fc.anything({ maxDepth: 1 }),
);

const nameErrors = families("NameError");
const transportErrors = families("TransportError");
const ociErrors = families("OciError");
const layoutErrors = families("LayoutError");
const layoutOrOci = families("LayoutError", "OciError");
const authnErrors = families("AuthnError");

describe("fuzz: references (@hoist/name)", () => {
  const tally = useTally("fuzz: references");
  const seeds = [
    "ubuntu",
    "library/ubuntu:22.04",
    `ghcr.io/org/app@${DIGEST}`,
    "localhost:5000/a/b:tag",
    "[::1]:5000/x",
    `127.0.0.1:5000/repo:tag@${DIGEST}`,
    `registry.example.com/a/b/c@${SHA512}`,
    "docker.io/library/busybox:latest",
  ];
  const pieces = [
    ...seeds,
    "docker.io",
    "localhost",
    ":5000",
    "/",
    "@",
    ":",
    "sha256:",
    HEX64,
    ":latest",
    "..",
    "__",
    "-",
    "[::1]",
    "%2F",
    "UPPER",
    "a",
  ];
  const references = fc.oneof(
    anyString(),
    tokens(pieces),
    mutations(seeds, ALPHABET),
    huge(["a", "a/", "a:", "@"]),
  );
  const options: fc.Arbitrary<ParseOptions> = fc.record(
    {
      strict: fc.boolean(),
      insecure: fc.boolean(),
      defaultRegistry: fc.oneof(
        fc.constantFrom("index.docker.io", "localhost:5000"),
        anyString(20),
      ),
      defaultTag: fc.oneof(fc.constant("latest"), anyString(20)),
    },
    { requiredKeys: [] },
  );
  const parsers = {
    parseReference: (s: string, o: ParseOptions) => parseReference(s, o),
    "Tag.parse": (s: string, o: ParseOptions) => Tag.parse(s, o),
    "Digest.parse": (s: string, o: ParseOptions) => Digest.parse(s, o),
    "Repository.parse": (s: string, o: ParseOptions) => Repository.parse(s, o),
    "Registry.parse": (s: string, o: ParseOptions) => Registry.parse(s, o),
  };

  it.each(Object.keys(parsers))("%s: a value or a NameError", async (which) => {
    const parse = parsers[which as keyof typeof parsers];
    await fuzz(tally, {
      input: fc.tuple(
        fc.oneof({ weight: 20, arbitrary: references }, { weight: 1, arbitrary: notAString }),
        options,
      ),
      families: nameErrors,
      parse: ([s, o]) => parse(s as string, o),
      // A parsed name is canonical: parsing its full name again gives the same name. (A default
      // registry without "." or ":" cannot round-trip, as in go-containerregistry: its name
      // reads back as a Docker Hub path.)
      check: (value, [, o]) => {
        const { name } = value as { name: string };
        if (
          o.defaultRegistry !== undefined &&
          !/^(index\.docker\.io|localhost:5000)$/.test(o.defaultRegistry)
        ) {
          return undefined;
        }
        const again = parse(name, { ...o, strict: false }) as { name: string };
        return again.name === name ? undefined : `"${name}" re-parses as "${again.name}"`;
      },
      seed: 101,
      runs: RUNS,
    });
    expectClean(tally);
  });
});

describe("fuzz: WWW-Authenticate and Link headers (@hoist/transport)", () => {
  const challengeTally = useTally("fuzz: WWW-Authenticate challenges");
  const linkTally = useTally("fuzz: Link headers");
  const headerTally = useTally("fuzz: Retry-After, RateLimit, JWT");

  const challengeSeeds = [
    'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"',
    'Basic realm="Registry Realm"',
    "Bearer realm=https://unquoted.example/token,service=x",
    'Negotiate abc==, Basic realm="x"',
    'Bearer realm="r", error="insufficient_scope", scope="repository:x:pull,push"',
  ];
  const challengePieces = [
    ...challengeSeeds,
    "Bearer",
    "Basic",
    " ",
    ",",
    "=",
    '"',
    '\\"',
    "realm",
    "service",
    "scope",
    "\t",
    "token68==",
  ];
  const challenges = fc.oneof(
    anyString(),
    tokens(challengePieces),
    mutations(challengeSeeds, [...ALPHABET, '"', "=", ",", "\\"]),
    huge(['Bearer realm="x",', "a", '"', "Basic a=b, "]),
  );

  it("parseChallenges: a value or a TransportError", async () => {
    await fuzz(challengeTally, {
      input: fc.oneof(
        { weight: 10, arbitrary: challenges },
        { weight: 2, arbitrary: fc.array(challenges, { maxLength: 4 }) },
        { weight: 1, arbitrary: notAString },
      ),
      families: transportErrors,
      parse: (input) => parseChallenges(input as string),
      check: (value) => {
        for (const c of value as { scheme: string; params: Record<string, unknown> }[]) {
          if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(c.scheme)) return `scheme "${c.scheme}"`;
          for (const v of Object.values(c.params)) if (typeof v !== "string") return "param value";
        }
        return undefined;
      },
      seed: 202,
      runs: RUNS,
    });
    expectClean(challengeTally);
  });

  const linkSeeds = [
    '</v2/a/tags/list?last=b&n=100>; rel="next"',
    '<https://r.example/v2/_catalog?n=2&last=x>; rel="next", <https://r.example/v2/_catalog>; rel="first"',
    "</v2/x/tags/list?n=1&last=a>;rel=next",
  ];
  const links = fc.oneof(
    anyString(),
    tokens([...linkSeeds, "<", ">", ";", "rel", "=", '"next"', ",", " ", "//evil.example/"]),
    mutations(linkSeeds, [...ALPHABET, "<", ">", ";", '"']),
    huge(["</a>;rel=next,", "<", ";"]),
  );

  it("parseLinkHeader and nextLink: a value or a TransportError", async () => {
    await fuzz(linkTally, {
      input: fc.oneof({ weight: 20, arbitrary: links }, { weight: 1, arbitrary: notAString }),
      families: transportErrors,
      parse: (input) => parseLinkHeader(input as string),
      seed: 303,
      runs: RUNS,
    });
    await fuzz(linkTally, {
      input: links,
      families: transportErrors,
      parse: (input) =>
        nextLink({ get: () => input }, "http://127.0.0.1:5000/v2/team/app/tags/list?n=10"),
      check: (value) =>
        value === undefined || value instanceof URL ? undefined : "neither a URL nor undefined",
      seed: 304,
      runs: RUNS,
    });
    expectClean(linkTally);
  });

  it("parseRetryAfter, parseRateLimit and inspectToken never throw", async () => {
    const never: [] = [];
    await fuzz(headerTally, {
      input: fc.oneof(
        anyString(),
        fc.constantFrom("120", "-1", "1e400", "Wed, 21 Oct 2015 07:28:00 GMT", "9".repeat(400)),
        fc.date().map((d) => (Number.isNaN(d.getTime()) ? "x" : d.toUTCString())),
        fc.integer().map(String),
      ),
      families: never,
      parse: (value) => parseRetryAfter(value, Date.now()),
      check: (value) =>
        value === undefined || (typeof value === "number" && Number.isFinite(value) && value >= 0)
          ? undefined
          : `delay ${String(value)}`,
      seed: 404,
      runs: RUNS,
    });
    const rateHeaders = fc.dictionary(
      fc.constantFrom("ratelimit-limit", "ratelimit-remaining", "docker-ratelimit-source", "x"),
      fc.oneof(anyString(40), fc.constantFrom("100;w=21600", "76;w=21600", "-5;w=", ";;;")),
    );
    await fuzz(headerTally, {
      input: rateHeaders,
      families: never,
      parse: (headers) => parseRateLimit({ get: (name: string) => headers[name] ?? null }),
      seed: 405,
      runs: RUNS,
    });
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    await fuzz(headerTally, {
      input: fc.oneof(
        anyString(),
        fc
          .tuple(fc.jsonValue(), fc.jsonValue(), anyString(20))
          .map(([h, p, s]) => `${b64(h)}.${b64(p)}.${s}`),
        tokens(["eyJ", ".", "a", "=", "-_"]),
      ),
      families: never,
      parse: (token) => inspectToken(token),
      seed: 406,
      runs: RUNS,
    });
    expectClean(headerTally);
  });
});

describe("fuzz: platforms and digests (@hoist/oci)", () => {
  const platformTally = useTally("fuzz: platforms");
  const digestTally = useTally("fuzz: digests");

  it("parsePlatform: a value or an OciError, and the value formats back to itself", async () => {
    const seeds = ["linux/amd64", "linux/arm64/v8", "windows/amd64:10.0.17763.1879", "linux"];
    await fuzz(platformTally, {
      input: fc.oneof(
        { weight: 10, arbitrary: anyString() },
        { weight: 10, arbitrary: tokens([...seeds, "/", ":", "linux", "arm", "v7", ".", " "]) },
        { weight: 10, arbitrary: mutations(seeds, ALPHABET) },
        { weight: 1, arbitrary: notAString },
      ),
      families: ociErrors,
      parse: (text) => parsePlatform(text as string),
      check: (value) => {
        const platform = value as Parameters<typeof formatPlatform>[0];
        const again = parsePlatform(formatPlatform(platform));
        return platformEquals(again, platform) ? undefined : `${formatPlatform(platform)} changes`;
      },
      seed: 505,
      runs: RUNS,
    });
    expectClean(platformTally);
  });

  it("Hash.parse: a value or an OciError", async () => {
    await fuzz(digestTally, {
      input: fc.oneof(
        { weight: 10, arbitrary: anyString() },
        { weight: 10, arbitrary: mutations([DIGEST, SHA512, "sha256:../../x"], ALPHABET) },
        { weight: 10, arbitrary: tokens(["sha256", "sha512", "md5", ":", HEX64, "A", "+", "."]) },
        { weight: 1, arbitrary: notAString },
      ),
      families: ociErrors,
      parse: (text) => Hash.parse(text as string),
      check: (value) => {
        const text = String(value);
        return /^sha(256:[0-9a-f]{64}|512:[0-9a-f]{128})$/.test(text) ? undefined : `"${text}"`;
      },
      seed: 606,
      runs: RUNS,
    });
    expectClean(digestTally);
  });
});

describe("fuzz: manifests, indexes, configs and descriptors (@hoist/oci)", () => {
  const manifestTally = useTally("fuzz: image manifests");
  const indexTally = useTally("fuzz: indexes");
  const configTally = useTally("fuzz: configs");
  const descriptorTally = useTally("fuzz: descriptors");
  const seeds = { manifests: [] as string[], indexes: [] as string[], configs: [] as string[] };

  beforeAll(async () => {
    const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");
    for (const mediaType of [
      "application/vnd.oci.image.manifest.v1+json",
      "application/vnd.docker.distribution.manifest.v2+json",
    ] as const) {
      const image = randomImage({ layers: 2, seed: 1, mediaType });
      seeds.manifests.push(text(await image.rawManifest()));
      seeds.configs.push(text(await image.rawConfigFile()));
    }
    const index = randomIndex({
      images: 2,
      seed: 2,
      platforms: [
        { os: "linux", architecture: "amd64" },
        { os: "linux", architecture: "arm64", variant: "v8" },
      ],
    });
    seeds.indexes.push(text(await index.rawManifest()));
  });

  const documents = (kind: keyof typeof seeds) =>
    fc.oneof(
      { weight: 6, arbitrary: fc.constant(0).chain(() => jsonMutations(seeds[kind])) },
      { weight: 3, arbitrary: fc.constant(0).chain(() => mutations(seeds[kind], ALPHABET)) },
      { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
      { weight: 2, arbitrary: anyBytes },
      { weight: 1, arbitrary: deepJson },
      { weight: 1, arbitrary: anyString() },
      {
        weight: 1,
        // Just over the 4 MiB cap, and far over it.
        arbitrary: fc
          .constantFrom(4 * 1024 * 1024 + 1, 20 * 1024 * 1024)
          .map((n) => `{"schemaVersion":2,"x":"${"a".repeat(n)}"}`),
      },
    );

  it("parseManifest: a value or an OciError", async () => {
    await fuzz(manifestTally, {
      input: documents("manifests"),
      families: ociErrors,
      parse: (doc) => parseManifest(doc),
      seed: 707,
      runs: RUNS,
    });
    expectClean(manifestTally);
  });

  it("parseIndexManifest: a value or an OciError", async () => {
    await fuzz(indexTally, {
      input: documents("indexes"),
      families: ociErrors,
      parse: (doc) => parseIndexManifest(doc),
      seed: 808,
      runs: RUNS,
    });
    expectClean(indexTally);
  });

  it("parseConfigFile: a value or an OciError", async () => {
    await fuzz(configTally, {
      input: documents("configs"),
      families: ociErrors,
      parse: (doc) => parseConfigFile(doc),
      seed: 909,
      runs: RUNS,
    });
    expectClean(configTally);
  });

  it("parseDescriptor: a value or an OciError", async () => {
    const descriptorSeeds = () =>
      (JSON.parse(seeds.indexes[0] as string).manifests as unknown[]).map((d) => JSON.stringify(d));
    await fuzz(descriptorTally, {
      input: fc.oneof(
        { weight: 6, arbitrary: fc.constant(0).chain(() => jsonMutations(descriptorSeeds())) },
        { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
        { weight: 1, arbitrary: anyBytes },
        { weight: 1, arbitrary: deepJson },
      ),
      families: ociErrors,
      parse: (doc) => parseDescriptor(doc),
      seed: 1010,
      runs: RUNS,
    });
    expectClean(descriptorTally);
  });
});

describe("fuzz: image layouts on disk (@hoist/layout)", () => {
  const fileTally = useTally("fuzz: layout oci-layout file");
  const indexTally = useTally("fuzz: layout index.json");

  it("parseLayoutFile: a value or a LayoutError", async () => {
    await fuzz(fileTally, {
      input: fc.oneof(
        jsonMutations(['{"imageLayoutVersion":"1.0.0"}']),
        fc.json({ maxDepth: 3 }),
        anyBytes,
        anyString(),
        deepJson,
      ),
      families: layoutErrors,
      parse: (doc) => parseLayoutFile(doc),
      seed: 1111,
      runs: RUNS,
    });
    expectClean(fileTally);
  });

  it("openLayout and reads through a fuzzed index.json: a value or a LayoutError/OciError", async () => {
    // A real layout whose blobs exist, so mutated entries lead the reader into real files.
    const dir = join(await tempDir(), "layout");
    const layout = await createLayout(dir);
    await layout.appendImage(randomImage({ layers: 2, seed: 3 }), { refName: "one" });
    await layout.appendIndex(
      randomIndex({
        images: 2,
        seed: 4,
        platforms: [
          { os: "linux", architecture: "amd64" },
          { os: "linux", architecture: "arm64" },
        ],
      }),
      { refName: "multi" },
    );
    const valid = await readFile(join(dir, "index.json"), "utf8");
    await fuzz(indexTally, {
      input: fc.oneof(
        { weight: 8, arbitrary: jsonMutations([valid]) },
        { weight: 2, arbitrary: mutations([valid], ALPHABET) },
        { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
        { weight: 1, arbitrary: anyBytes },
        { weight: 1, arbitrary: deepJson },
      ),
      families: layoutOrOci,
      parse: async (doc) => {
        await writeFile(join(dir, "index.json"), doc);
        const opened = await openLayout(dir);
        const found = await opened.findDescriptors(() => true, { recursive: true });
        for (const selector of ["one", "multi"]) {
          const image = await opened.image(selector, { platform: "linux/arm64" });
          await image.layers();
        }
        return found;
      },
      seed: 1212,
      runs: IO_RUNS,
    });
    expectClean(indexTally);
  });
});

describe("fuzz: docker config files (@hoist/authn)", () => {
  const tally = useTally("fuzz: docker config files");
  const seeds = [
    JSON.stringify({ auths: { "r.example": { auth: Buffer.from("u:p").toString("base64") } } }),
    JSON.stringify({
      auths: { "https://index.docker.io/v1/": { identitytoken: "tok" } },
      credHelpers: { "gcr.io": "gcloud" },
      credsStore: "desktop",
    }),
    JSON.stringify({ "r.example": { auth: "dTpw", email: "x@y" } }),
  ];

  it("config.json, auth.json, .dockercfg and DOCKER_AUTH_CONFIG: a value or an AuthnError", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "home"), { recursive: true });
    const configPath = join(dir, "config.json");
    const resource = Repository.parse("r.example/team/app");
    // No credential helper can be found: a fuzzed helper name must fail as an AuthnError.
    const env = { PATH: join(dir, "empty-path") };
    await fuzz(tally, {
      input: fc.tuple(
        fc.oneof(
          { weight: 6, arbitrary: jsonMutations(seeds) },
          { weight: 2, arbitrary: mutations(seeds, ALPHABET) },
          { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
          { weight: 1, arbitrary: anyString() },
          { weight: 1, arbitrary: deepJson },
        ),
        fc.constantFrom("config", "dockercfg", "env"),
      ),
      families: authnErrors,
      parse: async ([doc, where]) => {
        if (where === "env") {
          return findCredential(resource, {
            env: { ...env, DOCKER_AUTH_CONFIG: doc },
            homedir: join(dir, "home"),
          });
        }
        await writeFile(configPath, doc);
        const keychain = configFileKeychain({
          path: configPath,
          format: where as "config" | "dockercfg",
          env,
        });
        return (await keychain.resolve(resource)).authorization();
      },
      seed: 1313,
      runs: IO_RUNS,
    });
    expectClean(tally);
  });
});

describe("fuzz: docker tarballs and layer tars (@hoist/tarball)", () => {
  const archiveTally = useTally("fuzz: docker tarballs");
  const layerTally = useTally("fuzz: layer tars");
  const tarballOrOci = families("TarballError", "OciError");

  /** Byte-level edits of a valid archive: header fields, sizes, names, checksums, cuts. */
  function byteMutations(seed: Uint8Array): fc.Arbitrary<Uint8Array> {
    const edit = fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(3));
    return fc
      .tuple(
        fc.array(edit, { minLength: 1, maxLength: 8 }),
        fc.option(fc.nat(seed.length)),
        fc.boolean(),
      )
      .map(([edits, cut, fixChecksums]) => {
        const bytes = Buffer.from(seed);
        for (const [at, value, spread] of edits) {
          // Most edits land in the first bytes of a 512-byte block: names, modes, sizes.
          const block = Math.floor(at / 512) * 512;
          const offset = spread === 0 ? at : block + (at % 160);
          bytes[Math.min(offset, bytes.length - 1)] = value;
        }
        // Half the inputs get valid header checksums, so the edits reach past the first check.
        if (fixChecksums) {
          for (let block = 0; block + 512 <= bytes.length; block += 512) {
            if (bytes.toString("latin1", block + 257, block + 262) !== "ustar") continue;
            bytes.fill(0x20, block + 148, block + 156);
            let sum = 0;
            for (let i = block; i < block + 512; i++) sum += bytes[i] ?? 0;
            bytes.write(`${sum.toString(8).padStart(6, "0")}\0 `, block + 148, "latin1");
          }
        }
        return cut === null ? bytes : bytes.subarray(0, cut);
      });
  }

  it("openTarball and reading its image: a value or a TarballError/OciError", async () => {
    const layer = rawTar([
      { name: "etc/", type: "5" },
      { name: "etc/motd", content: "hello" },
      { name: "etc/link", type: "2", linkname: "motd" },
    ]);
    const config = Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        rootfs: {
          type: "layers",
          diff_ids: [`sha256:${createHash("sha256").update(layer).digest("hex")}`],
        },
      }),
    );
    const archive = rawTar([
      { name: "config.json", content: config },
      { name: "layer.tar", content: layer },
      {
        name: "manifest.json",
        content: JSON.stringify([
          { Config: "config.json", RepoTags: ["a:b"], Layers: ["layer.tar"] },
        ]),
      },
    ]);
    const dir = await tempDir();
    const path = join(dir, "fuzz.tar");
    await fuzz(archiveTally, {
      input: fc.oneof(
        { weight: 8, arbitrary: byteMutations(archive) },
        { weight: 1, arbitrary: anyBytes },
      ),
      families: tarballOrOci,
      parse: async (bytes) => {
        await writeFile(path, bytes);
        return readWholeTarball(path);
      },
      seed: 1414,
      runs: IO_RUNS,
    });
    expectClean(archiveTally);
  });

  it("readLayerTar: entries or a TarballError", async () => {
    const layer = rawTar([
      { name: "a/", type: "5" },
      { name: "a/b", content: "x".repeat(700) },
      { name: "a/c", type: "1", linkname: "a/b" },
      paxEntry({ path: "a/long-name-from-pax" }),
      { name: "ignored", content: "y" },
    ]);
    await fuzz(layerTally, {
      input: fc.oneof(
        { weight: 8, arbitrary: byteMutations(layer) },
        { weight: 1, arbitrary: anyBytes },
      ),
      families: tarballOrOci,
      parse: async (bytes) => {
        const names: string[] = [];
        for await (const entry of readLayerTar(Readable.from([bytes]))) {
          names.push(entry.name);
          if (!isSafeEntryName(entry.name)) throw new Error(`unsafe name "${entry.name}" passed`);
          for await (const _ of entry.body) {
            // drain
          }
        }
        return names;
      },
      seed: 1515,
      runs: RUNS,
    });
    expectClean(layerTally);
  });
});
