import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidDocumentError, OciError } from "./errors.js";
import { Hash } from "./hash.js";
import { MediaType } from "./media-type.js";
import {
  DEFAULT_MAX_MANIFEST_BYTES,
  parseConfigFile,
  parseDescriptor,
  parseIndexManifest,
  parseManifest,
} from "./parse-document.js";

const digest = (character: string) => `sha256:${character.repeat(64)}`;

const OCI_MANIFEST = {
  schemaVersion: 2,
  mediaType: MediaType.OCI_MANIFEST,
  config: { mediaType: MediaType.OCI_CONFIG, size: 1469, digest: digest("1") },
  layers: [
    { mediaType: MediaType.OCI_LAYER_GZIP, size: 3623807, digest: digest("2") },
    {
      mediaType: MediaType.OCI_LAYER_GZIP,
      size: 32,
      digest: digest("3"),
      annotations: { "org.opencontainers.image.title": "hello.txt" },
    },
  ],
  annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" },
};

const ARTIFACT = {
  schemaVersion: 2,
  mediaType: MediaType.OCI_MANIFEST,
  artifactType: "application/vnd.example.sbom.v1+json",
  config: { mediaType: MediaType.OCI_EMPTY, size: 2, digest: digest("4"), data: "e30=" },
  layers: [{ mediaType: "application/spdx+json", size: 1234, digest: digest("5") }],
  subject: { mediaType: MediaType.OCI_MANIFEST, size: 7682, digest: digest("6") },
};

const DOCKER_MANIFEST = {
  schemaVersion: 2,
  mediaType: MediaType.DOCKER_MANIFEST,
  config: { mediaType: MediaType.DOCKER_CONFIG, size: 7023, digest: digest("7") },
  layers: [
    {
      mediaType: MediaType.DOCKER_FOREIGN_LAYER,
      size: 1_000_000_000,
      digest: digest("8"),
      urls: ["https://mcr.microsoft.com/v2/windows/servercore/blobs/sha256:88"],
    },
  ],
};

const MANIFEST_LIST = {
  schemaVersion: 2,
  mediaType: MediaType.DOCKER_MANIFEST_LIST,
  manifests: [
    {
      mediaType: MediaType.DOCKER_MANIFEST,
      size: 528,
      digest: digest("a"),
      platform: { architecture: "amd64", os: "linux" },
    },
    {
      mediaType: MediaType.DOCKER_MANIFEST,
      size: 528,
      digest: digest("b"),
      platform: { architecture: "arm", os: "linux", variant: "v7" },
    },
    {
      mediaType: MediaType.DOCKER_MANIFEST,
      size: 1162,
      digest: digest("c"),
      platform: {
        architecture: "amd64",
        os: "windows",
        "os.version": "10.0.17763.5576",
        "os.features": ["win32k"],
      },
    },
  ],
};

// Docker writes null for empty lists and maps.
const DOCKER_CONFIG = {
  architecture: "amd64",
  config: {
    Hostname: "",
    Domainname: "",
    User: "",
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ExposedPorts: { "80/tcp": {} },
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "NGINX_VERSION=1.25.3",
    ],
    Cmd: ["nginx", "-g", "daemon off;"],
    Image: digest("d"),
    Volumes: null,
    WorkingDir: "",
    Entrypoint: ["/docker-entrypoint.sh"],
    OnBuild: null,
    Labels: { maintainer: "NGINX Docker Maintainers" },
    StopSignal: "SIGQUIT",
    Healthcheck: {
      Test: ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
      Interval: 30000000000,
      Retries: 3,
    },
  },
  container: "b4c6f4d1",
  container_config: { Cmd: ["/bin/sh", "-c", '#(nop) CMD ["nginx"]'], Labels: null, Env: null },
  created: "2023-11-01T12:00:00.000000000Z",
  docker_version: "20.10.23",
  history: [
    { created: "2023-11-01T00:00:00Z", created_by: "/bin/sh -c #(nop) ADD file:abc in / " },
    {
      created: "2023-11-01T00:00:01Z",
      created_by: '/bin/sh -c #(nop)  CMD ["bash"]',
      empty_layer: true,
    },
  ],
  os: "linux",
  rootfs: { type: "layers", diff_ids: [digest("e")] },
};

function failure(run: () => unknown): InvalidDocumentError {
  try {
    run();
  } catch (error) {
    expect(OciError.is(error)).toBe(true);
    expect(InvalidDocumentError.is(error)).toBe(true);
    return error as InvalidDocumentError;
  }
  throw new Error("expected the document to be refused");
}

describe("parsing valid documents", () => {
  it.each([
    ["an OCI manifest", OCI_MANIFEST],
    ["an artifact manifest with subject and inline data", ARTIFACT],
    ["a Docker manifest with a foreign layer", DOCKER_MANIFEST],
  ])("parses %s from a string and from bytes, round-tripping its bytes", (_name, document) => {
    const text = JSON.stringify(document);
    for (const input of [text, Buffer.from(text), new Uint8Array(Buffer.from(text))]) {
      const manifest = parseManifest(input);
      expect(manifest.config.digest).toBeInstanceOf(Hash);
      expect(JSON.stringify(manifest)).toBe(text);
    }
  });

  it("parses a manifest list with Windows platform fields", () => {
    const index = parseIndexManifest(JSON.stringify(MANIFEST_LIST));
    expect(index.manifests[2]?.platform).toEqual({
      architecture: "amd64",
      os: "windows",
      "os.version": "10.0.17763.5576",
      "os.features": ["win32k"],
    });
    expect(JSON.stringify(index)).toBe(JSON.stringify(MANIFEST_LIST));
  });

  it("parses a Docker config with nulls and keeps them", () => {
    const text = JSON.stringify(DOCKER_CONFIG);
    const config = parseConfigFile(text);
    expect(config.config?.Volumes).toBeNull();
    expect(config.config?.Cmd).toEqual(["nginx", "-g", "daemon off;"]);
    expect(config.rootfs?.diff_ids[0]?.equals(digest("e"))).toBe(true);
    expect(JSON.stringify(config)).toBe(text);
  });

  it("reads rootfs.diff_ids null (as Go writes a nil slice) as an empty list", () => {
    expect(
      parseConfigFile('{"rootfs":{"type":"layers","diff_ids":null}}').rootfs?.diff_ids,
    ).toEqual([]);
  });

  it("parses a descriptor", () => {
    const descriptor = parseDescriptor(JSON.stringify(MANIFEST_LIST.manifests[1]));
    expect(descriptor.platform?.variant).toBe("v7");
  });

  it("accepts an OCI manifest and index without mediaType", () => {
    const { mediaType: _m, ...manifest } = OCI_MANIFEST;
    expect(parseManifest(JSON.stringify(manifest)).mediaType).toBeUndefined();
    expect(parseIndexManifest('{"schemaVersion":2,"manifests":[]}').manifests).toEqual([]);
  });

  it("keeps unknown fields, at every level, in their original order", () => {
    const text =
      '{"zeta":1,"schemaVersion":2,"config":{"x-vendor":{"deep":[1,{"a":null}]},"mediaType":"a/b","size":2,"digest":"' +
      digest("f") +
      '"},"layers":[{"size":1,"mediaType":"c/d","digest":"' +
      digest("0") +
      '","platformish":true}],"annotations":{"b":"1","a":"2"},"alpha":"last"}';
    const manifest = parseManifest(text) as unknown as Record<string, unknown>;
    expect(manifest.zeta).toBe(1);
    expect(manifest.alpha).toBe("last");
    expect(JSON.stringify(manifest)).toBe(text);
  });

  it("keeps a literal __proto__ annotation as data and pollutes nothing", () => {
    const text = `{"schemaVersion":2,"config":{"mediaType":"a/b","size":2,"digest":"${digest("f")}"},"layers":[],"annotations":{"__proto__":"x","toString":"y"}}`;
    const manifest = parseManifest(text);
    expect(Object.getPrototypeOf(manifest.annotations)).toBe(Object.prototype);
    expect(Object.keys(manifest.annotations ?? {})).toEqual(["__proto__", "toString"]);
    expect(JSON.stringify(manifest)).toBe(text);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it("keeps a __proto__ field as data, in its place, without changing any prototype", () => {
    const text = `{"__proto__":{"polluted":true},"schemaVersion":2,"config":{"mediaType":"a/b","__proto__":[1],"size":2,"digest":"${digest("f")}"},"layers":[]}`;
    const manifest = parseManifest(text) as unknown as Record<string, unknown>;
    expect(manifest.polluted).toBeUndefined();
    expect(Object.getPrototypeOf(manifest)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(manifest.config)).toBe(Object.prototype);
    expect(Object.keys(manifest)[0]).toBe("__proto__");
    expect(JSON.stringify(manifest)).toBe(text);
    const index = `{"schemaVersion":2,"__proto__":false,"manifests":[]}`;
    expect(JSON.stringify(parseIndexManifest(index))).toBe(index);
    const config = `{"architecture":"amd64","os":"linux","config":{"__proto__":null,"Env":["A=1"]},"rootfs":{"type":"layers","diff_ids":[]}}`;
    expect(JSON.stringify(parseConfigFile(config))).toBe(config);
  });
});

describe("refusing hostile and broken documents", () => {
  type Damageable = Record<string, unknown> & {
    schemaVersion: number;
    config: { mediaType: string; size: number; digest: string };
    layers: Array<Record<string, unknown>>;
    annotations: Record<string, unknown>;
  };
  const base = () => structuredClone(OCI_MANIFEST) as unknown as Damageable;

  it.each([
    [
      "a path-traversal digest",
      (m: ReturnType<typeof base>) => {
        (m.layers[1] as { digest: string }).digest = "sha256:../../etc/passwd";
      },
      "layers[1].digest",
      /invalid digest "sha256:..\/..\/etc\/passwd"/,
    ],
    [
      "a digest with uppercase hex",
      (m: ReturnType<typeof base>) => {
        m.config.digest = `sha256:${"A".repeat(64)}`;
      },
      "config.digest",
      /lowercase hex/,
    ],
    [
      "a digest of another algorithm",
      (m: ReturnType<typeof base>) => {
        m.config.digest = "md5:d41d8cd98f00b204e9800998ecf8427e";
      },
      "config.digest",
      /not supported/,
    ],
    [
      "a digest that is a number",
      (m: ReturnType<typeof base>) => {
        (m.config as Record<string, unknown>).digest = 5;
      },
      "config.digest",
      /expected a string, got number 5/,
    ],
    [
      "a negative size",
      (m: ReturnType<typeof base>) => {
        m.config.size = -1;
      },
      "config.size",
      /-1/,
    ],
    [
      "a fractional size",
      (m: ReturnType<typeof base>) => {
        m.config.size = 1.5;
      },
      "config.size",
      /integer/,
    ],
    [
      "a size beyond 2^53",
      (m: ReturnType<typeof base>) => {
        m.config.size = 2 ** 60;
      },
      "config.size",
      /.+/,
    ],
    [
      "a size given as a string",
      (m: ReturnType<typeof base>) => {
        (m.config as Record<string, unknown>).size = "12";
      },
      "config.size",
      /expected a number, got the string "12"/,
    ],
    [
      "a missing config",
      (m: ReturnType<typeof base>) => {
        delete (m as Record<string, unknown>).config;
      },
      "config",
      /missing \(expected an object\)/,
    ],
    [
      "layers that are not a list",
      (m: ReturnType<typeof base>) => {
        (m as Record<string, unknown>).layers = {};
      },
      "layers",
      /expected an array, got an object/,
    ],
    [
      "a layer that is null",
      (m: ReturnType<typeof base>) => {
        (m.layers as unknown[])[0] = null;
      },
      "layers[0]",
      /expected an object, got null/,
    ],
    [
      "a media type with a header injection",
      (m: ReturnType<typeof base>) => {
        (m.layers[0] as { mediaType: string }).mediaType = "a/b\r\nX: y";
      },
      "layers[0].mediaType",
      /invalid media type/,
    ],
    [
      "a media type with parameters",
      (m: ReturnType<typeof base>) => {
        m.config.mediaType = "application/json; charset=utf-8";
      },
      "config.mediaType",
      /invalid media type/,
    ],
    [
      "schemaVersion 3",
      (m: ReturnType<typeof base>) => {
        m.schemaVersion = 3;
      },
      "schemaVersion",
      /expected 2, got number 3/,
    ],
    [
      "an annotation that is not a string",
      (m: ReturnType<typeof base>) => {
        (m.annotations as Record<string, unknown>)["org.example"] = { nested: true };
      },
      'annotations["org.example"]',
      /expected a string, got an object/,
    ],
    [
      "urls that are not strings",
      (m: ReturnType<typeof base>) => {
        (m.layers[0] as Record<string, unknown>).urls = ["https://x", 1];
      },
      "layers[0].urls[1]",
      /expected a string/,
    ],
    [
      "inline data that is not base64",
      (m: ReturnType<typeof base>) => {
        (m.config as Record<string, unknown>).data = "not base64!";
      },
      "config.data",
      /base64/,
    ],
    [
      "a platform without os",
      (m: ReturnType<typeof base>) => {
        (m.layers[0] as Record<string, unknown>).platform = { architecture: "amd64" };
      },
      "layers[0].platform.os",
      /missing/,
    ],
    [
      "a subject with a bad digest",
      (m: ReturnType<typeof base>) => {
        (m as Record<string, unknown>).subject = { mediaType: "a/b", size: 1, digest: "sha256:x" };
      },
      "subject.digest",
      /invalid digest/,
    ],
  ])("refuses %s, naming the field", (_name, damage, path, message) => {
    const document = base();
    damage(document);
    const error = failure(() => parseManifest(JSON.stringify(document)));
    expect(error.code).toBe("HOIST_OCI_INVALID_DOCUMENT");
    expect(error.document).toBe("manifest");
    expect(error.path).toBe(path);
    expect(error.message.startsWith(`manifest: ${path}: `)).toBe(true);
    expect(error.message).toMatch(message);
    expect(error.operation).toBe("parse manifest");
  });

  it.each([
    ["not JSON", "{", "HOIST_OCI_INVALID_JSON", /manifest: not valid JSON/],
    ["empty input", "", "HOIST_OCI_INVALID_JSON", /not valid JSON/],
    [
      "invalid UTF-8",
      new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
      "HOIST_OCI_INVALID_JSON",
      /not valid UTF-8/,
    ],
    [
      "a JSON array",
      "[]",
      "HOIST_OCI_INVALID_DOCUMENT",
      /manifest: expected a JSON object, got an array/,
    ],
    ["JSON null", "null", "HOIST_OCI_INVALID_DOCUMENT", /got null/],
    ["a JSON string", '"manifest"', "HOIST_OCI_INVALID_DOCUMENT", /got the string "manifest"/],
    [
      "a UTF-8 BOM",
      `\ufeff${JSON.stringify(OCI_MANIFEST)}`,
      "HOIST_OCI_INVALID_JSON",
      /not valid JSON/,
    ],
    ["an index", JSON.stringify(MANIFEST_LIST), "HOIST_OCI_INVALID_DOCUMENT", /parseIndexManifest/],
    [
      "schema 1",
      '{"schemaVersion":1,"name":"library/x","tag":"1","fsLayers":[]}',
      "HOIST_OCI_SCHEMA1_UNSUPPORTED",
      /schema 1/,
    ],
    [
      "signed schema 1",
      JSON.stringify({ schemaVersion: 1, mediaType: MediaType.DOCKER_MANIFEST_SCHEMA1_SIGNED }),
      "HOIST_OCI_SCHEMA1_UNSUPPORTED",
      /schema 1/,
    ],
  ])("refuses %s as a manifest", (_name, input, code, message) => {
    const error = failure(() => parseManifest(input));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it("refuses an image manifest given as an index, and non-bytes input", () => {
    expect(failure(() => parseIndexManifest(JSON.stringify(OCI_MANIFEST))).message).toMatch(
      /parseManifest/,
    );
    expect(failure(() => parseManifest(42 as unknown as string)).code).toBe(
      "HOIST_OCI_INVALID_JSON",
    );
  });

  it("refuses documents over the size cap before parsing them", () => {
    const big = JSON.stringify({
      ...OCI_MANIFEST,
      annotations: { pad: "x".repeat(DEFAULT_MAX_MANIFEST_BYTES) },
    });
    const error = failure(() => parseManifest(big));
    expect(error.code).toBe("HOIST_OCI_DOCUMENT_TOO_LARGE");
    expect(error.message).toMatch(/4194304-byte limit/);
    expect(parseManifest(big, { maxBytes: 8 * 1024 * 1024 }).annotations?.pad).toHaveLength(
      DEFAULT_MAX_MANIFEST_BYTES,
    );
    expect(failure(() => parseConfigFile("{}", { maxBytes: 1 })).code).toBe(
      "HOIST_OCI_DOCUMENT_TOO_LARGE",
    );
    // The cap counts bytes, not UTF-16 units.
    expect(
      failure(() => parseConfigFile(`{"author":"${"é".repeat(10)}"}`, { maxBytes: 20 })).code,
    ).toBe("HOIST_OCI_DOCUMENT_TOO_LARGE");
  });

  it("reports one bad entry of a huge list instead of a million", () => {
    // 1.3 million empty layers fit under the cap; zod alone would build millions of issues.
    const text = `{"schemaVersion":2,"config":${JSON.stringify(OCI_MANIFEST.config)},"layers":[${"{},".repeat(1_300_000)}{}]}`;
    expect(text.length).toBeLessThan(DEFAULT_MAX_MANIFEST_BYTES);
    const error = failure(() => parseManifest(text));
    expect(error.path).toBe("layers[0].mediaType");
    expect(error.problems.length).toBeLessThanOrEqual(5);
  });

  it("refuses hostile nesting before parsing, and accepts reasonable nesting in unknown fields", () => {
    const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const config = JSON.stringify(OCI_MANIFEST.config);
    for (const deep of [nested(500_000), nested(128)]) {
      const error = failure(() =>
        parseManifest(`{"schemaVersion":2,"config":${config},"layers":[],"x":${deep}}`),
      );
      expect(error.code).toBe("HOIST_OCI_INVALID_DOCUMENT");
      expect(error.message).toMatch(/at most 128 levels/);
    }
    const fine = `{"schemaVersion":2,"config":${config},"layers":[],"x":${nested(120)},"s":"[[[[{{{{\\\\"}`;
    expect(JSON.stringify(parseManifest(fine))).toBe(fine);
  });

  it("names config fields with Docker's capitalisation", () => {
    const error = failure(() => parseConfigFile('{"config":{"Env":["A=1",2]}}'));
    expect(error.message).toBe("config: config.Env[1]: expected a string, got number 2");
    expect(failure(() => parseConfigFile('{"config":{"Labels":{"a":true}}}')).path).toBe(
      "config.Labels.a",
    );
    expect(
      failure(() => parseConfigFile('{"rootfs":{"type":"layers","diff_ids":["sha256:x"]}}')).path,
    ).toBe("rootfs.diff_ids[0]");
    expect(failure(() => parseConfigFile('{"history":[{"empty_layer":"yes"}]}')).path).toBe(
      "history[0].empty_layer",
    );
    expect(failure(() => parseConfigFile('{"os.features":"win32k"}')).path).toBe('["os.features"]');
  });

  it("names the descriptor document in its errors", () => {
    expect(failure(() => parseDescriptor("{}")).message).toMatch(/^descriptor: mediaType: missing/);
  });
});

describe("parsing properties", () => {
  const parsers = [parseManifest, parseIndexManifest, parseConfigFile, parseDescriptor];

  it("any string yields a value or an OciError, never another exception", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.string({ unit: "binary" })), (input) => {
        for (const parse of parsers) {
          try {
            parse(input);
          } catch (error) {
            expect(OciError.is(error)).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it("any JSON value, placed anywhere in a document, yields a value or an OciError", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(OCI_MANIFEST, MANIFEST_LIST, DOCKER_CONFIG, ARTIFACT),
        fc.jsonValue(),
        fc.nat(),
        (document, value, seed) => {
          const damaged = replaceAt(structuredClone(document), value, seed);
          const text = JSON.stringify(damaged);
          for (const parse of parsers) {
            try {
              parse(text);
            } catch (error) {
              expect(OciError.is(error)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("any bytes yield a value or an OciError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        for (const parse of parsers) {
          try {
            parse(bytes);
          } catch (error) {
            expect(OciError.is(error)).toBe(true);
          }
        }
      }),
    );
  });

  it("valid manifests re-serialise to the exact compact input", () => {
    const descriptorArbitrary = fc.record(
      {
        mediaType: fc.constantFrom(
          MediaType.OCI_LAYER_GZIP,
          MediaType.DOCKER_LAYER,
          "application/x.y+json",
        ),
        size: fc.nat(),
        digest: fc.stringMatching(/^[a-f0-9]{64}$/).map((hex) => `sha256:${hex}`),
        annotations: fc.dictionary(fc.string(), fc.string()),
        urls: fc.array(fc.webUrl()),
        extra: fc.jsonValue(),
      },
      { requiredKeys: ["mediaType", "size", "digest"] },
    );
    fc.assert(
      fc.property(
        descriptorArbitrary,
        fc.array(descriptorArbitrary, { maxLength: 5 }),
        fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
        (config, layers, unknown) => {
          const document = { ...unknown, schemaVersion: 2, config, layers };
          const text = JSON.stringify(document);
          expect(JSON.stringify(parseManifest(text))).toBe(text);
          const index = { ...unknown, schemaVersion: 2, manifests: layers };
          expect(JSON.stringify(parseIndexManifest(JSON.stringify(index)))).toBe(
            JSON.stringify(index),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

// Replaces one node of a JSON tree, chosen by `seed`, with `value`.
function replaceAt(document: unknown, value: unknown, seed: number): unknown {
  const slots: Array<[Record<string, unknown> | unknown[], string | number]> = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) {
      node.forEach((child, index) => {
        slots.push([node, index]);
        walk(child);
      });
    } else if (typeof node === "object" && node !== null) {
      for (const key of Object.keys(node)) {
        slots.push([node as Record<string, unknown>, key]);
        walk((node as Record<string, unknown>)[key]);
      }
    }
  };
  walk(document);
  const slot = slots[seed % slots.length];
  if (slot) (slot[0] as Record<string | number, unknown>)[slot[1]] = value;
  return document;
}
