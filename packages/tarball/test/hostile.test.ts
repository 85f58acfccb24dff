import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  appendLayers,
  DigestMismatchError,
  emptyImage,
  Hash,
  layerFromBytes,
  MediaType,
  randomImage,
} from "@hoist/oci";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  exportImage,
  imageFromTarball,
  openTarball,
  TarballError,
  writeTarball,
} from "../src/index.js";
import {
  gnuTar,
  imageOfLayers,
  layerTars,
  listTree,
  type RawEntry,
  rawTar,
  run,
  tarballFailure,
  useTempDirectory,
} from "./helpers.js";

// Hostile archives and layers. Every case must end in a typed error, and nothing may be
// written anywhere but the target: each runs in a directory of its own (a "jail" with the target
// inside and a sentinel beside it), and the whole jail is listed afterwards.

const directory = useTempDirectory("hostile");
let counter = 0;

async function jail(): Promise<{ root: string; target: string; archive: string }> {
  const root = join(directory(), `jail-${++counter}`);
  await mkdir(join(root, "target"), { recursive: true });
  await writeFile(join(root, "sentinel"), "untouched");
  return { root, target: join(root, "target"), archive: join(root, "input.tar") };
}

async function expectJailUntouched(root: string, allowed: string[] = []): Promise<void> {
  expect(await listTree(root)).toEqual(["input.tar", "sentinel", "target", ...allowed].sort());
  expect((await readFile(join(root, "sentinel"))).toString()).toBe("untouched");
}

const config = (diffIDs: string[]) =>
  Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: diffIDs },
    }),
  );

/** A docker-save archive made by hand: one layer, a config, and the manifest.json given. */
async function archiveWith(options: {
  manifest?: unknown;
  extra?: RawEntry[];
  layer?: Buffer;
  omit?: string[];
}): Promise<Buffer> {
  const layer = options.layer ?? (await rawTar([{ name: "hello", content: "world" }]));
  const diffID = String(Hash.compute(layer));
  const cfg = config([diffID]);
  const manifest = options.manifest ?? [
    { Config: "config.json", RepoTags: ["evil:1"], Layers: ["layer.tar"] },
  ];
  const entries: RawEntry[] = [
    { name: "layer.tar", content: layer },
    { name: "config.json", content: cfg },
    ...(options.extra ?? []),
    { name: "manifest.json", content: JSON.stringify(manifest) },
  ];
  return rawTar(entries.filter((entry) => !options.omit?.includes(entry.name)));
}

async function readFails(bytes: Buffer, code: string, message?: string): Promise<void> {
  const { root, archive, target } = await jail();
  await writeFile(archive, bytes);
  const error = await tarballFailure(
    (async () => {
      const image = await imageFromTarball(archive);
      await exportImage(image, join(target, "fs.tar"));
    })(),
  );
  expect(error.code).toBe(code);
  if (message) expect(error.message).toContain(message);
  await expectJailUntouched(root);
}

describe("hostile docker-save archives", () => {
  it("refuses manifest.json paths that leave the archive", async () => {
    for (const [field, value] of [
      ["Layers", ["../../etc/passwd"]],
      ["Layers", ["/etc/passwd"]],
      ["Config", "../config.json"],
      ["Config", "C:\\config.json"],
    ] as const) {
      const manifest = [
        { Config: "config.json", RepoTags: ["evil:1"], Layers: ["layer.tar"], [field]: value },
      ];
      await readFails(
        await archiveWith({ manifest }),
        "HOIST_TARBALL_UNSAFE_PATH",
        JSON.stringify(Array.isArray(value) ? value[0] : value),
      );
    }
  });

  it("refuses symlinks and hard links that point out of the archive, and link cycles", async () => {
    const cases: Array<[RawEntry[], string]> = [
      [
        [{ name: "link.tar", type: "symlink", linkname: "../../../etc/passwd" }],
        "HOIST_TARBALL_UNSAFE_PATH",
      ],
      [
        [{ name: "link.tar", type: "symlink", linkname: "/etc/passwd" }],
        "HOIST_TARBALL_UNSAFE_PATH",
      ],
      [[{ name: "link.tar", type: "link", linkname: "../outside" }], "HOIST_TARBALL_UNSAFE_PATH"],
      [
        [
          { name: "link.tar", type: "symlink", linkname: "other.tar" },
          { name: "other.tar", type: "symlink", linkname: "link.tar" },
        ],
        "HOIST_TARBALL_LINK_CYCLE",
      ],
    ];
    for (const [extra, code] of cases) {
      const manifest = [{ Config: "config.json", RepoTags: ["evil:1"], Layers: ["link.tar"] }];
      await readFails(await archiveWith({ manifest, extra }), code);
    }
  });

  it("follows links that stay inside, as skopeo's legacy layout needs", async () => {
    const { root, archive } = await jail();
    const manifest = [{ Config: "config.json", RepoTags: ["ok:1"], Layers: ["legacy/layer.tar"] }];
    await writeFile(
      archive,
      await archiveWith({
        manifest,
        extra: [{ name: "legacy/layer.tar", type: "symlink", linkname: "../layer.tar" }],
      }),
    );
    const image = await imageFromTarball(archive);
    expect((await layerTars(image))[0]?.length).toBeGreaterThan(0);
    await expectJailUntouched(root);
  });

  it("names what is missing", async () => {
    await readFails(
      await archiveWith({ omit: ["manifest.json"] }),
      "HOIST_TARBALL_MISSING_ENTRY",
      "manifest.json",
    );
    await readFails(
      await archiveWith({ omit: ["layer.tar"] }),
      "HOIST_TARBALL_MISSING_ENTRY",
      '"layer.tar"',
    );
    await readFails(
      await archiveWith({ omit: ["config.json"] }),
      "HOIST_TARBALL_MISSING_ENTRY",
      '"config.json"',
    );
  });

  it("refuses a manifest.json that is not one, or disagrees with the config", async () => {
    await readFails(
      await archiveWith({ manifest: { not: "a list" } }),
      "HOIST_TARBALL_INVALID_MANIFEST",
    );
    await readFails(
      await archiveWith({
        manifest: [{ Config: "config.json", RepoTags: [], Layers: ["layer.tar", "layer.tar"] }],
      }),
      "HOIST_TARBALL_INVALID_MANIFEST",
      "2 layers",
    );
    const { root, archive } = await jail();
    await writeFile(archive, await archiveWith({ manifest: [] }));
    expect((await tarballFailure(imageFromTarball(archive))).code).toBe(
      "HOIST_TARBALL_AMBIGUOUS_IMAGE",
    );
    await expectJailUntouched(root);
  });

  it("catches a layer whose bytes do not match the config's diffID", async () => {
    const layer = await rawTar([{ name: "hello", content: "world" }]);
    const { root, archive, target } = await jail();
    const bytes = await archiveWith({ layer });
    // Flip one byte of the file's content inside the archive.
    const at = bytes.indexOf(Buffer.from("world"));
    bytes[at] = "W".charCodeAt(0);
    await writeFile(archive, bytes);
    const image = await imageFromTarball(archive);
    const error = await exportImage(image, join(target, "fs.tar")).catch((caught) => caught);
    expect(DigestMismatchError.is(error)).toBe(true);
    await expectJailUntouched(root);
  });

  it("refuses random bytes and truncated archives at any length", async () => {
    await readFails(Buffer.from("x".repeat(4096)), "HOIST_TARBALL_INVALID_ARCHIVE");
    const image = randomImage({
      layers: 2,
      layerSize: 2000,
      seed: 5,
      mediaType: MediaType.DOCKER_MANIFEST,
    });
    const { archive: whole } = await jail();
    await writeTarball(whole, { image, refs: ["whole:1"] });
    const bytes = await readFile(whole);
    const expected = String(await image.digest());
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: bytes.length - 1 }), async (cut) => {
        const { root, archive, target } = await jail();
        await writeFile(archive, bytes.subarray(0, cut));
        try {
          const back = await imageFromTarball(archive);
          // Only the end-of-archive blocks may be missing for a read to succeed, and then it
          // must read the same image.
          expect(String(await back.digest())).toBe(expected);
          await exportImage(back, join(target, "fs.tar"));
          await expectJailUntouched(root, ["target/fs.tar"]);
        } catch (error) {
          expect(TarballError.is(error), String(error)).toBe(true);
          expect([
            "HOIST_TARBALL_TRUNCATED",
            "HOIST_TARBALL_MISSING_ENTRY",
            "HOIST_TARBALL_INVALID_ARCHIVE",
          ]).toContain((error as TarballError).code);
          await expectJailUntouched(root);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("refuses gigantic manifest.json and config files before reading them", async () => {
    const big = Buffer.alloc(64 * 1024, 0x20);
    const { root, archive } = await jail();
    await writeFile(
      archive,
      await rawTar([{ name: "manifest.json", content: Buffer.concat([Buffer.from("[]"), big]) }]),
    );
    const error = await tarballFailure(openTarball(archive, { maxManifestBytes: 1024 }));
    expect(error.code).toBe("HOIST_TARBALL_INVALID_MANIFEST");
    expect(error.message).toContain("larger than the 1024 allowed");
    await expectJailUntouched(root);
  });
});

describe("hostile layers in an export", () => {
  const cases: Array<[string, RawEntry[]]> = [
    ["a name climbing out with ..", [{ name: "../escaped", content: "x" }]],
    ["a deeper climb", [{ name: "a/../../escaped", content: "x" }]],
    ["an absolute name", [{ name: "/etc/escaped", content: "x" }]],
    [
      "a hard link out of the tree",
      [{ name: "passwd", type: "link", linkname: "../../etc/passwd" }],
    ],
    ["an absolute hard link", [{ name: "passwd", type: "link", linkname: "/etc/passwd" }]],
    [
      "a write through a symlink",
      [
        { name: "evil", type: "symlink", linkname: "/tmp" },
        { name: "evil/pwned", content: "x" },
      ],
    ],
    [
      "a write through a relative symlink to the parent",
      [
        { name: "up", type: "symlink", linkname: ".." },
        { name: "up/escaped", content: "x" },
      ],
    ],
    [
      "a hard link through a symlink",
      [
        { name: "evil", type: "symlink", linkname: "/etc" },
        { name: "stolen", type: "link", linkname: "evil/shadow" },
      ],
    ],
    [
      "a relative symlink out of the tree",
      [{ name: "a/link", type: "symlink", linkname: "../../../etc/shadow" }],
    ],
  ];

  it.each(cases)("refuses %s, writing nothing", async (_, entries) => {
    const { root, target } = await jail();
    await writeFile(join(root, "input.tar"), "");
    const error = await tarballFailure(
      exportImage(await imageOfLayers(entries), join(target, "fs.tar")),
    );
    expect(error.code).toBe("HOIST_TARBALL_UNSAFE_PATH");
    await expectJailUntouched(root);
  });

  it("leaves out relative symlinks out of the tree when asked to, as crane does", async () => {
    const { root, target } = await jail();
    await writeFile(join(root, "input.tar"), "");
    const image = await imageOfLayers([
      { name: "a/link", type: "symlink", linkname: "../../../etc/shadow" },
      { name: "a/ok", type: "symlink", linkname: "../b" },
      { name: "b", content: "fine" },
    ]);
    const out = join(target, "fs.tar");
    await exportImage(image, out, { unsafeSymlinks: "skip" });
    // GNU tar extracts it inside the target and nothing lands beside it.
    const extracted = join(target, "x");
    await mkdir(extracted);
    await run(gnuTar, ["-xf", out, "-C", extracted]);
    await expectJailUntouched(root, [
      "target/fs.tar",
      "target/x",
      "target/x/a",
      "target/x/a/ok",
      "target/x/b",
    ]);
  });

  it("lets a symlink in an upper layer hide a lower directory instead of writing through it", async () => {
    const lower = layerFromBytes(
      await rawTar([
        { name: "d/", type: "directory" },
        { name: "d/file", content: "low" },
      ]),
      {
        compression: "gzip",
      },
    );
    const upper = layerFromBytes(await rawTar([{ name: "d", type: "symlink", linkname: "/etc" }]), {
      compression: "gzip",
    });
    const image = appendLayers(emptyImage(), [lower, upper]);
    const { root, target } = await jail();
    await writeFile(join(root, "input.tar"), "");
    const out = join(target, "fs.tar");
    await exportImage(image, out);
    const { stdout } = await run(gnuTar, ["-tvf", out]);
    expect(stdout.trim().split("\n")).toHaveLength(1);
    expect(stdout).toContain("d -> /etc");
  });

  it("refuses a layer that is not a tar, or is cut short", async () => {
    const notTar = layerFromBytes(Buffer.from("x".repeat(2048)), { compression: "gzip" });
    const { root, target } = await jail();
    await writeFile(join(root, "input.tar"), "");
    const error = await tarballFailure(
      exportImage(appendLayers(emptyImage(), [notTar]), join(target, "fs.tar")),
    );
    expect(error.code).toBe("HOIST_TARBALL_INVALID_ARCHIVE");
    const whole = await rawTar([{ name: "big", content: Buffer.alloc(5000, 7) }]);
    const cut = layerFromBytes(whole.subarray(0, 2048), { compression: "gzip" });
    const truncated = await tarballFailure(
      exportImage(appendLayers(emptyImage(), [cut]), join(target, "fs.tar")),
    );
    expect(truncated.code).toBe("HOIST_TARBALL_TRUNCATED");
    await expectJailUntouched(root);
  });

  it("refuses a corrupt gzip layer in a tarball with a typed error", async () => {
    const { gzipSync } = await import("node:zlib");
    const gz = gzipSync(await rawTar([{ name: "a", content: "b".repeat(5000) }]));
    gz[gz.length - 20] = (gz[gz.length - 20] as number) ^ 0xff;
    await readFails(await archiveWith({ layer: gz }), "HOIST_TARBALL_DECOMPRESS_FAILED");
  });
});
