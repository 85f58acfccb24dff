import type { Image } from "@hoist/oci";
import { writeTarball } from "@hoist/tarball";
import type { Context } from "./context.js";
import { context as wrap } from "./errors.js";
import { reference } from "./remote-support.js";

/** `-o PATH` of append and mutate: the image written as a `docker save` tarball tagged `tag`. */
export async function writeOutputTarball(
  context: Context,
  path: string,
  image: Image,
  tag: string,
): Promise<void> {
  try {
    await writeTarball(
      path,
      { image, refs: [reference(context, tag)] },
      { signal: context.signal },
    );
  } catch (error) {
    throw wrap(`writing output "${path}"`, error);
  }
}
