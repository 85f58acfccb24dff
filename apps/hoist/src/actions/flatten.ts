import type { Repository } from "@hoist/name";
import {
  appendManifests,
  emptyIndex,
  type Image,
  type ImageIndex,
  type IndexAddendum,
  isImage,
  isIndex,
  MediaType,
  setAnnotations,
} from "@hoist/oci";
import type { Pusher } from "@hoist/remote";
import { flatten as flattenImageLayers } from "@hoist/tarball";
import type { Context } from "../context.js";
import { CliError, context as wrap } from "../errors.js";
import type { Action } from "../program.js";
import { digestReference, isDigest, puller, pusher, reference } from "../remote-support.js";

/** One image squashed into one layer, uploaded first so that the new digest is known. */
async function flattenOne(image: Image, repo: Repository, client: Pusher): Promise<Image> {
  const digest = String(await image.digest());
  const flat = await flattenImageLayers(image, { createdBy: `hoist flatten ${digest}` });
  for (const layer of await flat.layers()) await client.writeLayer(repo, layer);
  return flat;
}

async function flattenIndex(
  context: Context,
  index: ImageIndex,
  repo: Repository,
  client: Pusher,
): Promise<ImageIndex> {
  const manifest = await index.indexManifest();
  const adds: IndexAddendum[] = [];
  for (const child of manifest.manifests) {
    // Attestations (platform unknown/unknown) have no filesystem to flatten; crane drops them.
    if (child.platform?.os === "unknown" && child.platform.architecture === "unknown") continue;
    const fields = {
      ...(child.platform ? { platform: child.platform } : {}),
      ...(child.annotations ? { annotations: child.annotations } : {}),
    };
    if (isImage(child.mediaType)) {
      adds.push({
        add: await flattenOne(await index.image(child.digest), repo, client),
        descriptor: fields,
      });
    } else if (isIndex(child.mediaType)) {
      const nested = await flattenIndex(
        context,
        await index.imageIndex(child.digest),
        repo,
        client,
      );
      adds.push({ add: nested, descriptor: fields });
    } else {
      context.warn(`can't flatten ${child.mediaType}, skipping`);
    }
  }
  const mediaType =
    manifest.mediaType === MediaType.DOCKER_MANIFEST_LIST
      ? MediaType.DOCKER_MANIFEST_LIST
      : MediaType.OCI_INDEX;
  let result = appendManifests(emptyIndex({ mediaType }), adds);
  if (manifest.annotations && Object.keys(manifest.annotations).length > 0) {
    result = setAnnotations(result, manifest.annotations);
  }
  return result;
}

/**
 * `hoist flatten IMAGE [-t TAG]`: each image's layers squashed into one; pushed over the
 * original, to `-t`, or by digest when IMAGE is a digest reference. Prints `repo@sha256:…`.
 */
export const flatten: Action = async (context, args, options) => {
  const source = args[0] as string;
  const ref = reference(context, source);
  let target = reference(
    context,
    typeof options.tag === "string" && options.tag ? options.tag : source,
  );
  const repo = target.repository;
  const client = await pusher(context);
  let digest: string;
  try {
    const descriptor = await (await puller(context)).get(ref);
    const mediaType = descriptor.descriptor.mediaType;
    if (isIndex(mediaType)) {
      const flat = await flattenIndex(context, await descriptor.imageIndex(), repo, client);
      digest = String(await flat.digest());
      if (isDigest(ref)) target = repo.digest(digest);
      await client.writeIndex(target, flat);
    } else if (isImage(mediaType)) {
      const flat = await flattenOne(await descriptor.image(), repo, client);
      digest = String(await flat.digest());
      if (isDigest(ref)) target = repo.digest(digest);
      await client.write(target, flat);
    } else {
      throw new CliError(`can't flatten ${mediaType}`, {
        code: "HOIST_CLI_UNSUPPORTED",
        operation: "flatten",
        input: source,
      });
    }
  } catch (error) {
    throw CliError.is(error) ? error : wrap(`flattening ${source}`, error);
  }
  await context.out(`${digestReference(repo, digest)}\n`);
};
