// The "reuse" row of pull, push-cold and copy: the minimal client's work (minimal-client.ts) with
// no HTTP library at all, on raw keep-alive sockets that each read into one buffer of their own,
// reused for every read (net's `onread`). The node and undici rows get every read of at most
// 64 KiB in a newly allocated Buffer, as every Readable socket does. This row shows what a Node
// client pays without that:
// - a pull hashes each read and writes it with writeSync before the socket reads again;
// - a push reads its file with readSync into pooled buffers, each queued on the upload's socket
//   and reused once the kernel has its bytes;
// - a copy hashes each read and copies it into such a pooled buffer.
// It speaks only the HTTP/1.1 that docker-registry answers here (Content-Length bodies) and
// checks what the minimal client checks.
import { createHash, type Hash } from "node:crypto";
import {
  closeSync,
  fdatasync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  writeSync,
} from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import type { NodeClientBlob, NodeClientPlan } from "./node-floor.js";

const JOBS = 4;
const READ_SIZE = 256 * 1024;
/** How many bytes a push or copy may queue on an upload's socket before it waits. */
const MAX_QUEUED = 4 * 1024 * 1024;
/** The most a response head may take. */
const MAX_HEAD = 64 * 1024;

interface Head {
  status: number;
  headers: Map<string, string>;
}

/** What a connection does with a response's body; returns false to stop the socket reading. */
type BodySink = (view: Buffer, last: boolean) => boolean;

interface Exchange {
  head: boolean;
  sink: BodySink;
  onHead(head: Head): void;
  done(error?: Error): void;
}

/** One keep-alive connection whose reads all land in the same buffer. */
class Connection {
  readonly socket: Socket;
  #exchange: Exchange | undefined;
  #headBytes: Buffer[] = [];
  #remaining = -1;

  constructor(url: URL) {
    this.socket = connect({
      host: url.hostname,
      port: Number(url.port),
      onread: {
        buffer: Buffer.allocUnsafeSlow(READ_SIZE),
        callback: (bytes, buffer) => this.#onRead((buffer as Buffer).subarray(0, bytes)),
      },
    });
    this.socket.setNoDelay(true);
    this.socket.on("error", (error) => this.#fail(error));
    this.socket.on("close", () => this.#fail(new Error("the connection closed")));
  }

  /** Sends `request`; the response's head goes to `onHead`, its body to `sink`. */
  send(request: string | Buffer, exchange: Exchange): void {
    this.#exchange = exchange;
    this.#headBytes = [];
    this.#remaining = -1;
    this.socket.write(request);
  }

  #fail(error: Error): void {
    const exchange = this.#exchange;
    this.#exchange = undefined;
    exchange?.done(error);
  }

  #onRead(view: Buffer): boolean {
    const exchange = this.#exchange;
    if (exchange === undefined) return true;
    let body = view;
    if (this.#remaining < 0) {
      this.#headBytes.push(Buffer.from(view));
      const bytes = Buffer.concat(this.#headBytes);
      const end = bytes.indexOf("\r\n\r\n");
      if (end < 0) {
        if (bytes.length > MAX_HEAD) this.#fail(new Error("the response head is too long"));
        return true;
      }
      const [statusLine = "", ...lines] = bytes.subarray(0, end).toString("latin1").split("\r\n");
      const headers = new Map<string, string>();
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const head = { status: Number(statusLine.split(" ")[1]), headers };
      if (headers.has("transfer-encoding")) {
        this.#fail(new Error(`unexpected transfer-encoding ${headers.get("transfer-encoding")}`));
        return true;
      }
      this.#remaining = exchange.head ? 0 : Number(headers.get("content-length") ?? "0");
      exchange.onHead(head);
      body = bytes.subarray(end + 4);
    }
    if (body.length > this.#remaining) {
      this.#fail(new Error("the response is longer than its Content-Length"));
      return true;
    }
    this.#remaining -= body.length;
    const last = this.#remaining === 0;
    const reading = body.length > 0 || last ? exchange.sink(body, last) : true;
    if (last && this.#exchange === exchange) {
      this.#exchange = undefined;
      exchange.done();
    }
    return reading;
  }
}

/** Idle connections per origin, so that a client keeps the few it needs. */
class Connections {
  readonly #idle = new Map<string, Connection[]>();

  take(url: URL): Connection {
    const idle = this.#idle.get(url.host) ?? [];
    // A registry may close a connection while it waits here.
    for (let connection = idle.pop(); connection; connection = idle.pop()) {
      if (!connection.socket.destroyed) return connection;
    }
    return new Connection(url);
  }

  give(url: URL, connection: Connection): void {
    const idle = this.#idle.get(url.host) ?? [];
    idle.push(connection);
    this.#idle.set(url.host, idle);
  }

  close(): void {
    for (const idle of this.#idle.values()) for (const c of idle) c.socket.destroy();
  }
}

const connections = new Connections();

function requestHead(
  method: string,
  url: URL,
  headers: Record<string, string | number> = {},
): string {
  const lines = Object.entries({ host: url.host, ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
  return `${method} ${url.pathname}${url.search} HTTP/1.1\r\n${lines.join("")}\r\n`;
}

interface Call {
  head: Head;
  /** Settles once the body has gone to the sink and the connection is idle again. */
  done: Promise<void>;
}

/**
 * Sends one request on a pooled connection. Resolves with the response's head; `done` settles
 * when its body has gone to `sink`, and the connection is then idle again.
 */
function call(
  method: string,
  url: URL,
  options: {
    headers?: Record<string, string | number>;
    body?: Buffer;
    sink?: BodySink;
    /** Sends the request's head only; the caller writes its body on `connection.socket`. */
    onConnection?: (connection: Connection) => void;
  } = {},
): Promise<Call> {
  const connection = connections.take(url);
  return new Promise((resolveHead, rejectHead) => {
    let resolveDone: () => void = () => {};
    let rejectDone: (error: Error) => void = () => {};
    const done = new Promise<void>((resolve, reject) => {
      resolveDone = resolve;
      rejectDone = reject;
    });
    done.catch(() => {});
    let headSeen = false;
    const sink = options.sink ?? (() => true);
    connection.send(
      options.body === undefined
        ? requestHead(method, url, options.headers)
        : Buffer.concat([Buffer.from(requestHead(method, url, options.headers)), options.body]),
      {
        head: method === "HEAD",
        sink,
        onHead(head) {
          headSeen = true;
          resolveHead({ head, done });
        },
        done(error) {
          if (error === undefined) {
            connections.give(url, connection);
            resolveDone();
          } else {
            connection.socket.destroy();
            rejectDone(error);
            if (!headSeen) rejectHead(error);
          }
        },
      },
    );
    options.onConnection?.(connection);
  });
}

/** Reads a whole small response body, such as a manifest or an error. */
async function fetchBytes(
  url: URL,
  headers: Record<string, string> = {},
): Promise<Head & { bytes: Buffer }> {
  const chunks: Buffer[] = [];
  const { head, done } = await call("GET", url, {
    headers,
    sink: (view) => {
      chunks.push(Buffer.from(view));
      return true;
    },
  });
  await done;
  return { ...head, bytes: Buffer.concat(chunks) };
}

function hexOf(digest: string): string {
  return digest.slice("sha256:".length);
}

async function pullBlob(
  plan: Extract<NodeClientPlan, { mode: "pull" }>,
  blob: NodeClientBlob,
): Promise<void> {
  const manifest = blob.kind === "manifest";
  const url = new URL(
    `${plan.url}/v2/${plan.repo}/${manifest ? "manifests" : "blobs"}/${blob.digest}`,
  );
  const dir = join(plan.outDir, "blobs", "sha256");
  const temporary = join(dir, `.${hexOf(blob.digest)}.partial`);
  const file = openSync(temporary, "w");
  const hash = createHash("sha256");
  try {
    const { head, done } = await call("GET", url, {
      headers: manifest ? { accept: blob.mediaType } : {},
      sink: (view) => {
        hash.update(view);
        writeSync(file, view);
        return true;
      },
    });
    await done;
    if (head.status !== 200) throw new Error(`GET ${blob.digest}: status ${head.status}`);
    const hex = hash.digest("hex");
    if (hex !== hexOf(blob.digest)) throw new Error(`${blob.digest}: received sha256:${hex}`);
    await new Promise<void>((resolve, reject) =>
      fdatasync(file, (error) => (error ? reject(error) : resolve())),
    );
  } finally {
    closeSync(file);
  }
  renameSync(temporary, join(dir, hexOf(blob.digest)));
}

/** Buffers for queued upload writes, reused once the kernel has taken their bytes. */
const spare: Buffer[] = [];

/** The upload session a POST answered with, with the blob's digest to finish it. */
function uploadUrl(head: Head, base: string, blob: NodeClientBlob): URL {
  const location = head.headers.get("location");
  if (head.status !== 202 || location === undefined) {
    throw new Error(`POST for ${blob.digest}: status ${head.status}`);
  }
  const upload = new URL(location, base);
  upload.searchParams.set("digest", blob.digest);
  return upload;
}

/** Resolves when `socket` has written what was queued, or has closed. */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}

/** Sends a blob PUT's head; its body is written on the returned socket. */
function startPut(upload: URL, blob: NodeClientBlob): { uploaded: Promise<Call>; socket: Socket } {
  let put: Connection | undefined;
  const uploaded = call("PUT", upload, {
    headers: { "content-type": "application/octet-stream", "content-length": blob.size },
    onConnection: (connection) => {
      put = connection;
    },
  });
  uploaded.catch(() => {});
  const socket = (put as Connection | undefined)?.socket;
  if (socket === undefined) throw new Error("no connection for the upload");
  return { uploaded, socket };
}

async function expectPut(uploaded: Promise<Call>, blob: NodeClientBlob): Promise<void> {
  const response = await uploaded;
  await response.done;
  if (response.head.status !== 201) {
    throw new Error(`PUT ${blob.digest}: status ${response.head.status}`);
  }
}

/** Streams the source's blob into `upload`'s PUT, failing it before its last byte if wrong. */
async function streamBlob(
  plan: Extract<NodeClientPlan, { mode: "copy" }>,
  blob: NodeClientBlob,
  upload: URL,
): Promise<void> {
  const hash: Hash = createHash("sha256");
  const { uploaded, socket: target } = startPut(upload, blob);
  let download: Socket | undefined;
  let wrong: Error | undefined;
  const resume = () => download?.resume();
  target.on("drain", resume);
  try {
    const { head, done } = await call(
      "GET",
      new URL(`${plan.source.url}/v2/${plan.source.repo}/blobs/${blob.digest}`),
      {
        onConnection: (connection) => {
          download = connection.socket;
        },
        sink: (view, last) => {
          hash.update(view);
          if (last && hash.digest("hex") !== hexOf(blob.digest)) {
            // The upload ends short, so the registry never takes the wrong bytes.
            wrong = new Error(`${blob.digest}: received other bytes`);
            target.destroy();
            return true;
          }
          const buffer = spare.pop() ?? Buffer.allocUnsafeSlow(READ_SIZE);
          view.copy(buffer);
          target.write(buffer.subarray(0, view.length), () => spare.push(buffer));
          // The connection goes back to the pool after its last read, so it must keep reading.
          return last || target.writableLength < MAX_QUEUED;
        },
      },
    );
    if (head.status !== 200) throw new Error(`GET ${blob.digest}: status ${head.status}`);
    await done;
  } finally {
    target.off("drain", resume);
  }
  if (wrong !== undefined) throw wrong;
  await expectPut(uploaded, blob);
}

async function pushBlob(
  plan: Extract<NodeClientPlan, { mode: "push" }>,
  blob: NodeClientBlob,
): Promise<void> {
  const started = await call("POST", new URL(`${plan.url}/v2/${plan.repo}/blobs/uploads/`), {
    headers: { "content-length": 0 },
  });
  await started.done;
  const upload = uploadUrl(started.head, plan.url, blob);
  const { uploaded, socket } = startPut(upload, blob);
  const file = openSync(join(plan.layoutDir, "blobs", "sha256", hexOf(blob.digest)), "r");
  try {
    let position = 0;
    while (position < blob.size) {
      if (socket.writableLength >= MAX_QUEUED) {
        await drained(socket);
        if (socket.destroyed) break;
      }
      const buffer = spare.pop() ?? Buffer.allocUnsafeSlow(READ_SIZE);
      const bytes = readSync(file, buffer, 0, buffer.length, position);
      if (bytes === 0) throw new Error(`${blob.digest}: the file ends at ${position} bytes`);
      position += bytes;
      socket.write(buffer.subarray(0, bytes), () => spare.push(buffer));
    }
  } finally {
    closeSync(file);
  }
  await expectPut(uploaded, blob);
}

async function copyBlob(
  plan: Extract<NodeClientPlan, { mode: "copy" }>,
  blob: NodeClientBlob,
): Promise<void> {
  const target = `${plan.destination.url}/v2/${plan.destination.repo}/blobs`;
  const exists = await call("HEAD", new URL(`${target}/${blob.digest}`));
  await exists.done;
  if (exists.head.status === 200) return;
  const started = await call("POST", new URL(`${target}/uploads/`), {
    headers: { "content-length": 0 },
  });
  await started.done;
  await streamBlob(plan, blob, uploadUrl(started.head, plan.destination.url, blob));
}

async function putManifests(
  base: string,
  manifests: ReadonlyArray<NodeClientBlob & { reference: string }>,
  bytesOf: (manifest: NodeClientBlob) => Promise<Buffer>,
): Promise<void> {
  for (const manifest of manifests) {
    const bytes = await bytesOf(manifest);
    const { head, done } = await call("PUT", new URL(`${base}/manifests/${manifest.reference}`), {
      headers: { "content-type": manifest.mediaType, "content-length": bytes.length },
      body: bytes,
    });
    await done;
    if (head.status !== 201) {
      throw new Error(`PUT manifest ${manifest.reference}: status ${head.status}`);
    }
  }
}

async function inTurns<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: JOBS }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

async function run(planPath: string): Promise<void> {
  const plan = JSON.parse(await readFile(planPath, "utf8")) as NodeClientPlan;
  if (plan.mode === "pull") {
    mkdirSync(join(plan.outDir, "blobs", "sha256"), { recursive: true });
    await inTurns(plan.blobs, (blob) => pullBlob(plan, blob));
    await writeFile(join(plan.outDir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(plan.outDir, "index.json"), plan.index);
  } else if (plan.mode === "copy") {
    const fetched = new Map<string, Buffer>();
    await inTurns(plan.manifests, async (manifest) => {
      const url = new URL(`${plan.source.url}/v2/${plan.source.repo}/manifests/${manifest.digest}`);
      const response = await fetchBytes(url, { accept: manifest.mediaType });
      const hex = createHash("sha256").update(response.bytes).digest("hex");
      if (response.status !== 200 || hex !== hexOf(manifest.digest)) {
        throw new Error(
          `GET manifest ${manifest.digest}: status ${response.status}, sha256:${hex}`,
        );
      }
      fetched.set(manifest.digest, response.bytes);
    });
    await inTurns(plan.blobs, (blob) => copyBlob(plan, blob));
    await putManifests(
      `${plan.destination.url}/v2/${plan.destination.repo}`,
      plan.manifests,
      async (manifest) => fetched.get(manifest.digest) as Buffer,
    );
  } else {
    await inTurns(plan.blobs, (blob) => pushBlob(plan, blob));
    await putManifests(`${plan.url}/v2/${plan.repo}`, plan.manifests, (manifest) =>
      readFile(join(plan.layoutDir, "blobs", "sha256", hexOf(manifest.digest))),
    );
  }
  connections.close();
}

run(process.argv[2] as string).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
