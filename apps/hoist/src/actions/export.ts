import type { Image } from "@hoist/oci";
import { isSchema1 } from "@hoist/oci";
import { exportImage, openTarball } from "@hoist/tarball";
import type { Context } from "../context.js";
import { context as wrap } from "../errors.js";
import type { Action } from "../program.js";
import { puller, reference } from "../remote-support.js";

/** A schema 1 image as export needs it: its layers, base first. */
async function schema1Image(context: Context, source: string): Promise<Image> {
  const client = await puller(context);
  const ref = reference(context, source);
  const descriptor = await client.get(ref);
  const manifest = descriptor.schema1();
  const layers = await Promise.all(
    manifest.layers.map((digest) => client.layer(ref.repository.digest(String(digest)))),
  );
  return { layers: async () => layers } as unknown as Image;
}

/**
 * `hoist export IMAGE|- [TARBALL|-]`: the image's filesystem, flattened with whiteouts applied,
 * as one tar (stdout by default). `-` as IMAGE reads a docker tarball from stdin.
 */
export const exportAction: Action = async (context, args) => {
  const [source, destination = "-"] = args as [string, string | undefined];
  let image: Image;
  let close = async () => {};
  if (source === "-") {
    try {
      const tarball = await openTarball(context.io.stdin, { signal: context.signal });
      close = () => tarball.close();
      image = await tarball.image({ signal: context.signal });
    } catch (error) {
      throw wrap("reading tarball from stdin", error);
    }
  } else {
    try {
      const descriptor = await (await puller(context)).get(reference(context, source));
      image = isSchema1(descriptor.descriptor.mediaType)
        ? await schema1Image(context, source)
        : await descriptor.image();
    } catch (error) {
      throw wrap(`pulling ${source}`, error);
    }
  }
  try {
    // crane leaves out symlinks that climb out of the root instead of failing on them.
    const common = { signal: context.signal, unsafeSymlinks: "skip" as const };
    if (destination === "-") {
      await exportImage(image, context.io.stdout, { ...common, end: false });
    } else {
      await exportImage(image, destination, common);
    }
  } finally {
    await close();
  }
};
