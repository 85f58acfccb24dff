import { emptyImage, type Image, MediaType, setAnnotations } from "@hoist/oci";
import { appendFiles } from "../append-files.js";
import { context as wrap } from "../errors.js";
import { writeOutputTarball } from "../output-tarball.js";
import type { Action } from "../program.js";
import {
  BASE_DIGEST,
  BASE_NAME,
  digestReference,
  isTag,
  puller,
  pusher,
  reference,
  remoteProgress,
} from "../remote-support.js";

/** `hoist append -f LAYER.tar... -t TAG [-b BASE]`: pushes BASE plus one layer per tarball. */
export const append: Action = async (context, _args, options) => {
  const baseRef = typeof options.base === "string" ? options.base : "";
  const newTag = options.new_tag as string;
  const layers = (options.new_layer as string[] | undefined) ?? [];
  let base: Image;
  if (!baseRef) {
    context.warn("base unspecified, using empty image");
    base = emptyImage({
      mediaType: options.ociEmptyBase ? MediaType.OCI_MANIFEST : MediaType.DOCKER_MANIFEST,
    });
  } else {
    try {
      base = await (await puller(context)).image(reference(context, baseRef));
    } catch (error) {
      throw wrap(`pulling ${baseRef}`, error);
    }
  }
  let image: Image;
  try {
    image = await appendFiles(base, layers, { stdin: context.io.stdin, signal: context.signal });
  } catch (error) {
    throw wrap(`appending [${layers.join(" ")}]`, error);
  }
  if (baseRef && options.setBaseImageAnnotations) {
    const ref = reference(context, baseRef);
    const annotations: Record<string, string> = {
      [BASE_DIGEST]: String(await base.digest({ signal: context.signal })),
    };
    if (isTag(ref)) annotations[BASE_NAME] = ref.name;
    image = setAnnotations(image, annotations);
  }

  if (typeof options.output === "string" && options.output) {
    await writeOutputTarball(context, options.output, image, newTag);
    return;
  }
  const ref = reference(context, newTag);
  const { view, onProgress } = await remoteProgress(context, "pushing");
  let digest: string;
  try {
    digest = String((await (await pusher(context)).write(ref, image, { onProgress })).digest);
  } catch (error) {
    throw wrap(`pushing image ${newTag}`, error);
  } finally {
    view.stop();
  }
  await context.out(`${digestReference(ref, digest)}\n`);
};
