import { createHash } from "node:crypto";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** The body parsed as JSON. */
  json<T = unknown>(): T;
  /** The spec error codes of an error body, in order. */
  codes(): string[];
}

export interface RawRequest {
  method?: string;
  headers?: Record<string, string | number>;
  body?: string | Uint8Array | AsyncIterable<Uint8Array>;
  /** Send with Transfer-Encoding: chunked (no Content-Length). */
  chunked?: boolean;
}

/**
 * One HTTP exchange over node:http, nothing added: no redirects, no retries, and a fresh
 * connection each time so tests never depend on keep-alive state.
 */
export function raw(url: string, options: RawRequest = {}): Promise<RawResponse> {
  const { method = "GET", headers = {}, body, chunked = false } = options;
  const sent: Record<string, string | number> = { ...headers };
  if ((typeof body === "string" || body instanceof Uint8Array) && !chunked) {
    sent["Content-Length"] ??= Buffer.byteLength(body);
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: sent, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => {
        const bytes = Buffer.concat(chunks);
        const text = bytes.toString("utf8");
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: bytes,
          text,
          json: <T>() => JSON.parse(text) as T,
          codes: () =>
            ((JSON.parse(text) as { errors?: { code: string }[] }).errors ?? []).map((e) => e.code),
        });
      });
    });
    req.on("error", reject);
    if (body === undefined) {
      req.end();
    } else if (typeof body === "string" || body instanceof Uint8Array) {
      req.end(body);
    } else {
      (async () => {
        for await (const chunk of body) {
          if (!req.write(chunk)) await new Promise((r) => req.once("drain", r));
        }
        req.end();
      })().catch((error) => req.destroy(error));
    }
  });
}

export function sha256(data: string | Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export function sha512(data: string | Uint8Array): string {
  return `sha512:${createHash("sha512").update(data).digest("hex")}`;
}

/** Appends a query parameter to a Location that may or may not have a query already. */
export function withQuery(location: string, query: string): string {
  return `${location}${location.includes("?") ? "&" : "?"}${query}`;
}

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const ACCEPT_ALL = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].join(", ");

/** A client for one registry base URL, with the push steps tests repeat. */
export function client(base: string, defaults: { headers?: Record<string, string> } = {}) {
  const call = (path: string, options: RawRequest = {}) =>
    raw(path.startsWith("http") ? path : `${base}${path}`, {
      ...options,
      headers: { ...defaults.headers, ...options.headers },
    });
  const api = {
    call,
    /** Location of the next request: absolute (distribution) or relative (ours). */
    url: (location: string) => new URL(location, base).toString(),
    async startUpload(repo: string) {
      const res = await call(`/v2/${repo}/blobs/uploads/`, { method: "POST" });
      if (res.status !== 202) throw new Error(`POST upload: ${res.status} ${res.text}`);
      return api.url(String(res.headers.location));
    },
    /** POST + PUT monolithic upload; returns the digest. */
    async pushBlob(repo: string, content: string | Uint8Array) {
      const digest = sha256(content);
      const location = await api.startUpload(repo);
      const res = await call(withQuery(location, `digest=${digest}`), {
        method: "PUT",
        body: content,
        headers: { "Content-Type": "application/octet-stream" },
      });
      if (res.status !== 201) throw new Error(`PUT blob: ${res.status} ${res.text}`);
      return { digest, size: Buffer.byteLength(content) };
    },
    async pushManifest(repo: string, reference: string, manifest: string, mediaType: string) {
      return call(`/v2/${repo}/manifests/${reference}`, {
        method: "PUT",
        body: manifest,
        headers: { "Content-Type": mediaType },
      });
    },
    /** Pushes a small OCI image (config + one layer + manifest) and returns its parts. */
    async pushImage(repo: string, tag: string, seed = "layer") {
      const config = await api.pushBlob(
        repo,
        JSON.stringify({ architecture: "amd64", os: "linux", seed }),
      );
      const layer = await api.pushBlob(repo, `${seed}-bytes`);
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, ...config },
        layers: [{ mediaType: OCI_LAYER, ...layer }],
      });
      const res = await api.pushManifest(repo, tag, manifest, OCI_MANIFEST);
      if (res.status !== 201) throw new Error(`PUT manifest: ${res.status} ${res.text}`);
      return {
        config,
        layer,
        manifest,
        digest: sha256(manifest),
        size: Buffer.byteLength(manifest),
      };
    },
  };
  return api;
}
