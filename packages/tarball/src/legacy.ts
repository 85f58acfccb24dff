import { createHash } from "node:crypto";
import type { Hash } from "@hoist/oci";

// The pre-1.10 `docker save` layout, which docker load still reads when manifest.json is
// missing and old tools read instead of it: a `repositories` file mapping repository and tag to
// the top layer's v1 ID, and one directory per v1 layer ID with `VERSION`, `json` (the v1 layer
// config: id, parent, and for the top layer the image's config fields) and `layer.tar` (here a
// symlink to the layer blob, as containers/image writes it). v1 IDs are derived from the chain of
// layer digests and the top layer's config, so the same image always gets the same IDs.

/** @internal What the legacy layout needs of one image. */
export interface LegacyImage {
  /** Layer blob paths in the archive, base first. */
  layerFiles: string[];
  /** The digests those blobs are named by. */
  layerDigests: Hash[];
  rawConfig: Uint8Array;
  repoTags: string[];
}

/** @internal Entries to add to the archive. */
export interface LegacyLayout {
  files: Array<{ name: string; data: Uint8Array }>;
  symlinks: Array<{ name: string; target: string }>;
}

// Fields of the image config that v1 layer configs carried.
const V1_FIELDS = [
  "architecture",
  "config",
  "container",
  "container_config",
  "created",
  "docker_version",
  "os",
] as const;

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** `repo:tag` split at the tag's colon (a registry port's colon comes before the last slash). */
export function splitRepoTag(repoTag: string): { repository: string; tag: string } {
  const colon = repoTag.lastIndexOf(":");
  if (colon > repoTag.lastIndexOf("/")) {
    return { repository: repoTag.slice(0, colon), tag: repoTag.slice(colon + 1) };
  }
  return { repository: repoTag, tag: "latest" };
}

/** @internal Builds the legacy entries for the images written. */
export function legacyLayout(images: readonly LegacyImage[]): LegacyLayout {
  const layout: LegacyLayout = { files: [], symlinks: [] };
  const written = new Set<string>();
  // Maps, not objects: a repository may be named "__proto__".
  const repositories = new Map<string, Map<string, string>>();
  for (const image of images) {
    let config: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(Buffer.from(image.rawConfig).toString("utf8"));
      if (typeof parsed === "object" && parsed !== null) config = parsed as Record<string, unknown>;
    } catch {
      // An artifact config that is not JSON contributes no fields.
    }
    let chain = "";
    let parent = "";
    for (const [index, file] of image.layerFiles.entries()) {
      const digest = String(image.layerDigests[index]);
      chain = chain === "" ? digest : `sha256:${sha256(`${chain} ${digest}`)}`;
      const v1: Record<string, unknown> = {};
      if (parent) v1.parent = parent;
      if (index === image.layerFiles.length - 1) {
        for (const field of V1_FIELDS) if (config[field] !== undefined) v1[field] = config[field];
      }
      const id = sha256(JSON.stringify({ ...v1, layer_id: chain }));
      if (!written.has(id)) {
        written.add(id);
        layout.files.push({ name: `${id}/VERSION`, data: Buffer.from("1.0") });
        layout.files.push({
          name: `${id}/json`,
          data: Buffer.from(JSON.stringify({ id, ...v1 })),
        });
        layout.symlinks.push({ name: `${id}/layer.tar`, target: `../${file}` });
      }
      parent = id;
    }
    if (!parent) continue;
    for (const repoTag of image.repoTags) {
      const { repository, tag } = splitRepoTag(repoTag);
      const tags = repositories.get(repository) ?? new Map<string, string>();
      tags.set(tag, parent);
      repositories.set(repository, tags);
    }
  }
  const json = Object.fromEntries(
    [...repositories].map(([repository, tags]) => [repository, Object.fromEntries(tags)]),
  );
  layout.files.push({ name: "repositories", data: Buffer.from(JSON.stringify(json)) });
  return layout;
}
