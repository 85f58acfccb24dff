import { existsSync } from "node:fs";
import { sep } from "node:path";
import { createLayout, imageIndexFromPath } from "@hoist/layout";
import type { Reference } from "@hoist/name";
import {
  appendManifests,
  type Descriptor,
  emptyIndex,
  formatPlatform,
  type Image,
  type ImageIndex,
  type IndexAddendum,
  isImage,
  isIndex,
  MediaType,
  type Platform,
  parsePlatform,
  platformFromConfig,
  platformSatisfies,
  removeManifests,
} from "@hoist/oci";
import type { Context } from "../context.js";
import { CliError, usageError, context as wrap } from "../errors.js";
import { loadLocal } from "../local-images.js";
import type { Action } from "../program.js";
import { digestReference, isDigest, puller, pusher, reference } from "../remote-support.js";

/**
 * crane's rule for "is this a local OCI layout?": the path exists, or it looks like a path
 * (starts with `.` or `/`), so that `index append ./new-layout` can create one.
 */
export function isLocalReference(text: string): boolean {
  if (existsSync(text)) return true;
  return text.startsWith(".") || text.startsWith("/") || text.startsWith(sep);
}

async function remoteIndex(
  context: Context,
  text: string,
): Promise<{ ref: Reference; index: ImageIndex }> {
  const ref = reference(context, text);
  let descriptor: Awaited<ReturnType<Awaited<ReturnType<typeof puller>>["get"]>>;
  try {
    descriptor = await (await puller(context)).get(ref);
  } catch (error) {
    throw wrap(`pulling ${text}`, error);
  }
  const mediaType = descriptor.descriptor.mediaType;
  if (!isIndex(mediaType)) {
    throw new CliError(`expected ${text} to be an index, got ${JSON.stringify(mediaType)}`, {
      code: "HOIST_CLI_INVALID_ARGUMENT",
      operation: "index",
      input: text,
    });
  }
  return { ref, index: await descriptor.imageIndex() };
}

function row(digest: string, mediaType: string, platform: string): string {
  // Go's %-70s %-20s %s: pad to the width, never cut.
  return `${digest.padEnd(70)} ${mediaType.padEnd(20)} ${platform}\n`;
}

/** `hoist index list REF|PATH`: the manifests of a remote index or a local OCI layout. */
export const indexList: Action = async (context, args) => {
  const source = args[0] as string;
  const index = isLocalReference(source)
    ? await imageIndexFromPath(source, { signal: context.signal })
    : (await remoteIndex(context, source)).index;
  const { manifests } = await index.indexManifest({ signal: context.signal });
  let text = row("Digest", "MediaType", "Platform");
  for (const entry of manifests) {
    text += row(
      String(entry.digest),
      entry.mediaType,
      entry.platform ? formatPlatform(entry.platform) : "-",
    );
  }
  await context.out(text);
};

/** `hoist index filter REF --platform P...`: keeps the children that satisfy one of P. */
export const indexFilter: Action = async (context, args, options) => {
  const source = args[0] as string;
  const wanted: Platform[] = [];
  for (const text of (options.platform as string[] | undefined) ?? []) {
    try {
      wanted.push(parsePlatform(text));
    } catch (cause) {
      throw new CliError(`invalid argument ${JSON.stringify(text)} for "--platform" flag`, {
        code: "HOIST_CLI_USAGE",
        operation: "index filter",
        input: text,
        cause,
      });
    }
  }
  const { ref, index } = await remoteIndex(context, source);
  // Children without a platform never match, as in crane.
  const filtered = removeManifests(
    index,
    (descriptor) =>
      !(
        descriptor.platform &&
        wanted.some((spec) => platformSatisfies(descriptor.platform as Platform, spec))
      ),
  );
  const digest = String(await filtered.digest());
  let target: Reference = ref;
  if (typeof options.tag === "string" && options.tag) target = reference(context, options.tag);
  else if (isDigest(ref)) target = ref.repository.digest(digest);
  try {
    await (await pusher(context)).writeIndex(target, filtered);
  } catch (error) {
    throw wrap(`pushing image ${target.toString()}`, error);
  }
  await context.out(`${digestReference(target, digest)}\n`);
};

/** A manifest to append, local (a layout or tarball) or remote, with its entry fields. */
async function resolveManifest(
  context: Context,
  text: string,
): Promise<
  { kind: "image"; image: Image } | { kind: "index"; index: ImageIndex; descriptor?: Descriptor }
> {
  if (existsSync(text)) {
    const local = await loadLocal(text, { index: true, signal: context.signal });
    return local.kind === "image" ? local : { kind: "index", index: local.index };
  }
  const descriptor = await (await puller(context)).get(reference(context, text));
  const mediaType = descriptor.descriptor.mediaType;
  if (isImage(mediaType)) return { kind: "image", image: await descriptor.image() };
  if (isIndex(mediaType)) return { kind: "index", index: await descriptor.imageIndex() };
  throw new CliError(`unknown media type: ${mediaType}`, {
    code: "HOIST_CLI_INVALID_ARGUMENT",
    operation: "index append",
    input: text,
  });
}

async function collectAddenda(
  context: Context,
  manifests: string[],
  flatten: boolean,
): Promise<IndexAddendum[]> {
  const adds: IndexAddendum[] = [];
  for (const text of manifests) {
    const resolved = await resolveManifest(context, text);
    if (resolved.kind === "image") {
      // The entry's platform comes from the image's config.
      adds.push({ add: resolved.image });
      continue;
    }
    if (!flatten) {
      adds.push({ add: resolved.index });
      continue;
    }
    for (const child of (await resolved.index.indexManifest()).manifests) {
      const fields = {
        mediaType: child.mediaType,
        ...(child.platform ? { platform: child.platform } : {}),
        ...(child.annotations ? { annotations: child.annotations } : {}),
      };
      if (isImage(child.mediaType)) {
        adds.push({ add: await resolved.index.image(child.digest), descriptor: fields });
      } else if (isIndex(child.mediaType)) {
        adds.push({ add: await resolved.index.imageIndex(child.digest), descriptor: fields });
      } else {
        throw new CliError(`unexpected child media type: ${child.mediaType}`, {
          code: "HOIST_CLI_INVALID_ARGUMENT",
          operation: "index append",
          input: text,
        });
      }
    }
  }
  return adds;
}

async function appendLocal(context: Context, path: string, adds: IndexAddendum[]): Promise<void> {
  const layout = await createLayout(path, { signal: context.signal });
  for (const { add, descriptor } of adds) {
    const platform =
      descriptor?.platform ??
      ("layers" in add ? await platformFromConfig(add as Image) : undefined);
    const options = { signal: context.signal, ...(platform ? { platform } : {}) };
    if ("layers" in add) await layout.appendImage(add as Image, options);
    else await layout.appendIndex(add as ImageIndex, options);
  }
}

/**
 * `hoist index append [BASE [MANIFEST...]] -m MANIFEST... -t TAG`: an index made of a base
 * index (or an empty one) plus manifests; a local layout path as base is appended to in place.
 */
export const indexAppend: Action = async (context, args, options) => {
  const base = args[0] ?? "";
  const manifests = [...((options.manifest as string[] | undefined) ?? []), ...args.slice(1)];
  const newTag = typeof options.tag === "string" ? options.tag : "";
  const adds = await collectAddenda(context, manifests, options.flatten !== false);

  if (base && isLocalReference(base)) {
    await appendLocal(context, base, adds);
    return;
  }
  let index: ImageIndex;
  let baseRef: Reference | undefined;
  if (!base) {
    if (!newTag)
      throw usageError("at least one of --base or --tag must be specified", "index append");
    context.warn("base unspecified, using empty index");
    index = emptyIndex(
      options.dockerEmptyBase ? { mediaType: MediaType.DOCKER_MANIFEST_LIST } : {},
    );
  } else {
    const found = await remoteIndex(context, base);
    index = found.index;
    baseRef = found.ref;
  }
  const appended = appendManifests(index, adds);
  const digest = String(await appended.digest());
  let target: Reference;
  if (newTag) target = reference(context, newTag);
  else if (baseRef) target = isDigest(baseRef) ? baseRef.repository.digest(digest) : baseRef;
  else throw usageError("no target reference determined", "index append");
  try {
    await (await pusher(context)).writeIndex(target, appended);
  } catch (error) {
    throw wrap(`pushing image ${target.toString()}`, error);
  }
  await context.out(`${digestReference(target, digest)}\n`);
};
