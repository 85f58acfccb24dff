import { describe, expect, it } from "vitest";
import {
  baseMediaType,
  isConfig,
  isDistributable,
  isImage,
  isIndex,
  isLayer,
  isManifest,
  isSchema1,
  isValidMediaType,
  layerCompression,
  MediaType,
  sniffManifestMediaType,
} from "./media-type.js";

describe("MediaType constants", () => {
  it("spell the registry media types exactly", () => {
    expect(MediaType).toEqual({
      OCI_INDEX: "application/vnd.oci.image.index.v1+json",
      OCI_MANIFEST: "application/vnd.oci.image.manifest.v1+json",
      OCI_CONFIG: "application/vnd.oci.image.config.v1+json",
      OCI_LAYER: "application/vnd.oci.image.layer.v1.tar",
      OCI_LAYER_GZIP: "application/vnd.oci.image.layer.v1.tar+gzip",
      OCI_LAYER_ZSTD: "application/vnd.oci.image.layer.v1.tar+zstd",
      OCI_NONDISTRIBUTABLE_LAYER: "application/vnd.oci.image.layer.nondistributable.v1.tar",
      OCI_NONDISTRIBUTABLE_LAYER_GZIP:
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      OCI_NONDISTRIBUTABLE_LAYER_ZSTD:
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
      OCI_EMPTY: "application/vnd.oci.empty.v1+json",
      DOCKER_MANIFEST: "application/vnd.docker.distribution.manifest.v2+json",
      DOCKER_MANIFEST_LIST: "application/vnd.docker.distribution.manifest.list.v2+json",
      DOCKER_CONFIG: "application/vnd.docker.container.image.v1+json",
      DOCKER_LAYER: "application/vnd.docker.image.rootfs.diff.tar.gzip",
      DOCKER_LAYER_UNCOMPRESSED: "application/vnd.docker.image.rootfs.diff.tar",
      DOCKER_FOREIGN_LAYER: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
      DOCKER_PLUGIN_CONFIG: "application/vnd.docker.plugin.v1+json",
      DOCKER_MANIFEST_SCHEMA1: "application/vnd.docker.distribution.manifest.v1+json",
      DOCKER_MANIFEST_SCHEMA1_SIGNED: "application/vnd.docker.distribution.manifest.v1+prettyjws",
    });
  });
});

describe("media type helpers", () => {
  const rows: Array<[string, Record<string, boolean>]> = [
    [MediaType.OCI_INDEX, { index: true, manifest: true }],
    [MediaType.DOCKER_MANIFEST_LIST, { index: true, manifest: true }],
    [MediaType.OCI_MANIFEST, { image: true, manifest: true }],
    [MediaType.DOCKER_MANIFEST, { image: true, manifest: true }],
    [MediaType.DOCKER_MANIFEST_SCHEMA1, { schema1: true, manifest: true }],
    [MediaType.DOCKER_MANIFEST_SCHEMA1_SIGNED, { schema1: true, manifest: true }],
    [MediaType.OCI_CONFIG, { config: true }],
    [MediaType.DOCKER_CONFIG, { config: true }],
    [MediaType.DOCKER_PLUGIN_CONFIG, {}],
    [MediaType.OCI_EMPTY, {}],
    [MediaType.OCI_LAYER, { layer: true }],
    [MediaType.OCI_LAYER_GZIP, { layer: true }],
    [MediaType.OCI_LAYER_ZSTD, { layer: true }],
    [MediaType.DOCKER_LAYER, { layer: true }],
    [MediaType.DOCKER_LAYER_UNCOMPRESSED, { layer: true }],
    [MediaType.DOCKER_FOREIGN_LAYER, { layer: true, nondistributable: true }],
    [MediaType.OCI_NONDISTRIBUTABLE_LAYER, { layer: true, nondistributable: true }],
    [MediaType.OCI_NONDISTRIBUTABLE_LAYER_GZIP, { layer: true, nondistributable: true }],
    [MediaType.OCI_NONDISTRIBUTABLE_LAYER_ZSTD, { layer: true, nondistributable: true }],
    ["application/vnd.cncf.helm.chart.content.v1.tar+gzip", {}],
    ["application/json", {}],
  ];

  it.each(rows)("%s", (mediaType, expected) => {
    expect(isIndex(mediaType)).toBe(expected.index === true);
    expect(isImage(mediaType)).toBe(expected.image === true);
    expect(isSchema1(mediaType)).toBe(expected.schema1 === true);
    expect(isManifest(mediaType)).toBe(expected.manifest === true);
    expect(isConfig(mediaType)).toBe(expected.config === true);
    expect(isLayer(mediaType)).toBe(expected.layer === true);
    expect(isDistributable(mediaType)).toBe(expected.nondistributable !== true);
  });

  it("ignore parameters and case, as Content-Type headers carry them", () => {
    expect(isImage("application/vnd.oci.image.manifest.v1+json; charset=utf-8")).toBe(true);
    expect(isIndex("Application/VND.OCI.Image.Index.v1+JSON")).toBe(true);
    expect(baseMediaType(" application/json ; q=1")).toBe("application/json");
  });

  it("answer false for undefined", () => {
    expect(isIndex(undefined)).toBe(false);
    expect(isLayer(undefined)).toBe(false);
    expect(isDistributable(undefined)).toBe(true);
  });

  it.each([
    [MediaType.OCI_LAYER_GZIP, "gzip"],
    [MediaType.DOCKER_LAYER, "gzip"],
    [MediaType.DOCKER_FOREIGN_LAYER, "gzip"],
    [MediaType.OCI_LAYER_ZSTD, "zstd"],
    [MediaType.OCI_LAYER, "none"],
    [MediaType.DOCKER_LAYER_UNCOMPRESSED, "none"],
    [MediaType.OCI_CONFIG, undefined],
  ])("layerCompression(%s) is %s", (mediaType, compression) => {
    expect(layerCompression(mediaType)).toBe(compression);
  });

  it.each([
    ["application/vnd.oci.image.manifest.v1+json", true],
    ["application/vnd.cncf.helm.config.v1+json", true],
    ["a/b", true],
    ["application/json; charset=utf-8", false],
    ["application/json\r\nX-Injected: 1", false],
    ["application", false],
    ["/json", false],
    ["application/", false],
    ["application/json/extra", false],
    ["", false],
    [`application/${"x".repeat(200)}`, false],
  ])("isValidMediaType(%j) is %s", (value, valid) => {
    expect(isValidMediaType(value)).toBe(valid);
  });
});

describe("sniffManifestMediaType", () => {
  const digest = `sha256:${"a".repeat(64)}`;
  it.each([
    [
      "an explicit mediaType wins",
      { schemaVersion: 2, mediaType: "application/x-custom+json", manifests: [] },
      "application/x-custom+json",
    ],
    [
      "an empty mediaType is ignored",
      { schemaVersion: 2, mediaType: "", manifests: [] },
      MediaType.OCI_INDEX,
    ],
    ["manifests means an OCI index", { schemaVersion: 2, manifests: [] }, MediaType.OCI_INDEX],
    [
      "a Docker config means a Docker manifest",
      {
        schemaVersion: 2,
        config: { mediaType: MediaType.DOCKER_CONFIG, size: 1, digest },
        layers: [],
      },
      MediaType.DOCKER_MANIFEST,
    ],
    [
      "an OCI config means an OCI manifest",
      {
        schemaVersion: 2,
        config: { mediaType: MediaType.OCI_CONFIG, size: 1, digest },
        layers: [],
      },
      MediaType.OCI_MANIFEST,
    ],
    [
      "an artifact config means an OCI manifest",
      {
        schemaVersion: 2,
        config: { mediaType: "application/vnd.cncf.helm.config.v1+json", size: 1, digest },
        layers: [],
      },
      MediaType.OCI_MANIFEST,
    ],
    ["layers alone mean an OCI manifest", { schemaVersion: 2, layers: [] }, MediaType.OCI_MANIFEST],
    [
      "schemaVersion 1 is schema 1",
      { schemaVersion: 1, name: "x", tag: "y", fsLayers: [] },
      MediaType.DOCKER_MANIFEST_SCHEMA1,
    ],
    [
      "signed schema 1",
      { schemaVersion: 1, fsLayers: [], signatures: [{}] },
      MediaType.DOCKER_MANIFEST_SCHEMA1_SIGNED,
    ],
    ["nothing recognisable", { schemaVersion: 2 }, undefined],
    ["a non-string mediaType is not trusted", { mediaType: 7, manifests: [] }, MediaType.OCI_INDEX],
  ])("%s", (_name, document, expected) => {
    expect(sniffManifestMediaType(JSON.stringify(document))).toBe(expected);
    expect(sniffManifestMediaType(Buffer.from(JSON.stringify(document)))).toBe(expected);
  });

  it.each([["not json"], ["[]"], ["null"], ["42"], ['"string"']])(
    "returns undefined for %j",
    (input) => {
      expect(sniffManifestMediaType(input)).toBeUndefined();
    },
  );

  it("returns undefined for invalid UTF-8 and for input over the cap", () => {
    expect(sniffManifestMediaType(new Uint8Array([0x7b, 0xff, 0x7d]))).toBeUndefined();
    expect(sniffManifestMediaType('{"manifests":[]}', { maxBytes: 5 })).toBeUndefined();
  });
});
