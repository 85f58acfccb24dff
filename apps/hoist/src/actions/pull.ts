import { createLayout } from "@hoist/layout";
import type { Reference } from "@hoist/name";
import { type Image, type ImageIndex, isIndex } from "@hoist/oci";
import { type TarballWriteEntry, writeTarball } from "@hoist/tarball";
import { startLayout } from "../early-layout.js";
import { usageError, context as wrap } from "../errors.js";
import { cachedImage } from "../layer-cache.js";
import type { Action } from "../program.js";
import { createProgress } from "../progress.js";
import { isDigest, puller, reference } from "../remote-support.js";
import { trackedLayers } from "../track-layers.js";

const FORMATS = ["tarball", "legacy", "oci"] as const;

interface Pulled {
  source: string;
  ref: Reference;
  image?: Image;
  index?: ImageIndex;
}

/**
 * `hoist pull IMAGE... PATH`: one or more images into a docker tarball (`--format tarball`,
 * the default), a tarball that also has the pre-1.10 layout (`legacy`), or an OCI image layout
 * (`oci`, created or appended to; an index is kept whole unless --platform is given).
 */
export const pull: Action = async (context, args, options) => {
  if (args.length < 2) {
    throw usageError(`requires at least 2 arg(s), only received ${args.length}`, "pull");
  }
  const format = String(options.format ?? "tarball");
  if (!FORMATS.includes(format as (typeof FORMATS)[number])) {
    throw usageError(
      `unexpected --format: ${JSON.stringify(format)} (valid values are: tarball, legacy, and oci)`,
      "pull",
    );
  }
  const sources = args.slice(0, -1);
  const path = args[args.length - 1] as string;
  const cache =
    typeof options.cache_path === "string" && options.cache_path ? options.cache_path : "";
  const early = format === "oci" ? startLayout(path, { signal: context.signal }) : undefined;

  const pulled: Pulled[] = [];
  try {
    const client = await puller(context);
    const platform = await context.platform();
    for (const source of sources) {
      const ref = reference(context, source);
      const descriptor = await client.get(ref);
      if (format === "oci" && isIndex(descriptor.descriptor.mediaType) && !platform) {
        pulled.push({ source, ref, index: await descriptor.imageIndex() });
        continue;
      }
      let image = await descriptor.image(platform ? { platform } : {});
      if (cache) image = cachedImage(image, cache);
      pulled.push({ source, ref, image });
    }
  } catch (error) {
    await early?.discard();
    throw error;
  }

  const view = await createProgress(context, "pulling");
  if (context.interactive) {
    // On a terminal each layer gets a line as it downloads.
    for (const entry of pulled) {
      if (entry.image) entry.image = trackedLayers(entry.image, view, "downloading").item;
      if (entry.index) entry.index = trackedLayers(entry.index, view, "downloading").item;
    }
  }
  try {
    if (format === "oci") {
      const layout =
        (await early?.layout()) ?? (await createLayout(path, { signal: context.signal }));
      const onProgress = ({
        writtenBytes,
        totalBytes,
      }: {
        writtenBytes: number;
        totalBytes: number;
      }) => view.update({ complete: writtenBytes, total: totalBytes });
      for (const entry of pulled) {
        const annotations = options.annotateRef
          ? { "org.opencontainers.image.ref.name": entry.ref.name }
          : undefined;
        const common = {
          signal: context.signal,
          onProgress,
          ...(annotations ? { annotations } : {}),
        };
        if (entry.index) await layout.appendIndex(entry.index, common);
        else await layout.appendImage(entry.image as Image, common);
      }
      return;
    }
    // Digest references get crane's placeholder tag, so `docker load` still names them.
    const entries: TarballWriteEntry[] = pulled.map((entry) => ({
      image: entry.image as Image,
      refs: [isDigest(entry.ref) ? entry.ref.repository.tag("i-was-a-digest") : entry.ref],
    }));
    try {
      await writeTarball(path, entries, {
        signal: context.signal,
        legacy: format === "legacy",
        onProgress: ({ complete, total }) => view.update({ complete, total: total ?? complete }),
      });
    } catch (error) {
      throw wrap(`saving ${format === "legacy" ? "legacy tarball" : "tarball"} ${path}`, error);
    }
  } finally {
    view.stop();
  }
};
