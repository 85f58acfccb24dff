import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { OCI_CONFIG, OCI_INDEX, OCI_MANIFEST } from "./http.js";

// OCI image layouts written by hand (image-spec image-layout.md): an `oci-layout` marker,
// `index.json` naming the entry points, and content-addressed files under blobs/<alg>/<hex>.

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string };
  annotations?: Record<string, string>;
}

const sha256 = (data: Uint8Array) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** A one-file ustar archive: enough for a real, valid layer. */
export function tarOf(name: string, content: string): Buffer {
  const header = Buffer.alloc(512);
  const body = Buffer.from(content);
  const field = (value: string, offset: number, length: number) =>
    header.write(value, offset, length, "ascii");
  field(name, 0, 100);
  field("0000644\0", 100, 8);
  field("0000000\0", 108, 8);
  field("0000000\0", 116, 8);
  field(`${body.length.toString(8).padStart(11, "0")}\0`, 124, 12);
  field("00000000000\0", 136, 12);
  field("        ", 148, 8);
  field("0", 156, 1);
  field("ustar\0", 257, 6);
  field("00", 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, padding, Buffer.alloc(1024)]);
}

export class Layout {
  constructor(readonly dir: string) {}

  static async create(dir: string): Promise<Layout> {
    await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
    await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    return new Layout(dir);
  }

  async blob(bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    const digest = sha256(bytes);
    await writeFile(join(this.dir, "blobs", "sha256", digest.slice(7)), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  /** An image for a platform with one gzipped layer holding one file. */
  async image(platform: { os: string; architecture: string }, text: string): Promise<Descriptor> {
    const tar = tarOf("hello.txt", text);
    const layer = await this.blob(gzipSync(tar), "application/vnd.oci.image.layer.v1.tar+gzip");
    const config = await this.blob(
      Buffer.from(
        JSON.stringify({
          ...platform,
          config: { Cmd: ["/hello"] },
          rootfs: { type: "layers", diff_ids: [sha256(tar)] },
        }),
      ),
      OCI_CONFIG,
    );
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] }),
    );
    return { ...(await this.blob(manifest, OCI_MANIFEST)), platform };
  }

  async index(children: Descriptor[]): Promise<Descriptor> {
    const index = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children }),
    );
    return this.blob(index, OCI_INDEX);
  }

  /** Writes index.json with each descriptor named by its ref. */
  async name(entries: Record<string, Descriptor>): Promise<void> {
    const manifests = Object.entries(entries).map(([ref, { platform: _platform, ...d }]) => ({
      ...d,
      annotations: { "org.opencontainers.image.ref.name": ref },
    }));
    await writeFile(join(this.dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests }));
  }

  /** The descriptor index.json gives for a ref. */
  async entry(ref: string): Promise<Descriptor | undefined> {
    const index = JSON.parse(await readFile(join(this.dir, "index.json"), "utf8")) as {
      manifests: Descriptor[];
    };
    return index.manifests.find(
      (m) => m.annotations?.["org.opencontainers.image.ref.name"] === ref,
    );
  }

  async read(digest: string): Promise<Buffer> {
    return readFile(join(this.dir, "blobs", ...digest.split(":")));
  }
}
