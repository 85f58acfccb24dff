import { createGzip } from "node:zlib";

// A tar writer that writes whatever it is told, unsafe names included: the hostile archives of
// the suite cannot come from a library that refuses to make them.

export interface RawEntry {
  name: string;
  /** "0" file (default), "1" hard link, "2" symlink, "5" directory, "x" pax header. */
  type?: "0" | "1" | "2" | "5" | "x";
  content?: Uint8Array | string;
  linkname?: string;
  /** A size to claim in the header instead of the content's. */
  size?: number;
}

function header(entry: RawEntry, size: number): Buffer {
  const block = Buffer.alloc(512);
  const field = (text: string, offset: number, length: number) =>
    block.write(text, offset, length, "latin1");
  const octal = (value: number, length: number) =>
    `${value.toString(8).padStart(length - 1, "0")}\0`;
  field(entry.name, 0, 100);
  field(octal(entry.type === "5" ? 0o755 : 0o644, 8), 100, 8);
  field(octal(0, 8), 108, 8);
  field(octal(0, 8), 116, 8);
  field(octal(size, 12), 124, 12);
  field(octal(0, 12), 136, 12);
  block.fill(0x20, 148, 156);
  field(entry.type ?? "0", 156, 1);
  field(entry.linkname ?? "", 157, 100);
  field("ustar\0", 257, 6);
  field("00", 263, 2);
  const sum = block.reduce((total, byte) => total + byte, 0);
  field(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return block;
}

/** A tar of the entries, ended with the two zero blocks. */
export function rawTar(entries: readonly RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const content = Buffer.from(entry.content ?? "");
    parts.push(header(entry, entry.size ?? content.length));
    parts.push(content);
    const pad = (512 - (content.length % 512)) % 512;
    parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A pax extended header entry whose records (such as `path`) apply to the next entry. */
export function paxEntry(records: Record<string, string>): RawEntry {
  let content = "";
  for (const [key, value] of Object.entries(records)) {
    const body = ` ${key}=${value}\n`;
    // The length prefix counts itself: find the fixed point.
    let length = Buffer.byteLength(body) + 1;
    while (String(length).length + Buffer.byteLength(body) !== length) length++;
    content += `${length}${body}`;
  }
  return { name: "PaxHeader", type: "x", content };
}

/** The header of one file claiming `size` bytes: the start of a tar whose data follows. */
export function rawTarHeader(name: string, size: number): Buffer {
  return header({ name }, size);
}

export function gzip(bytes: Uint8Array, level = 9): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const stream = createGzip({ level });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
    stream.end(bytes);
  });
}

/**
 * A gzip bomb of `gib` GiB: a tar header for one huge file, then gzip members of zeros
 * repeated (gzip allows members back to back). A few MiB that inflate to gigabytes.
 */
export async function gzipBomb(gib: number): Promise<Buffer> {
  const size = gib * 1024 * 1024 * 1024;
  const member = await gzip(Buffer.alloc(16 * 1024 * 1024));
  const count = size / (16 * 1024 * 1024);
  return Buffer.concat([await gzip(rawTarHeader("zeros", size)), ...Array(count).fill(member)]);
}
