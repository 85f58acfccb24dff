import { type RunningDockerRegistry, skopeoRun, startDockerRegistry } from "@hoist/harness";
import { startRegistry } from "@hoist/registry";
import { signedSchema1 } from "./schema1-signer.js";

/** One request as the registry saw it. */
export interface SeenRequest {
  method: string;
  /** Path and query as sent. */
  path: string;
  status: number;
}

/** A registry the shared suite runs against, with what the suite needs to observe it. */
export interface RegistryUnderTest {
  readonly name: string;
  /** "127.0.0.1:PORT" */
  readonly host: string;
  /** It serves the referrers API (else clients use the sha256-<hex> tag). */
  readonly referrersApi: boolean;
  /** Tag lists honour `n` and send `Link` headers. */
  readonly paginatesTags: boolean;
  /** It stores schema 1 manifests pushed to it. */
  readonly acceptsSchema1: boolean;
  /** Requests so far, once `until` (if given) has been seen: the access log is written late. */
  requests(until?: (request: SeenRequest) => boolean): Promise<SeenRequest[]>;
  /**
   * Makes `repository:tag` a signed Docker schema 1 manifest converted from the image at
   * `source` (same registry). Returns the digest the registry gives it.
   */
  schema1(source: string, repository: string, tag: string): Promise<string>;
  stop(): Promise<void>;
}

export type RegistryFactory = () => Promise<RegistryUnderTest>;

const ACCESS_LINE = /"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP\/1\.1" (\d{3})/g;

function parseAccessLog(log: string): SeenRequest[] {
  return [...log.matchAll(ACCESS_LINE)].map((match) => ({
    method: match[1] as string,
    path: match[2] as string,
    status: Number(match[3]),
  }));
}

/** Debian's docker-registry (distribution 2.8.2), with schema 1 pushes enabled. */
export const dockerRegistry: RegistryFactory = async () => {
  const registry: RunningDockerRegistry = await startDockerRegistry({
    config: { compatibility: { schema1: { enabled: true } } },
  });
  return {
    name: "docker-registry",
    host: registry.host,
    referrersApi: false,
    paginatesTags: false,
    acceptsSchema1: true,
    async requests(until) {
      const deadline = Date.now() + 5000;
      for (;;) {
        const seen = parseAccessLog(registry.logs());
        if (!until || seen.some(until)) return seen;
        if (Date.now() > deadline) {
          throw new Error("docker-registry never logged the request waited for");
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async schema1(source, repository, tag) {
      // skopeo (containers/image) converts to schema 1 and signs it; distribution verifies
      // the signature when it is pushed.
      await skopeoRun(
        "copy",
        "--format",
        "v2s1",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        `docker://${registry.host}/${source}`,
        `docker://${registry.host}/${repository}:${tag}`,
      );
      const raw = await skopeoRun(
        "inspect",
        "--tls-verify=false",
        "--format",
        "{{.Digest}}",
        `docker://${registry.host}/${repository}:${tag}`,
      );
      return raw.trim();
    },
    stop: () => registry.stop(),
  };
};

/**
 * @hoist/registry in memory. It refuses schema 1 pushes by design, so a schema 1 manifest is
 * served through its fault hook (signed here, with the blobs it names mounted into place).
 */
export const hoistRegistry: RegistryFactory = async () => {
  const schema1 = new Map<string, { bytes: Buffer; digest: string }>();
  const running = await startRegistry({
    faults: {
      rules: [
        {
          name: "schema1",
          route: "manifest",
          method: ["GET", "HEAD"],
          respond: ({ url, request }) => {
            const served = schema1.get(url.pathname);
            if (!served) return undefined;
            return {
              status: 200,
              headers: {
                "Content-Type": "application/vnd.docker.distribution.manifest.v1+prettyjws",
                "Content-Length": served.bytes.length,
                "Docker-Content-Digest": served.digest,
              },
              ...(request.method === "HEAD" ? {} : { body: served.bytes }),
            };
          },
        },
      ],
    },
  });
  const base = running.url;
  return {
    name: "@hoist/registry",
    host: running.host,
    referrersApi: true,
    paginatesTags: true,
    acceptsSchema1: false,
    async requests(until) {
      const seen = running
        .requests()
        .map((r) => ({ method: r.method, path: r.url, status: r.status }));
      if (until && !seen.some(until))
        throw new Error("@hoist/registry never saw the request waited for");
      return seen;
    },
    async schema1(source, repository, tag) {
      const [sourceRepo, sourceTag] = source.split(":") as [string, string];
      const response = await fetch(`${base}/v2/${sourceRepo}/manifests/${sourceTag}`, {
        headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
      });
      const manifest = (await response.json()) as { layers: Array<{ digest: string }> };
      const layers = manifest.layers.map((layer) => layer.digest);
      for (const digest of new Set(layers)) {
        const mounted = await fetch(
          `${base}/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(sourceRepo)}`,
          { method: "POST" },
        );
        if (mounted.status !== 201) throw new Error(`could not mount ${digest}: ${mounted.status}`);
      }
      const signed = signedSchema1({ name: repository, tag, layers });
      schema1.set(`/v2/${repository}/manifests/${tag}`, signed);
      schema1.set(`/v2/${repository}/manifests/${signed.digest}`, signed);
      return signed.digest;
    },
    stop: () => running.close(),
  };
};
