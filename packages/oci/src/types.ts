import type { Hash } from "./hash.js";

// The document types mirror the OCI image spec and Docker's schema 2. Parsed documents keep
// fields these types do not name (they are "loose"), so re-serialising loses nothing.

/** The platform an image runs on, as in an index entry or (flattened) an image config. */
export interface Platform {
  /** CPU architecture in GOARCH terms: `amd64`, `arm64`, `arm`, `s390x`, … */
  architecture: string;
  /** Operating system in GOOS terms: `linux`, `windows`, … */
  os: string;
  /** OS version, used by Windows images: `10.0.17763.1879`. */
  "os.version"?: string;
  /** OS features, e.g. `win32k`. Order carries no meaning. */
  "os.features"?: string[];
  /** CPU variant: `v7` for 32-bit arm, `v8` for arm64, `v2`–`v4` for amd64 micro-architectures. */
  variant?: string;
  /** Reserved by the OCI spec; kept when present. */
  features?: string[];
}

/** A reference to content by digest and size, with its media type. */
export interface Descriptor {
  mediaType: string;
  /** Exact byte length of the content. */
  size: number;
  digest: Hash;
  /** Alternative download locations (Docker foreign layers). */
  urls?: string[];
  annotations?: Record<string, string>;
  /** The content itself, base64-encoded. Use {@link readDescriptorData} to get verified bytes. */
  data?: string;
  /** For index entries: the platform of the referenced manifest. */
  platform?: Platform;
  /** The artifact type, for descriptors of artifact manifests. */
  artifactType?: string;
}

/** An image manifest: OCI (`application/vnd.oci.image.manifest.v1+json`) or Docker schema 2. */
export interface Manifest {
  schemaVersion: 2;
  /** Required by Docker; optional in OCI (sniff with {@link sniffManifestMediaType}). */
  mediaType?: string;
  /** Set on artifact manifests (OCI 1.1). */
  artifactType?: string;
  config: Descriptor;
  /** Base layer first. */
  layers: Descriptor[];
  /** The manifest this one refers to (signatures, SBOMs, attestations: OCI 1.1 referrers). */
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An index: OCI (`application/vnd.oci.image.index.v1+json`) or a Docker manifest list. */
export interface IndexManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** Docker's health check settings (durations in nanoseconds). */
export interface HealthConfig {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/**
 * The runtime defaults of a container (the `config` member of an image config). Docker writes
 * `null` for empty lists and maps, so those fields admit null.
 */
export interface ContainerConfig {
  User?: string;
  /** Keys like `80/tcp`; values are empty objects. */
  ExposedPorts?: Record<string, Record<string, unknown>> | null;
  /** `KEY=value` entries. */
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  /** Keys are paths; values are empty objects. */
  Volumes?: Record<string, Record<string, unknown>> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  Healthcheck?: HealthConfig | null;
  OnBuild?: string[] | null;
  Shell?: string[] | null;
  StopTimeout?: number;
  Hostname?: string;
  Domainname?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Image?: string;
  NetworkDisabled?: boolean;
  MacAddress?: string;
  Memory?: number;
  MemorySwap?: number;
  CpuShares?: number;
}

/** How a layer (or an empty step) was made. */
export interface History {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  /** True for steps that made no layer (ENV, LABEL, …); such entries have no diff ID. */
  empty_layer?: boolean;
}

/** The uncompressed layer digests, base layer first. */
export interface RootFS {
  /** Always `layers`. */
  type: string;
  /** sha256 of each uncompressed layer. A `null` in the JSON reads as an empty list. */
  diff_ids: Hash[];
}

/** An image config (OCI `application/vnd.oci.image.config.v1+json` or Docker's). */
export interface ConfigFile {
  /** RFC 3339 creation time. */
  created?: string;
  author?: string;
  architecture?: string;
  os?: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
  config?: ContainerConfig;
  rootfs?: RootFS;
  history?: History[];
  /** Docker-only: the build container's ID. */
  container?: string;
  /** Docker-only: the build container's config. */
  container_config?: ContainerConfig;
  /** Docker-only. */
  docker_version?: string;
}
